/** Test fixture (not exported from the package): a small valid bundle in memory. */
import { BUNDLE_FORMAT_VERSION, type BundleManifest } from './manifest.ts';
import { sha256Hex } from './verify.ts';

const enc = new TextEncoder();

/** A small valid bundle in memory: a fake model file and a report. */
export async function makeBundle(overrides: Partial<BundleManifest> = {}): Promise<Map<string, Uint8Array>> {
  const model = new Uint8Array([1, 2, 3, 4, 5]);
  const report = enc.encode('<html></html>');
  const manifest: BundleManifest = {
    format: 'lockstep-bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    name: 'ads-ctr',
    createdAt: '2026-01-01T00:00:00.000Z',
    project: 'demo',
    model: { family: 'lr', file: 'model.onnx', indicesInput: 'indices', valuesInput: 'values', output: 'probability', width: 1, dimension: 256 },
    input: { hashSeed: 0, hashBits: 8, fields: [{ name: 'device', inputs: ['device'], encoding: { type: 'categorical' } }] },
    entityKeys: {},
    featureViews: [],
    requestFields: [{ name: 'device', type: 'string', scope: 'context' }],
    training: { start: 'a', end: 'b', cutoff: 'b', rows: 1 },
    metrics: { auc: 0.5 },
    lineage: { trainingSetDigest: 'x', codeVersion: 'y' },
    files: {
      'model.onnx': { sha256: await sha256Hex(model), bytes: model.byteLength },
      'report.html': { sha256: await sha256Hex(report), bytes: report.byteLength },
    },
    ...overrides,
  };
  return new Map([
    ['manifest.json', enc.encode(JSON.stringify(manifest))],
    ['model.onnx', model],
    ['report.html', report],
  ]);
}
