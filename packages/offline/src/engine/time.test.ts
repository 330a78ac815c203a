import { describe, expect, it } from 'vitest';
import { toEpochMs } from './time.ts';

describe('toEpochMs', () => {
  it('reads ISO-8601 dates and times as UTC when they carry no zone', () => {
    expect(toEpochMs('2026-01-08', 'start')).toBe(Date.UTC(2026, 0, 8));
    expect(toEpochMs('2026-01-30T23:00', 'end')).toBe(Date.UTC(2026, 0, 30, 23));
    expect(toEpochMs('2026-01-30T23:00:00+01:00', 'end')).toBe(Date.UTC(2026, 0, 30, 22));
    expect(toEpochMs('2024-02-29', 'start')).toBe(Date.UTC(2024, 1, 29));
    expect(toEpochMs(1_000, 'start')).toBe(1_000);
  });

  it('refuses days that do not exist instead of rolling them into the next month', () => {
    // Date.parse('2026-02-30') is March 2 in V8: a window would silently move.
    for (const bad of ['2026-02-30', '2026-02-29', '2026-04-31T10:00', '2026-13-01', '2026-00-10', 'yesterday']) {
      expect(() => toEpochMs(bad, 'start'), bad).toThrow(/start must be a Date, an ISO-8601 time/);
    }
  });
});

describe('toEpochMs outside ISO-8601', () => {
  it('refuses text Date.parse would read in its own way (and in the local time zone), and epochs no Date holds', () => {
    // Date.parse: 'Jan 5' → 2001-01-05, '1 2' → 2001-01-02, '-5' → 2001-05-01, 'Jan 1 2026' local midnight.
    for (const bad of ['Jan 5', '1 2', '-5', 'Jan 1 2026', '2026/01/08', '08.01.2026', '2026-01-08T12', '2026-01-08 junk']) {
      expect(() => toEpochMs(bad, 'as-of'), bad).toThrow(/as-of must be a Date, an ISO-8601 time or epoch milliseconds/);
    }
    for (const bad of [1e20, -1e16, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => toEpochMs(bad, 'as-of'), String(bad)).toThrow(/as-of must be/);
    // The forms that stay: a space for the T, seconds and fractions optional, Z or an offset with or without a colon.
    expect(toEpochMs('2026-01-08 12:30', 'as-of')).toBe(Date.UTC(2026, 0, 8, 12, 30));
    expect(toEpochMs('2026-01-08T12:30:05.250Z', 'as-of')).toBe(Date.UTC(2026, 0, 8, 12, 30, 5, 250));
    expect(toEpochMs('2026-01-08T12:30:00+0100', 'as-of')).toBe(Date.UTC(2026, 0, 8, 11, 30));
    expect(toEpochMs(' 2026-01-08 ', 'as-of')).toBe(Date.UTC(2026, 0, 8));
  });
});
