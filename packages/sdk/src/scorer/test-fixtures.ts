/**
 * Test fixture (not exported from the package): a small sponsored-ads bundle in memory (user, ad, advertiser and
 * user × category views; an LR or FM model written by the engine's test ONNX writer) and a MemoryStore filled
 * with rows for it.
 */
import { BUNDLE_FORMAT_VERSION, type BundleManifest } from '../bundle/manifest.ts';
import { sha256Hex } from '../bundle/verify.ts';
import { modelGraph, randomModel, writeOnnx } from '../engine/builtin/test-fixtures.ts';
import type { KeyPart } from '../online-format.ts';
import { featureViewSchemaHash, type FeatureViewSpec } from '../spec/feature-view.ts';
import type { ModelInputSpec } from '../spec/model-input.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { OnlineStore } from '../store/types.ts';

export const PROJECT = 'demo';
export const HOUR = 3_600_000;

function view(name: string, entity: string, joinKeys: string[], features: Array<[string, number | null]>, ttlHours: number): FeatureViewSpec {
  const spec = {
    name,
    entity,
    joinKeys,
    features: features.map(([n, d]) => ({ name: n, dtype: 'float64' as const, default: d })),
    ttlSeconds: ttlHours * 3600,
    lagSeconds: 0,
    intervalSeconds: 3600,
  };
  return { ...spec, schemaHash: featureViewSchemaHash(spec) };
}

export const VIEWS = {
  user: view('user_stats', 'user', ['user_id'], [['clicks_7d', 0], ['ctr_7d', null]], 48),
  ad: view('ad_stats', 'ad', ['ad_id'], [['ctr_7d', 0.01], ['impressions_7d', 0]], 48),
  advertiser: view('advertiser_stats', 'advertiser', ['advertiser_id'], [['ctr_30d', 0.02]], 48),
  userCategory: view('user_category', 'user_category', ['user_id', 'category'], [['clicks_30d', 0]], 48),
};

export const INPUT: ModelInputSpec = {
  hashSeed: 0,
  hashBits: 12,
  fields: [
    { name: 'device', inputs: ['device'], encoding: { type: 'categorical' } },
    { name: 'hour', inputs: ['ts'], derive: 'hour_of_day', encoding: { type: 'categorical' } },
    { name: 'ad', inputs: ['ad_id'], encoding: { type: 'categorical' } },
    { name: 'category', inputs: ['category'], encoding: { type: 'categorical' } },
    { name: 'device_x_category', inputs: ['device', 'category'], encoding: { type: 'categorical' } },
    { name: 'user_clicks', inputs: ['user_stats__clicks_7d'], encoding: { type: 'log_bucket' } },
    { name: 'user_ctr', inputs: ['user_stats__ctr_7d'], encoding: { type: 'numeric', scale: 10 } },
    { name: 'ad_ctr', inputs: ['ad_stats__ctr_7d'], encoding: { type: 'bucketize', boundaries: [0.005, 0.01, 0.02, 0.05] } },
    { name: 'ad_imps', inputs: ['ad_stats__impressions_7d'], encoding: { type: 'numeric', transform: 'log1p' } },
    { name: 'adv_ctr', inputs: ['advertiser_stats__ctr_30d'], encoding: { type: 'numeric', scale: 10 } },
    { name: 'uc_clicks', inputs: ['user_category__clicks_30d'], encoding: { type: 'log_bucket' } },
  ],
};

export interface FixtureOptions {
  family?: 'lr' | 'fm';
  seed?: number;
  name?: string;
  /** Replace the ONNX bytes (e.g. with a graph only onnxruntime-web runs). */
  onnx?: Uint8Array;
  /** Replace the model input spec (same width). */
  input?: ModelInputSpec;
  /** Request fields declared besides the fixture's own. */
  extraRequestFields?: BundleManifest['requestFields'];
}

/** A bundle for the fixture's spec, as a Map of files. */
export async function makeScorerBundle(options: FixtureOptions = {}): Promise<Map<string, Uint8Array>> {
  const width = INPUT.fields.length;
  const model = randomModel(1 << INPUT.hashBits, width, options.family === 'fm' ? 4 : undefined, options.seed ?? 7);
  const onnx = options.onnx ?? writeOnnx(modelGraph(model));
  const views = Object.values(VIEWS);
  const manifest: BundleManifest = {
    format: 'lockstep-bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: options.name ?? 'ads-ctr',
    createdAt: '2026-01-01T00:00:00.000Z',
    project: PROJECT,
    model: { family: options.family ?? 'lr', file: 'model.onnx', indicesInput: 'indices', valuesInput: 'values', output: 'probability', width, dimension: 1 << INPUT.hashBits },
    input: options.input ?? INPUT,
    entityKeys: { user_stats: ['user_id'], ad_stats: ['ad_id'], advertiser_stats: ['advertiser_id'], user_category: ['user_id', 'category'] },
    featureViews: views,
    requestFields: [
      { name: 'user_id', type: 'number', scope: 'user' },
      { name: 'device', type: 'string', scope: 'context' },
      { name: 'ad_id', type: 'number', scope: 'candidate' },
      { name: 'advertiser_id', type: 'number', scope: 'candidate' },
      { name: 'category', type: 'string', scope: 'candidate' },
      ...(options.extraRequestFields ?? []),
    ],
    training: { start: '2026-01-01', end: '2026-01-02', cutoff: '2026-01-02', rows: 1 },
    metrics: {},
    lineage: { trainingSetDigest: 'x', codeVersion: 'y' },
    files: { 'model.onnx': { sha256: await sha256Hex(onnx), bytes: onnx.byteLength } },
  };
  return new Map([
    ['manifest.json', new TextEncoder().encode(JSON.stringify(manifest))],
    ['model.onnx', onnx],
  ]);
}

/** Event time of every fixture row: 10:00 on 2026-01-02 (UTC). */
export const EVENT_TIME = Date.UTC(2026, 0, 2, 10);

/** Writes rows for users 1-3, ads 1-200 (advertiser = ad % 20, category = `c${ad % 10}`) and publishes them. */
export async function fillStore(store: OnlineStore & { allocateVersion(p: string): Promise<number> }, eventTimeMs = EVENT_TIME): Promise<void> {
  const version = await store.allocateVersion(PROJECT);
  const write = (v: FeatureViewSpec, rows: Array<[readonly KeyPart[], Array<number | null>]>) =>
    store.writeRows(v, rows.map(([entity, values]) => ({ entity, eventTimeMs, values })), { project: PROJECT, version, keyExpiry: false });
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  await write(VIEWS.user, range(1, 3).map((u) => [[u], [u * 3, u === 3 ? null : 0.01 * u]]));
  await write(VIEWS.ad, range(1, 200).map((a) => [[a], [0.001 * (a % 50), a * 10]]));
  await write(VIEWS.advertiser, range(0, 19).map((a) => [[a], [0.002 * a]]));
  await write(VIEWS.userCategory, range(1, 3).flatMap((u) => range(0, 9).map((c): [KeyPart[], number[]] => [[u, `c${c}`], [u + c]])));
  await store.publish(
    Object.values(VIEWS).map((v) => ({ view: v, version, watermark: { version, asOfMs: eventTimeMs } })),
    { project: PROJECT },
  );
}

export function memoryStore(): MemoryStore {
  return new MemoryStore();
}

/** Candidates for ads `ids`. */
export function candidates(ids: number[]) {
  return ids.map((a) => ({ ad_id: a, advertiser_id: a % 20, category: `c${a % 10}`, bid: 0.1 + (a % 7) * 0.05 }));
}
