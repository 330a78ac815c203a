/**
 * Time options of the CLI (`--start`, `--train-end`, `--as-of` …), checked when the command line is parsed, by
 * the engine's own rule ({@link toEpochMs}), with a message in the command line's terms: the API's ("a Date, an
 * ISO-8601 time or epoch milliseconds") names forms a command line cannot give.
 */
import { InvalidArgumentError } from 'commander';
import { toEpochMs } from '../engine/time.ts';

/** A time option's text as epoch milliseconds, by the engine's rule; `epochMs`: plain digits are epoch milliseconds. */
export function cliTimeMs(value: string, options: { epochMs?: boolean } = {}): number {
  return toEpochMs(options.epochMs && /^\d+$/.test(value) ? Number(value) : value, 'time');
}

/**
 * A commander argument parser for a time option. The text is kept as given (the command passes it on, or reads it
 * with {@link cliTimeMs}); only its validity is checked here.
 */
export function timeArgument(options: { epochMs?: boolean } = {}): (value: string) => string {
  return (value) => {
    try {
      cliTimeMs(value, options);
    } catch {
      throw new InvalidArgumentError(
        `expected an ISO-8601 time, UTC unless it names a zone (e.g. 2026-01-08, 2026-01-08T12:30:00, 2026-01-08T12:30:00+01:00)${options.epochMs ? ' or epoch milliseconds' : ''}`,
      );
    }
    return value;
  };
}
