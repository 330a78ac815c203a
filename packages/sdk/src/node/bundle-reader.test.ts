import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleError } from '../errors.ts';
import { makeBundle } from '../bundle/test-fixtures.ts';
import { readBundle } from './bundle-reader.ts';

describe('readBundle (Node folder reader)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lockstep-bundle-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads and verifies a bundle folder, and names what is wrong with a damaged one', async () => {
    const bundle = await makeBundle();
    for (const [name, bytes] of bundle) await writeFile(join(dir, name), bytes);
    const ok = await readBundle(dir);
    expect(ok.files.get('model.onnx')).toEqual(bundle.get('model.onnx'));

    await writeFile(join(dir, 'model.onnx'), new Uint8Array([9, 9, 9, 9, 9]));
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining('model.onnx') });
    await rm(join(dir, 'model.onnx'));
    await expect(readBundle(dir)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('model.onnx') });
  });

  it('refuses a folder that does not exist', async () => {
    await expect(readBundle(join(dir, 'nope'))).rejects.toBeInstanceOf(BundleError);
  });
});
