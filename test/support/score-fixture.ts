/**
 * A scoring fixture on the real sponsored-ads spec: the 'ads-ctr' model input, views, entity keys and request
 * fields of examples/sponsored-ads/lockstep.config.ts, an LR or FM model with random weights exported by lockstep's
 * own ONNX exporter, plausible feature rows for every entity, and requests of one user × N candidates.
 * Shared by `npm run bench -- score` and the scorer's store tests.
 *
 * ```ts
 * const fx = await scoreFixture({ family: 'fm' });
 * await fx.fill(store);                      // write and publish every row (one version)
 * const scorer = await createScorer({ bundle: fx.bundle, store });
 * await scorer.score(fx.request(0));
 * ```
 */
import { fileURLToPath } from 'node:url';
import {
  BUNDLE_FORMAT_VERSION,
  encodeEntityKey,
  featureKey,
  murmur3,
  sha256Hex,
  type BundleManifest,
  type FeatureViewSpec,
  type KeyPart,
  type OnlineStoreCore,
} from '@lockstep/sdk';
import { findView, loadRepo, servingSpec } from '@lockstep/offline';
import { toOnnx } from '../../packages/offline/src/export/onnx-model.ts';
import type { ModelParams } from '../../packages/offline/src/train/model-params.ts';

export const REPO_PATH = fileURLToPath(new URL('../../examples/sponsored-ads/lockstep.config.ts', import.meta.url));

export interface ScoreFixtureOptions {
  /** @default 'fm' */
  family?: 'lr' | 'fm';
  /** @default 2000 */
  users?: number;
  /** @default 5000 */
  ads?: number;
  /** @default 500 */
  advertisers?: number;
  /** @default 20 */
  categories?: number;
  /** Candidates per request. @default 100 */
  candidates?: number;
  /** FM factors. @default 8 */
  factors?: number;
  /** Event time of every row (epoch ms). @default 30 minutes ago */
  eventTimeMs?: number;
  seed?: number;
}

/** A fixture small enough to ship to a browser page or a Worker as JSON: 5 users, 40 ads, 12 candidates, K = 4. */
export const SMALL_SCORE_FIXTURE = { users: 5, ads: 40, advertisers: 6, categories: 4, candidates: 12, factors: 4 } as const;

export interface ScoreFixture {
  manifest: BundleManifest;
  /** The bundle's files (manifest.json, model.onnx). */
  bundle: Map<string, Uint8Array>;
  onnx: Uint8Array;
  params: ModelParams;
  views: FeatureViewSpec[];
  project: string;
  /** Request `i` (deterministic): one user, `candidates` distinct ads. */
  request(i: number): { user: { user_id: number }; context: { ts: number; device: string; query_category: string }; candidates: Candidate[] };
  /** Writes every row into a new version and publishes it; returns the version. */
  fill(store: OnlineStoreCore): Promise<number>;
  /** Every key `request(i)` reads (deduplicated), for a version: what a hand-written client would MGET. */
  keysOf(request: ReturnType<ScoreFixture['request']>, version: number): Array<{ view: number; key: string }>;
}

