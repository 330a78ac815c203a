/**
 * Time options of the CLI (`--start`, `--train-end`, `--as-of` …), checked when the command line is parsed, by
 * the engine's own rule ({@link toEpochMs}), with a message in the command line's terms: the API's ("a Date, an
 * ISO-8601 time or epoch milliseconds") names forms a command line cannot give.
 */
import { InvalidArgumentError } from 'commander';
import { toEpochMs } from '../engine/time.ts';

/**
 * A commander argument parser for a time option. The text is kept as given (the command passes it on); only its
 * validity is checked here. `epochMs`: plain digits are epoch milliseconds too.
 */
export function timeArgument(options: { epochMs?: boolean } = {}): (value: string) => string {
  return (value) => {
    try {
      toEpochMs(options.epochMs && /^\d+$/.test(value) ? Number(value) : value, 'time');
    } catch {
      throw new InvalidArgumentError(
        `expected an ISO-8601 time, UTC unless it names a zone (e.g. 2026-01-08, 2026-01-08T12:30:00, 2026-01-08T12:30:00+01:00)${options.epochMs ? ' or epoch milliseconds' : ''}`,
      );
    }
    return value;
  };
}
