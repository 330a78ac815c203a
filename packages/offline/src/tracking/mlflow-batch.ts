/**
 * Split a log-batch into requests MLflow accepts: at most 1000 metrics, 100 params, 100 tags, 1000 items in all
 * and 1 MB of body per request (the server refuses anything over, see the recorded 1001-metric answer).
 * Params go first, then tags, then metrics, as MLflow's own client does, and order within each kind is kept, so
 * metric histories arrive in the order they were logged.
 */
import { encodeMetricValue, type WireMetricValue } from './metric-values.ts';
import { MLFLOW_LIMITS, type LogBatch } from './types.ts';

export interface WireKeyValue {
  key: string;
  value: string;
}

export interface WireMetric {
  key: string;
  value: WireMetricValue;
  timestamp: number;
  step?: number;
}

/** The JSON body of one `runs/log-batch` request. */
export interface WireLogBatch {
  run_id: string;
  metrics?: WireMetric[];
  params?: WireKeyValue[];
  tags?: WireKeyValue[];
}

/** Limits of one request; the defaults are MLflow's. */
export interface BatchLimits {
  /** @default 1000 */
  maxMetrics: number;
  /** @default 100 */
  maxParams: number;
  /** @default 100 */
  maxTags: number;
  /** @default 1000 */
  maxItems: number;
  /** Bytes of the JSON body. @default 1000000 */
  maxBytes: number;
}

export const MLFLOW_BATCH_LIMITS: BatchLimits = {
  maxMetrics: MLFLOW_LIMITS.maxMetricsPerBatch,
  maxParams: MLFLOW_LIMITS.maxParamsPerBatch,
  maxTags: MLFLOW_LIMITS.maxTagsPerBatch,
  maxItems: MLFLOW_LIMITS.maxItemsPerBatch,
  maxBytes: MLFLOW_LIMITS.maxBatchBytes,
};

const encoder = new TextEncoder();
const byteLength = (value: unknown): number => encoder.encode(JSON.stringify(value)).length;

/** Encode a batch for the wire (NaN and ±Infinity as MLflow's strings) and split it to respect `limits`. */
export function splitLogBatch(runId: string, batch: LogBatch, limits: BatchLimits = MLFLOW_BATCH_LIMITS): WireLogBatch[] {
  type Kind = 'params' | 'tags' | 'metrics';
  const items: Array<{ kind: Kind; item: WireKeyValue | WireMetric }> = [
    ...(batch.params ?? []).map((p) => ({ kind: 'params' as const, item: { key: p.key, value: p.value } })),
    ...(batch.tags ?? []).map((t) => ({ kind: 'tags' as const, item: { key: t.key, value: t.value } })),
    ...(batch.metrics ?? []).map((m) => ({
      kind: 'metrics' as const,
      item: {
        key: m.key,
        value: encodeMetricValue(m.value),
        timestamp: m.timestamp,
        ...(m.step === undefined ? {} : { step: m.step }),
      } satisfies WireMetric,
    })),
  ];
  const max: Record<Kind, number> = { params: limits.maxParams, tags: limits.maxTags, metrics: limits.maxMetrics };
  // Bytes of the envelope with all three arrays present (the worst case), so every chunk stays under the limit.
  const envelope = byteLength({ run_id: runId, metrics: [], params: [], tags: [] });
  const chunks: WireLogBatch[] = [];
  let chunk: WireLogBatch = { run_id: runId };
  let count = { params: 0, tags: 0, metrics: 0 };
  let bytes = envelope;
  for (const { kind, item } of items) {
    const size = byteLength(item) + 1;
    if (envelope + size > limits.maxBytes) {
      throw new RangeError(`one ${kind.slice(0, -1)} (key "${item.key}") is larger than a whole log-batch request (${limits.maxBytes} bytes)`);
    }
    const total = count.params + count.tags + count.metrics;
    if (count[kind] >= max[kind] || total >= limits.maxItems || bytes + size > limits.maxBytes) {
      chunks.push(chunk);
      chunk = { run_id: runId };
      count = { params: 0, tags: 0, metrics: 0 };
      bytes = envelope;
    }
    ((chunk[kind] ??= []) as Array<typeof item>).push(item);
    count[kind]++;
    bytes += size;
  }
  if (count.params + count.tags + count.metrics > 0) chunks.push(chunk);
  return chunks;
}
