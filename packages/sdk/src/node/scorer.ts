/**
 * The scorer for Node: the core `createScorer`, plus bundles from folder paths (verified by the bundle reader)
 * and onnxruntime-web as the fallback engine.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from '../errors.ts';
import { sha256Hex, MANIFEST_FILE } from '../bundle/verify.ts';
import { onnxruntimeWebBackend } from '../engine/onnxruntime-web.ts';
import { registerBackend } from '../engine/registry.ts';
import { loadBundle, scoringFiles, type LoadedBundle, type ScorerBundle } from '../scorer/bundle-loader.ts';
import { createScorer as createCoreScorer, type CreateScorerOptions, type Scorer } from '../scorer/scorer.ts';
import { readBundle } from './bundle-reader.ts';

// In Node, onnxruntime-web (an optional peer dependency) is the fallback for graphs the built-in evaluator does
// not run. If it is not installed, its init fails and the registry says so in the error listing every backend.
registerBackend(onnxruntimeWebBackend(), 10);

/** A scorer bundle in Node: anything the core accepts, or a bundle folder path. */
export type NodeScorerBundle = ScorerBundle;

const isUrl = (s: string) => /^(https?|file|data|blob):/i.test(s);

/**
 * Loads a bundle: a string that is not a URL is a bundle folder (manifest.json and the model are read and
 * verified; the feature snapshot is not read). Everything else goes to the core loader.
 */
export async function loadNodeBundle(source: NodeScorerBundle, options: Pick<CreateScorerOptions, 'fetch' | 'bundleCache'> = {}): Promise<LoadedBundle> {
  if (typeof source !== 'string' || isUrl(source)) return loadBundle(source, { fetch: options.fetch, cache: options.bundleCache });
  let manifestBytes: Uint8Array;
  try {
    manifestBytes = new Uint8Array(await readFile(join(source, MANIFEST_FILE)));
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `cannot read ${join(source, MANIFEST_FILE)}: is "${source}" a bundle folder?`, { cause, details: { dir: source } });
  }
  const verified = await readBundle(source, { only: scoringFiles(manifestBytes) });
  return { ...verified, id: await sha256Hex(manifestBytes) };
}

/** {@link createCoreScorer} with bundle folder paths (`createScorer({ bundle: './bundles/ads-ctr/3', store })`). */
export function createScorer(options: CreateScorerOptions): Promise<Scorer> {
  return createCoreScorer({ ...options, loadBundle: options.loadBundle ?? ((b) => loadNodeBundle(b, options)) });
}
