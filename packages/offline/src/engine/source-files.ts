/**
 * Source files: where each source's file is, what columns it really has, and a fingerprint of its contents'
 * identity (paths, sizes, modification times) so built view tables know when they are stale.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { DefinitionError, InputError } from '@lockstep/sdk';
import { validateRepo, type ColumnType, type ResolvedRepo, type SourceDefinition } from '../repo/index.ts';
import type { DuckDBExecutor } from './duckdb/executor.ts';
import type { SqlDialect } from './sql/dialect.ts';

/** The absolute path (or glob) of a source. */
export function sourcePath(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dataDir, path);
}

/** The sources the repo's views and labels read (dimension-only sources are not required to exist). */
export function usedSources(repo: ResolvedRepo): string[] {
  return [...new Set([repo.labels.source, repo.labels.events, ...repo.views.map((v) => v.source)])];
}

/** Maps a DuckDB type name to the repo's column types. */
export function columnTypeOf(duckdbType: string): ColumnType {
  const t = duckdbType.toUpperCase();
  if (t.startsWith('TIMESTAMP') || t === 'DATE') return 'timestamp';
  if (t === 'BOOLEAN') return 'boolean';
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT)$/.test(t)) return 'integer';
  if (/^(BIGINT|HUGEINT|UINTEGER|UBIGINT|UHUGEINT)$/.test(t)) return 'bigint';
  if (/^(FLOAT|DOUBLE|REAL|DECIMAL)/.test(t)) return 'double';
  return 'string';
}

const FAMILY: Record<ColumnType, string> = {
  integer: 'number',
  bigint: 'number',
  double: 'number',
  string: 'string',
  timestamp: 'timestamp',
  boolean: 'boolean',
};

/**
 * Reads the real columns of every used source, checks declared columns against them, and re-validates the repo with
 * the real columns filled in where none were declared, so every column reference is checked against the files.
 * Throws an InputError for a missing file and a DefinitionError listing every mismatch.
 */
export async function checkSources(
  repo: ResolvedRepo,
  dataDir: string,
  executor: DuckDBExecutor,
  dialect: SqlDialect,
): Promise<ResolvedRepo> {
  const issues: string[] = [];
  const sources: Record<string, SourceDefinition> = { ...repo.definition.sources };
  for (const name of usedSources(repo)) {
    const src = repo.sources[name];
    const path = sourcePath(dataDir, src.path);
    let columns;
    try {
      columns = await executor.describe(dialect.scan(path, src.format));
    } catch (err) {
      throw new InputError(`source "${name}": cannot read ${path}: ${(err as Error).message.split('\n')[0]}`, name, { cause: err });
    }
    const actual = Object.fromEntries(columns.map((c) => [c.name, columnTypeOf(c.type)])) as Record<string, ColumnType>;
    for (const [col, declared] of Object.entries(src.columns ?? {})) {
      const real = actual[col];
      if (real === undefined) issues.push(`sources.${name}.columns.${col}: declared, but ${path} has no such column`);
      else if (FAMILY[real] !== FAMILY[declared]) issues.push(`sources.${name}.columns.${col}: declared ${declared}, but ${path} has ${real}`);
    }
    sources[name] = { ...repo.definition.sources[name], columns: { ...actual, ...(src.columns ?? {}) } };
  }
  if (issues.length) throw new DefinitionError(issues);
  const checked = validateRepo({ ...repo.definition, sources });
  // Keep the definition as written (without the columns filled in from the files).
  return { ...checked, definition: repo.definition };
}

/** Identity of a source's files: path, size and mtime of each file the path or glob matches. */
export async function sourceFingerprint(dataDir: string, path: string, executor: DuckDBExecutor, dialect: SqlDialect): Promise<string[]> {
  const full = sourcePath(dataDir, path);
  const files = /[*?[]/.test(full)
    ? (await executor.rows<{ file: string }>(`SELECT file FROM glob(${dialect.string(full)}) ORDER BY file`)).map((r) => r.file)
    : [full];
  const out: string[] = [];
  for (const f of files) {
    const s = await stat(f).catch(() => undefined);
    out.push(s ? `${f}:${s.size}:${Math.round(s.mtimeMs)}` : `${f}:missing`);
  }
  return out;
}
