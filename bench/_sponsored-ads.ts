/**
 * The generated sponsored-ads data shared by the training benchmarks: generated once per size and seed under
 * `.lockstep/bench/` (git-ignored) and reused, with training sets built through the feature store.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FeatureStore, type TrainingSetResult } from '../packages/offline/src/engine/index.ts';
import { generate, type GenerateManifest } from '../packages/offline/src/generator/index.ts';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const REPO = join(ROOT, 'examples/sponsored-ads/lockstep.config.ts');
export const MODEL = 'ads-ctr';
const DAY = 86_400_000;

export interface SponsoredAds {
  dir: string;
  dataDir: string;
  workDir: string;
  oracle: string;
  manifest: GenerateManifest;
}

/** Generates (or reuses) a data set of `impressions` rows; users, ads and advertisers scale with it. */
export async function sponsoredAds(impressions: number, seed = 42, days = 30): Promise<SponsoredAds> {
  const dir = join(ROOT, '.lockstep/bench', `sponsored-ads-${impressions}-s${seed}-d${days}`);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    console.error(`generating ${impressions.toLocaleString('en-US')} impressions into ${dir}`);
    await generate({
      out: dir,
      impressions,
      users: Math.max(1000, Math.round(impressions / 50)),
      ads: Math.max(100, Math.round(impressions / 2000)),
      advertisers: Math.max(10, Math.round(impressions / 20000)),
      days,
      seed,
    });
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as GenerateManifest;
  return { dir, dataDir: join(dir, 'data'), workDir: join(dir, 'work'), oracle: join(dir, 'oracle/oracle.parquet'), manifest };
}

/** Day boundaries of the generated period (ISO strings). */
export function dayStart(data: SponsoredAds, day: number): string {
  return new Date(Date.parse(data.manifest.time_range.start) + day * DAY).toISOString();
}

/** Builds (or reuses) the model's training set for [start, end) through the feature store. */
export async function trainingSet(data: SponsoredAds, name: string, start: string, end: string): Promise<TrainingSetResult> {
  const fs = await FeatureStore.open(REPO, { dataDir: data.dataDir, workDir: data.workDir });
  try {
    return await fs.buildTrainingSet({ model: MODEL, start, end, out: join(data.workDir, 'sets', `${name}.parquet`) });
  } finally {
    fs.close();
  }
}

/** The model's input spec, request fields and label settings from the repo. */
export async function modelOf() {
  const { loadRepo } = await import('../packages/offline/src/repo/index.ts');
  const repo = await loadRepo(REPO);
  return { repo, model: repo.models[MODEL] };
}
