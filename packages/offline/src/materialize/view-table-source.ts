/**
 * Materialization from the offline view tables: `<workDir>/features/<view>.parquet` (join keys…, `event_time`,
 * feature columns), as the engine's `buildFeatures` writes them. Per entity, the row with the greatest event time
 * ≤ as-of is taken (the same rule as the engine's latestFeatures), computed once into a temporary table so that
 * counting (for the progress bar) and streaming do not compute it twice.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { InputError, type FeatureViewSpec, type WriteRow } from '@lockstep/sdk';
import { eventTimeMs, featureValue, keyPart, type MaterializationSource, type RowRange } from './source.ts';

/** Options for {@link viewTableSource}. */
export interface ViewTableSourceOptions {
  /**
   * Rows per yielded batch.
   * @default 10000
   */
  batchRows?: number;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
const TIME = '__lockstep_event_ms';

/** The path of a view's offline table under a work directory. */
export function viewTablePath(workDir: string, view: string): string {
  return join(resolve(workDir), 'features', `${view}.parquet`);
}

/** A source reading the view tables under `workDir` with DuckDB (in memory; nothing is written). */
export async function viewTableSource(workDir: string, options: ViewTableSourceOptions = {}): Promise<MaterializationSource> {
  const batchRows = options.batchRows ?? 10_000;
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  const prepared = new Map<string, Promise<{ table: string; rows: number }>>();
  let tables = 0;

  /** The latest rows of a view in a range, as a temporary table (computed once per view and range). */
  function prepare(view: FeatureViewSpec, range: RowRange) {
    const id = `${view.name}|${range.asOfMs}|${range.afterMs ?? ''}`;
    let ready = prepared.get(id);
    if (!ready) {
      ready = (async () => {
        const path = viewTablePath(workDir, view.name);
        if (!existsSync(path)) {
          throw new InputError(`no offline table for view ${view.name} at ${path}: build the view tables first (\`lockstep materialize --data <sources dir>\` or \`lockstep features build\` does; FeatureStore.buildFeatures from code)`, 'view');
        }
        const table = `latest_${++tables}`;
        const keys = view.joinKeys.map(ident).join(', ');
        const features = view.features.map((f) => `CAST(${ident(f.name)} AS DOUBLE) AS ${ident(f.name)}`).join(', ');
        const latest = [
          `SELECT ${keys}, epoch_ms(${ident('event_time')}) AS ${TIME}${features ? `, ${features}` : ''}`,
          `FROM read_parquet(${literal(path)})`,
          `WHERE epoch_ms(${ident('event_time')}) <= ${Math.floor(range.asOfMs)}`,
          `QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${ident('event_time')} DESC) = 1`,
        ].join('\n');
        const changed = range.afterMs === undefined ? '' : ` WHERE ${TIME} > ${Math.floor(range.afterMs)}`;
        try {
          await connection.run(`CREATE TEMP TABLE ${table} AS SELECT * FROM (${latest})${changed}`);
        } catch (cause) {
          throw new InputError(`cannot read the offline table of view ${view.name} (${path}): ${(cause as Error).message}`, 'view', { cause });
        }
        const count = await connection.runAndReadAll(`SELECT count(*) FROM ${table}`);
        return { table, rows: Number(count.getColumns()[0][0]) };
      })();
      prepared.set(id, ready);
    }
    return ready;
  }

  return {
    description: `view tables in ${join(resolve(workDir), 'features')}`,
    async count(view, range) {
      return (await prepare(view, range)).rows;
    },
    async *rows(view, range) {
      const { table } = await prepare(view, range);
      const k = view.joinKeys.length;
      const width = view.features.length;
      const result = await connection.stream(`SELECT * FROM ${table}`);
      let batch: WriteRow[] = [];
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const columns = chunk.getColumns();
        for (let r = 0; r < chunk.rowCount; r++) {
          const entity = new Array(k);
          for (let c = 0; c < k; c++) entity[c] = keyPart(columns[c][r], view.name, view.joinKeys[c]);
          const values = new Array<number | null>(width);
          for (let f = 0; f < width; f++) values[f] = featureValue(columns[k + 1 + f][r]);
          batch.push({ entity, eventTimeMs: eventTimeMs(columns[k][r], view.name), values });
          if (batch.length >= batchRows) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length) yield batch;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
