/** Tiny shared argument reader for benchmarks: `--name value` pairs and `--flag` booleans. */
import { parseArgs } from 'node:util';

export function benchArgs<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(
  argv: string[],
  options: T,
) {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
}

/** Median of a list of numbers (the machine is shared and noisy: report medians over repeats). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) of a list of numbers, nearest-rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
