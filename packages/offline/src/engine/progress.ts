/** Progress reporting of long engine steps, for CLI bars and logs. */

export interface ProgressEvent {
  /** The step: building a view table, computing labels, the point-in-time join, writing output. */
  step: 'view' | 'labels' | 'join' | 'write' | 'latest';
  /** What the step works on: a view name, an output path. */
  name: string;
  /** Fraction done in [0, 1], or -1 while unknown. 1 when the step ends. */
  fraction: number;
  /** True on the step's last event. */
  done: boolean;
  /** On the last event: rows produced, when known. */
  rows?: number;
  /** On the last event: seconds the step took. */
  seconds?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Runs one step, reporting its start, DuckDB's progress while it runs and its end with rows and seconds. */
export async function step<T>(
  listener: ProgressListener | undefined,
  kind: ProgressEvent['step'],
  name: string,
  fn: (onFraction: (fraction: number) => void) => Promise<T>,
  rowsOf?: (value: T) => number | undefined,
): Promise<T> {
  const started = performance.now();
  listener?.({ step: kind, name, fraction: 0, done: false });
  const value = await fn((fraction) => {
    if (fraction < 1) listener?.({ step: kind, name, fraction, done: false });
  });
  const rows = rowsOf?.(value);
  listener?.({ step: kind, name, fraction: 1, done: true, seconds: (performance.now() - started) / 1000, ...(rows === undefined ? {} : { rows }) });
  return value;
}
