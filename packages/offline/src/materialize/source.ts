/**
 * Where materialization reads rows from: the latest row per entity of a view as of a time. Implementations read
 * the offline view tables (`view-table-source.ts`), a bundle's feature snapshot (`snapshot-source.ts`) or rows
 * held in memory (benchmarks, tests).
 *
 * @module
 */
import { InputError, type FeatureViewSpec, type KeyPart, type WriteRow } from '@lockstep/sdk';

/** Which rows a run wants. */
export interface RowRange {
  /** Per entity, the row with the greatest event time ≤ this (epoch ms). */
  asOfMs: number;
  /** Incremental runs: only entities whose latest row is newer than this (epoch ms). */
  afterMs?: number;
}

export interface MaterializationSource {
  /** For messages, e.g. `view tables in /data/.lockstep/features`. */
  readonly description: string;
  /** The latest row per entity of `view` in `range`, in batches of any size. */
  rows(view: FeatureViewSpec, range: RowRange): AsyncIterable<readonly WriteRow[]>;
  /** How many rows {@link rows} will yield, when cheap to know (for the progress bar). */
  count?(view: FeatureViewSpec, range: RowRange): Promise<number | undefined>;
  close?(): Promise<void> | void;
}

/** A join-key value from a table cell: strings and integers (bigints beyond 2^53 keep their exact digits). */
export function keyPart(value: unknown, view: string, column: string): KeyPart {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  throw new InputError(`view ${view}: join key ${column} must be a string or an integer, got ${value === null ? 'null' : typeof value} ${String(value)}`, column);
}

/** An event time from a table cell (epoch ms number, bigint or Date). */
export function eventTimeMs(value: unknown, view: string): number {
  const ms = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InputError(`view ${view}: event_time must be a timestamp, got ${String(value)}`, 'event_time');
  return ms;
}

/** A feature value from a table cell: numbers (bigints converted), null for anything absent. */
export function featureValue(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return null;
}

/**
 * A source over rows already in memory (or generated on the fly): `rows[view]` is the latest row per entity, as
 * an array or a function producing batches. `asOfMs` and `afterMs` filter by event time; when several rows of an
 * entity are given, the caller is responsible for passing the latest only.
 */
export function memorySource(
  rows: Record<string, readonly WriteRow[] | (() => AsyncIterable<readonly WriteRow[]> | Iterable<readonly WriteRow[]>)>,
  options: { batchRows?: number; description?: string } = {},
): MaterializationSource {
  const batchRows = options.batchRows ?? 10_000;
  return {
    description: options.description ?? 'rows in memory',
    async *rows(view, range) {
      const given = rows[view.name];
      if (given === undefined) throw new InputError(`no rows given for view ${view.name}`, 'view');
      const batches = typeof given === 'function' ? given() : chunks(given, batchRows);
      for await (const batch of batches) {
        const kept = batch.filter((r) => r.eventTimeMs <= range.asOfMs && (range.afterMs === undefined || r.eventTimeMs > range.afterMs));
        if (kept.length) yield kept;
      }
    },
    async count(view, range) {
      const given = rows[view.name];
      if (typeof given === 'function' || given === undefined) return undefined;
      return given.filter((r) => r.eventTimeMs <= range.asOfMs && (range.afterMs === undefined || r.eventTimeMs > range.afterMs)).length;
    },
  };
}

function* chunks<T>(items: readonly T[], size: number): Iterable<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
