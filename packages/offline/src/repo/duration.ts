/**
 * Durations in feature definitions: an integer and a unit, e.g. `15m`, `1h`, `1d`, `7d` (units: ms, s, m, h, d, w).
 * Windows may also be `all` (every event since the beginning of the data).
 */

/** A duration string such as `'15m'`, `'1h'` or `'7d'`. */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h' | 'd' | 'w'}`;

/** An aggregation window: a duration, or `'all'` for all history before the row's time. */
export type Window = Duration | 'all';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PATTERN = /^(\d+)(ms|s|m|h|d|w)$/;

/** Parses a duration to milliseconds, or returns undefined when the text is not one (callers report the issue). */
export function tryParseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Parses a duration to milliseconds; throws a RangeError naming the text when it is not one. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new RangeError(`"${text}" is not a duration (an integer and one of ms, s, m, h, d, w, e.g. "15m", "7d")`);
  return ms;
}

/** The shortest exact text of a duration in milliseconds (`3600000` → `'1h'`), for messages and generated names. */
export function formatDuration(ms: number): Duration {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
