/** Time arguments of the public API: Dates, ISO-8601 strings or epoch milliseconds. */
import { InputError } from '@lockstep/sdk';

export type TimeInput = Date | string | number;

/** Epoch milliseconds of a time argument; `name` appears in the error for a bad one. Times without a zone are UTC. */
export function toEpochMs(value: TimeInput, name: string): number {
  const text = typeof value === 'string' && /^\d{4}-\d\d-\d\d[T ][\d:.]+$/.test(value.trim()) ? `${value.trim()}Z` : value;
  const ms = text instanceof Date ? text.getTime() : typeof text === 'number' ? text : Date.parse(text);
  if (!Number.isFinite(ms)) throw new InputError(`${name} must be a Date, an ISO-8601 time or epoch milliseconds, got ${String(value)}`, name);
  return Math.trunc(ms);
}
