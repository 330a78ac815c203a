import { describe, expect, it } from 'vitest';
import { BundleError } from '../errors.ts';
import type { BundleManifest } from './manifest.ts';
import { makeBundle } from './test-fixtures.ts';
import { parseManifest, sha256Hex, verifyBundle } from './verify.ts';

const enc = new TextEncoder();

async function rejection(p: Promise<unknown>): Promise<BundleError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

describe('verifyBundle', () => {
  it('accepts an intact bundle and returns every listed file', async () => {
    const bundle = await makeBundle();
    const { manifest, files } = await verifyBundle(bundle);
    expect(manifest.name).toBe('ads-ctr');
    expect([...files.keys()].sort()).toEqual(['model.onnx', 'report.html']);
  });

  it('reads through a reader function and a plain record alike', async () => {
    const bundle = await makeBundle();
    await expect(verifyBundle(async (n) => bundle.get(n))).resolves.toBeTruthy();
    await expect(verifyBundle(Object.fromEntries(bundle))).resolves.toBeTruthy();
  });

  it('sha256Hex matches the known digest of "abc"', async () => {
    expect(await sha256Hex(enc.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('names a missing file', async () => {
    const bundle = await makeBundle();
    bundle.delete('report.html');
    const err = await rejection(verifyBundle(bundle));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toContain('report.html');
  });

  it('refuses a bundle without a manifest', async () => {
    const bundle = await makeBundle();
    bundle.delete('manifest.json');
    const err = await rejection(verifyBundle(bundle));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toContain('manifest.json');
  });

  it('names a file whose bytes changed (same size): CHECKSUM_MISMATCH', async () => {
    const bundle = await makeBundle();
    bundle.set('model.onnx', new Uint8Array([1, 2, 3, 4, 6]));
    const err = await rejection(verifyBundle(bundle));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain('model.onnx');
  });

  it('refuses a truncated file', async () => {
    const bundle = await makeBundle();
    bundle.set('model.onnx', new Uint8Array([1, 2, 3]));
    const err = await rejection(verifyBundle(bundle));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toContain('model.onnx');
  });

  it('refuses an unknown format version: UNSUPPORTED_VERSION', async () => {
    const bundle = await makeBundle({ formatVersion: 99 });
    const err = await rejection(verifyBundle(bundle));
    expect(err.code).toBe('UNSUPPORTED_VERSION');
    expect(err.message).toContain('99');
  });

  it('refuses a manifest that is not JSON or not a bundle manifest', async () => {
    expect(() => parseManifest('{oops')).toThrow(BundleError);
    expect(() => parseManifest('{"format":"other"}')).toThrow(/lockstep-bundle/);
  });

  it('refuses file names that could escape the bundle folder', async () => {
    const bundle = await makeBundle();
    const m = JSON.parse(new TextDecoder().decode(bundle.get('manifest.json')!)) as BundleManifest;
    m.files['../secret'] = m.files['report.html'];
    bundle.set('manifest.json', enc.encode(JSON.stringify(m)));
    const err = await rejection(verifyBundle(bundle));
    expect(err.message).toContain('../secret');
  });

  it('refuses a manifest whose input spec does not match the model', async () => {
    const bundle = await makeBundle({ model: { family: 'lr', file: 'model.onnx', indicesInput: 'indices', valuesInput: 'values', output: 'probability', width: 3, dimension: 256 } });
    const err = await rejection(verifyBundle(bundle));
    expect(err.message).toMatch(/width/);
  });

  it('loads only the files asked for', async () => {
    const bundle = await makeBundle();
    bundle.delete('report.html');
    const { files } = await verifyBundle(bundle, { only: ['model.onnx'] });
    expect([...files.keys()]).toEqual(['model.onnx']);
  });
});

describe('parseManifest: snapshot', () => {
  it('refuses a snapshot view whose file is not listed', async () => {
    const bundle = await makeBundle({ snapshot: { asOf: '2026-01-01T00:00:00.000Z', views: { user_stats: { file: 'features/user_stats.arrow', rows: 3 } } } });
    const err = await rejection(verifyBundle(bundle));
    expect(err.message).toContain('snapshot.views.user_stats.file');
  });
});
