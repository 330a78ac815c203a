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
