/** Time arguments of the public API: Dates, ISO-8601 strings or epoch milliseconds. */
import { InputError } from '@lockstep/sdk';

export type TimeInput = Date | string | number;

/**
 * The ISO-8601 forms a time string may take: a day, or a day and a time (seconds and fraction optional), with an
 * optional zone. Anything else is refused rather than left to Date.parse, which reads "Jan 5" as 2001-01-05 in the
 * machine's time zone.
 */
const ISO_TIME = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)?(?:Z|[+-]\d\d:?\d\d)?$/i;

/** The largest |epoch ms| a Date holds (±100,000,000 days). */
const MAX_EPOCH_MS = 8.64e15;

/** Epoch milliseconds of a time argument; `name` appears in the error for a bad one. Times without a zone are UTC. */
export function toEpochMs(value: TimeInput, name: string): number {
  const trimmed = typeof value === 'string' ? value.trim() : undefined;
  const text = trimmed !== undefined && /^\d{4}-\d\d-\d\d[T ][\d:.]+$/.test(trimmed) ? `${trimmed}Z` : (trimmed ?? value);
  const ms = text instanceof Date ? text.getTime() : typeof text === 'number' ? text : ISO_TIME.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EPOCH_MS || (typeof text === 'string' && !isCalendarDate(text))) {
    throw new InputError(`${name} must be a Date, an ISO-8601 time or epoch milliseconds, got ${String(value)}`, name);
  }
  return Math.trunc(ms);
}

/**
 * Whether a string's leading YYYY-MM-DD is a real day. Needed because V8's Date.parse rolls impossible days over
 * (`2026-02-30` parses as March 2), which would silently move a window.
 */
function isCalendarDate(text: string): boolean {
  const m = /^\s*(\d{4})-(\d\d)-(\d\d)/.exec(text);
  if (!m) return true;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth;
}
