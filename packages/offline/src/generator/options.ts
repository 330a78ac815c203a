/** The generator's options: defaults, validation, and the typed error for bad input. */
import { z } from 'zod';
import { InputError } from '@lockstep/sdk';

export interface GenerateOptions {
  /** Output directory. `data/`, `oracle/` and `manifest.json` are written inside it (created if missing; existing files are replaced). */
  out: string;
  /**
   * Number of impressions (rows of impressions.parquet).
   * @default 10_000_000
   */
  impressions?: number;
  /**
   * Number of users.
   * @default 200_000
   */
  users?: number;
  /**
   * Number of ads.
   * @default 5_000
   */
  ads?: number;
  /**
   * Number of advertisers (each gets at least one ad while there are ads to go round).
   * @default 500
   */
  advertisers?: number;
  /**
   * Length of the simulated period in days.
   * @default 30
   */
  days?: number;
  /**
   * First day of the period, `YYYY-MM-DD`, UTC midnight.
   * @default '2026-01-01'
   */
  start?: string;
  /**
   * Seed: the same seed and options give the same files, byte for byte.
   * @default 42
   */
  seed?: number;
  /** Called as work advances (after each simulated day, and around each file written). */
  onProgress?: (progress: GenerateProgress) => void;
}

export interface GenerateProgress {
  phase: 'world' | 'impressions' | 'writing' | 'done';
  /** Impressions simulated so far. */
  done: number;
  total: number;
  /** While writing: the file being written, relative to `out`. */
  file?: string;
}

export const GENERATE_DEFAULTS = {
  impressions: 10_000_000,
  users: 200_000,
  ads: 5_000,
  advertisers: 500,
  days: 30,
  start: '2026-01-01',
  seed: 42,
} as const;

const count = (max: number) => z.number().int().min(1).max(max);

const schema = z.object({
  out: z.string().min(1),
  // int32 ids: impression_id, user_id and ad_id must fit.
  impressions: count(2 ** 31 - 1),
  // The dense user × category affinity matrix takes 64 bytes a user.
  users: count(10_000_000),
  ads: count(10_000_000),
  advertisers: count(1_000_000),
  days: count(3660),
  start: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
    .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a valid date'),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export type ResolvedOptions = z.infer<typeof schema>;

/** Fill defaults and validate; throws InputError naming the first offending option. */
export function resolveOptions(options: GenerateOptions): ResolvedOptions {
  const { onProgress: _ignored, ...rest } = options;
  const merged = { ...GENERATE_DEFAULTS, ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? '');
    throw new InputError(`generate: invalid option "${field}": ${issue.message} (got ${JSON.stringify(merged[field as keyof typeof merged])})`, field);
  }
  return parsed.data;
}
