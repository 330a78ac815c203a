/**
 * Metric values on the wire and on disk. JSON has no NaN or Infinity: MLflow's clients send them as the strings
 * "NaN", "Infinity", "-Infinity" (a bare NaN token is stored as 0.0 and drops the rest of the batch), and servers
 * answer NaN as "NaN" and ±Infinity as ±1.7976931348623157e308. The local store writes them the same way.
 */
import type { Metric } from './types.ts';

export type WireMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export function encodeMetricValue(value: number): WireMetricValue {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

/** Numbers pass; "NaN", "Infinity", "-Infinity" and numeric strings (MLflow accepts "0.5") become numbers. */
export function decodeMetricValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  const n = typeof value === 'string' ? Number(value) : Number.NaN;
  return n;
}

/** MLflow's "latest" value of a metric: highest step, then latest timestamp, then highest value. */
export function isLater(a: Metric, b: Metric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value || (Number.isNaN(b.value) && !Number.isNaN(a.value));
}

export function latestOf(history: Metric[]): Metric | undefined {
  let latest: Metric | undefined;
  for (const m of history) if (latest === undefined || isLater(m, latest)) latest = m;
  return latest;
}
