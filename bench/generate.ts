/**
 * `npm run bench -- generate [--impressions 10000000] [--repeats 1]`: time `lockstep generate` end to
 * end (simulation + Parquet writing + sha256 of every file) into a temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATE_DEFAULTS, generate } from '../packages/offline/src/generator/index.ts';
import { benchArgs, median } from './args.ts';

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const d = GENERATE_DEFAULTS;
  const args = benchArgs(argv, {
    impressions: { type: 'string', default: String(d.impressions) },
    users: { type: 'string', default: String(d.users) },
    ads: { type: 'string', default: String(d.ads) },
    advertisers: { type: 'string', default: String(d.advertisers) },
    days: { type: 'string', default: String(d.days) },
    seed: { type: 'string', default: String(d.seed) },
    repeats: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
  });
  const options = {
    impressions: Number(args.impressions),
    users: Number(args.users),
    ads: Number(args.ads),
    advertisers: Number(args.advertisers),
    days: Number(args.days),
    seed: Number(args.seed),
  };
  const seconds: number[] = [];
  let clicks = 0;
  let bytes = 0;
  for (let r = 0; r < Number(args.repeats); r++) {
    const out = await mkdtemp(join(tmpdir(), 'lockstep-bench-generate-'));
    try {
      const t0 = performance.now();
      const result = await generate({ ...options, out });
      seconds.push((performance.now() - t0) / 1000);
      clicks = result.manifest.rows.clicks;
      bytes = Object.values(result.manifest.files).reduce((s, f) => s + f.bytes, 0);
      console.error(`generate: run ${r + 1}: ${seconds.at(-1)!.toFixed(2)} s → ${out}`);
    } finally {
      if (!args.keep) await rm(out, { recursive: true, force: true });
    }
  }
  const s = median(seconds);
  return {
    bench: 'generate',
    impressions: options.impressions,
    users: options.users,
    ads: options.ads,
    days: options.days,
    repeats: seconds.length,
    seconds: Number(s.toFixed(3)),
    seconds_all: seconds.map((x) => Number(x.toFixed(3))),
    rows_per_s: Math.round(options.impressions / s),
    clicks,
    output_mb: Number((bytes / 1e6).toFixed(1)),
    // maxRSS is in kilobytes: the peak of the whole process, DuckDB's native memory included.
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
