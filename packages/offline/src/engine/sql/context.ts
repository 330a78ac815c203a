/** What every query generator needs: the dialect, the resolved repo and how to read each source. */
import type { ResolvedRepo } from '../../repo/index.ts';
import type { SqlDialect } from './dialect.ts';

export interface SqlContext {
  dialect: SqlDialect;
  repo: ResolvedRepo;
  /** A relation expression reading a source by name (a scan of its file, or a table already loaded). */
  source(name: string): string;
}

/** Internal column names start with this, so they cannot collide with a user's columns. */
export const INTERNAL = '__ls_';

/**
 * The tick a time belongs to, as SQL over a BIGINT epoch-ms expression: T = floor(t / I) × I + I, the end of the
 * interval [T − I, T) holding t. Written with a non-negative modulo so times before 1970 floor correctly.
 */
export function tickOf(ms: string, intervalMs: number): string {
  return `(${ms} - ((${ms} % ${intervalMs}) + ${intervalMs}) % ${intervalMs} + ${intervalMs})`;
}
