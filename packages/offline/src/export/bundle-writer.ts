/**
 * Writes a model bundle folder (spec: docs/bundle-format.md): model.onnx, the extra files (report, feature
 * snapshot), and manifest.json last with the sha256 and size of every file. The folder is assembled under a
 * temporary name and renamed into place, so readers never see half a bundle; it is read back through the SDK's
 * verifier before the call returns.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  BUNDLE_FORMAT_VERSION,
  BundleError,
  isSafeBundleFileName,
  MANIFEST_FILE,
  sha256Hex,
  type BundleManifest,
  type BundleModel,
} from '@lockstep/sdk';
import { readBundle } from '@lockstep/sdk/node';
import type { ModelParams } from '../train/model-params.ts';
import { toOnnx, type OnnxExportOptions } from './onnx-model.ts';

export const MODEL_FILE = 'model.onnx';

/** Everything in the manifest that the writer does not derive itself. */
export type ManifestInput = Omit<BundleManifest, 'format' | 'formatVersion' | 'files' | 'model' | 'createdAt'> & {
  createdAt?: string;
  model?: Partial<Pick<BundleModel, 'negativeSampling'>>;
};

export interface WriteBundleOptions {
  /** The bundle folder to create. */
  dir: string;
  params: ModelParams;
  manifest: ManifestInput;
  /** Extra files by bundle path (report.html, features/<view>.arrow…). */
  files?: Record<string, Uint8Array | string>;
  /** Replace an existing folder. @default false */
  overwrite?: boolean;
  onnx?: OnnxExportOptions;
}

export async function writeBundle(options: WriteBundleOptions): Promise<BundleManifest> {
  const dir = resolve(options.dir);
  const exists = await stat(dir).then(() => true, () => false);
  if (exists && !options.overwrite) throw new BundleError('BUNDLE_INVALID', `bundle folder ${dir} already exists (pass overwrite to replace it)`);
  const { params } = options;

  const contents = new Map<string, Uint8Array>();
  contents.set(MODEL_FILE, toOnnx(params, { producerVersion: options.manifest.lineage.codeVersion, ...options.onnx }));
  for (const [name, data] of Object.entries(options.files ?? {})) {
    if (!isSafeBundleFileName(name) || name === MANIFEST_FILE || name === MODEL_FILE) throw new BundleError('BUNDLE_INVALID', `cannot add a bundle file named "${name}"`);
    contents.set(name, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }
  const files: BundleManifest['files'] = {};
  for (const [name, bytes] of contents) files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.byteLength };

  const { model: modelExtra, createdAt, ...rest } = options.manifest;
  const manifest: BundleManifest = {
    format: 'lockstep-bundle',
    formatVersion: BUNDLE_FORMAT_VERSION,
    ...rest,
    createdAt: createdAt ?? new Date().toISOString(),
    model: {
      family: params.family,
      file: MODEL_FILE,
      indicesInput: 'indices',
      valuesInput: 'values',
      output: 'probability',
      width: params.width,
      dimension: params.dimension,
      ...(params.family === 'fm' ? { factors: params.factors } : {}),
      negativeSampling: modelExtra?.negativeSampling ?? 1,
    },
    files,
  };

  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    for (const [name, bytes] of contents) {
      await mkdir(dirname(join(tmp, name)), { recursive: true });
      await writeFile(join(tmp, name), bytes);
    }
    await writeFile(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // Check what is on disk before it replaces anything.
    await readBundle(tmp);
    if (exists) await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}
