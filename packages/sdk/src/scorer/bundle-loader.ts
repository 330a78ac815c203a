/**
 * Where a scorer's bundle comes from: files in memory, a reader function, an already verified bundle, or a URL
 * (manifest.json is fetched first, then each needed file relative to it). Every path ends in {@link verifyBundle}:
 * a bundle is used exactly as it was written or refused. Only the files scoring needs are read (the model, not the
 * feature snapshot). `@lockstep/sdk/node` adds folder paths and `@lockstep/sdk/browser` an IndexedDB cache.
 */
import { BundleError } from '../errors.ts';
import { MANIFEST_FILE, type BundleSource, type VerifiedBundle, parseManifest, sha256Hex, verifyBundle } from '../bundle/verify.ts';

/** A bundle as `createScorer` and `swap` accept it. */
export type ScorerBundle = BundleSource | VerifiedBundle | URL | string;

/** A store for fetched bundles, keyed by the manifest's sha256 (e.g. IndexedDB in browsers). */
export interface BundleCache {
  get(id: string): Promise<Map<string, Uint8Array> | undefined>;
  set(id: string, files: Map<string, Uint8Array>): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface LoadBundleOptions {
  /** The fetch used for URLs. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Keeps fetched bundles by manifest checksum, so an unchanged bundle is not downloaded again. */
  cache?: BundleCache;
}

/** A verified bundle and its identity (sha256 of manifest.json). */
export interface LoadedBundle extends VerifiedBundle {
  id: string;
}

/** Turns any bundle source into a verified bundle holding the manifest and the model file. */
export async function loadBundle(source: ScorerBundle, options: LoadBundleOptions = {}): Promise<LoadedBundle> {
  if (typeof source === 'string' || source instanceof URL) return loadFromUrl(String(source), options);
  if (isVerified(source)) {
    // Already verified by the caller (e.g. readBundle): its manifest is re-serialised only to derive an id.
    const id = await sha256Hex(new TextEncoder().encode(JSON.stringify(source.manifest)));
    return { ...source, id };
  }
  const read = toReader(source);
  const manifestBytes = await read(MANIFEST_FILE).catch(() => undefined);
  // Without a readable manifest verifyBundle reads it again and reports the problem.
  const verified = await verifyBundle((name) => (name === MANIFEST_FILE && manifestBytes ? Promise.resolve(manifestBytes) : read(name)), {
    only: manifestBytes ? scoringFiles(manifestBytes) : undefined,
  });
  return { ...verified, id: await sha256Hex(manifestBytes!) };
}

/**
 * The files scoring needs: just the model, not the feature snapshot. An unparsable manifest gives undefined so
 * that verifyBundle reports the problem.
 */
export function scoringFiles(manifestBytes: Uint8Array): string[] | undefined {
  try {
    return [parseManifest(manifestBytes).model.file];
  } catch {
    return undefined;
  }
}

function isVerified(x: unknown): x is VerifiedBundle {
  return typeof x === 'object' && x !== null && 'manifest' in x && (x as VerifiedBundle).files instanceof Map;
}

function toReader(source: BundleSource): (name: string) => Promise<Uint8Array | undefined> {
  if (typeof source === 'function') return source;
  if (source instanceof Map) return async (name) => source.get(name);
  const rec = source as Readonly<Record<string, Uint8Array>>;
  return async (name) => (Object.hasOwn(rec, name) ? rec[name] : undefined);
}

async function loadFromUrl(url: string, options: LoadBundleOptions): Promise<LoadedBundle> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const manifestUrl = url.endsWith('/') ? `${url}${MANIFEST_FILE}` : url;
  const get = async (u: string): Promise<Uint8Array> => {
    let res: Response;
    try {
      res = await doFetch(u);
    } catch (cause) {
      throw new BundleError('BUNDLE_INVALID', `cannot fetch bundle file ${u}: ${(cause as Error)?.message ?? cause}`, { cause });
    }
    if (!res.ok) throw new BundleError('BUNDLE_INVALID', `fetching bundle file ${u} answered ${res.status}`, { details: { url: u, status: res.status } });
    return new Uint8Array(await res.arrayBuffer());
  };
  const manifestBytes = await get(manifestUrl);
  const id = await sha256Hex(manifestBytes);
  const only = scoringFiles(manifestBytes) ?? [];

  const cached = await options.cache?.get(id).catch(() => undefined);
  if (cached) {
    try {
      const verified = await verifyBundle(async (name) => (name === MANIFEST_FILE ? manifestBytes : cached.get(name)), { only });
      return { ...verified, id };
    } catch {
      // A damaged cache entry is dropped and the bundle fetched again.
      await options.cache!.delete(id).catch(() => {});
    }
  }
  const files = new Map<string, Uint8Array>();
  await Promise.all(only.map(async (name) => files.set(name, await get(new URL(name, new URL(manifestUrl, base())).href))));
  const verified = await verifyBundle(async (name) => (name === MANIFEST_FILE ? manifestBytes : files.get(name)), { only });
  await options.cache?.set(id, files).catch(() => {});
  return { ...verified, id };
}

/** A base for relative bundle URLs: the page's location in browsers, none elsewhere. */
function base(): string | undefined {
  return (globalThis as { location?: { href: string } }).location?.href;
}