export interface Candidate {
  ad_id: number;
  advertiser_id: number;
  ad_category: string;
  position: number;
  bid: number;
}

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export async function scoreFixture(options: ScoreFixtureOptions = {}): Promise<ScoreFixture> {
  const family = options.family ?? 'fm';
  const nUsers = options.users ?? 2000;
  const nAds = options.ads ?? 5000;
  const nAdvertisers = options.advertisers ?? 500;
  const nCategories = options.categories ?? 20;
  const nCandidates = options.candidates ?? 100;
  const eventTimeMs = options.eventTimeMs ?? Math.floor((Date.now() - 30 * 60_000) / 3_600_000) * 3_600_000;
  const random = rng(options.seed ?? 42);

  const repo = await loadRepo(REPO_PATH);
  const model = repo.models['ads-ctr'];
  const views = model.views.map((name) => servingSpec(findView(repo, name)!));
  const input = model.definition.input;
  const width = input.fields.length;
  const dimension = 2 ** input.hashBits;
  const K = options.factors ?? 8;
  const weights = Float32Array.from({ length: dimension }, () => (random() - 0.5) * 0.4);
  const params: ModelParams =
    family === 'lr'
      ? { family, width, dimension, bias: -3.5, weights }
      : { family, width, dimension, bias: -3.5, weights, factors: K, embeddings: Float32Array.from({ length: dimension * K }, () => (random() - 0.5) * 0.1) };
  const onnx = toOnnx(params);
  const manifest: BundleManifest = {
    format: 'lockstep-bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: 'ads-ctr',
    createdAt: new Date(eventTimeMs).toISOString(),
    project: repo.project,
    model: { family, file: 'model.onnx', indicesInput: 'indices', valuesInput: 'values', output: 'probability', width, dimension, ...(family === 'fm' ? { factors: K } : {}) },
    input,
    entityKeys: model.entityKeys,
    featureViews: views,
    requestFields: model.requestFields,
    training: { start: '', end: '', cutoff: '', rows: 0 },
    metrics: {},
    lineage: { trainingSetDigest: 'fixture', codeVersion: 'fixture' },
    files: { 'model.onnx': { sha256: await sha256Hex(onnx), bytes: onnx.byteLength } },
  };
  const bundle = new Map([
    ['manifest.json', new TextEncoder().encode(JSON.stringify(manifest))],
    ['model.onnx', onnx],
  ]);

  const category = (i: number) => `cat_${i % nCategories}`;
  const adAdvertiser = (ad: number) => (ad * 7919) % nAdvertisers;
  const adCategory = (ad: number) => category((ad * 31) % nCategories);

  /** Plausible values for a view's features (counts, rates, timestamps), the same for an entity on every fill. */
  const valuesFor = (view: FeatureViewSpec, entity: KeyPart[]): Array<number | null> => {
    const random = rng(murmur3(`${view.name}|${encodeEntityKey(entity)}`, options.seed ?? 42));
    return view.features.map((f) => {
      if (f.dtype === 'timestamp') return eventTimeMs - Math.floor(random() * 86_400_000);
      if (f.name.startsWith('ctr')) return Math.round(random() * 0.1 * 1e6) / 1e6;
      if (f.name.startsWith('position')) return 1 + Math.round(random() * 80) / 10;
      return Math.floor(random() * (f.name.endsWith('1h') ? 10 : 2000));
    });
  };

  const entitiesOf = (view: FeatureViewSpec): KeyPart[][] => {
    switch (view.entity) {
      case 'user':
        return Array.from({ length: nUsers }, (_, u) => [u]);
      case 'ad':
        return Array.from({ length: nAds }, (_, a) => [a]);
      case 'advertiser':
        return Array.from({ length: nAdvertisers }, (_, a) => [a]);
      default:
        return Array.from({ length: nUsers * nCategories }, (_, i) => [Math.floor(i / nCategories), category(i)]);
    }
  };

  const request = (i: number) => {
    const r = rng(1000 + i);
    const ads = new Set<number>();
    while (ads.size < Math.min(nCandidates, nAds)) ads.add(Math.floor(r() * nAds));
    return {
      user: { user_id: Math.floor(r() * nUsers) },
      context: { ts: eventTimeMs + 30 * 60_000 + i, device: r() < 0.6 ? 'mobile' : 'desktop', query_category: category(Math.floor(r() * nCategories)) },
      candidates: [...ads].map((ad, p): Candidate => ({
        ad_id: ad,
        advertiser_id: adAdvertiser(ad),
        ad_category: adCategory(ad),
        position: p + 1,
        bid: Math.round((0.1 + r() * 2) * 100) / 100,
      })),
    };
  };

  return {
    manifest,
    bundle,
    onnx,
    params,
    views,
    project: repo.project,
    request,
    async fill(store) {
      const version = await store.allocateVersion(repo.project);
      for (const view of views) {
        const rows = entitiesOf(view).map((entity) => ({ entity, eventTimeMs, values: valuesFor(view, entity) }));
        for (let i = 0; i < rows.length; i += 10_000) {
          await store.writeRows(view, rows.slice(i, i + 10_000), { project: repo.project, version, keyExpiry: false });
        }
      }
      await store.publish(views.map((view) => ({ view, version, watermark: { version, asOfMs: eventTimeMs } })), { project: repo.project });
      return version;
    },
    keysOf(req, version) {
      const seen = new Set<string>();
      const out: Array<{ view: number; key: string }> = [];
      views.forEach((view, v) => {
        const names = manifest.entityKeys[view.name];
        for (const c of req.candidates) {
          const row: Record<string, unknown> = { ...req.user, ...req.context, ...c };
          const key = featureKey(repo.project, view, version, names.map((n) => row[n] as KeyPart));
          if (!seen.has(key)) {
            seen.add(key);
            out.push({ view: v, key });
          }
        }
      });
      return out;
    },
  };
}
