/**
 * Reading a model bundle safely: the manifest is parsed and checked, every file it lists is read and its size and
 * sha256 compared, so a bundle either loads exactly as it was written or fails with a {@link BundleError} naming
 * the problem. Runtime-agnostic (WebCrypto only): the Node folder reader, the edge worker and the browser all
 * verify through this one function.
 */
import { BundleError, DefinitionError, excerpt } from '../errors.ts';
import { validateModelInputSpec } from '../spec/model-input.ts';
import { BUNDLE_FORMAT_VERSION, type BundleManifest } from './manifest.ts';

/** The manifest's file name inside a bundle. */
export const MANIFEST_FILE = 'manifest.json';

/**
 * Where a bundle's bytes come from: a map or record of file name → bytes (a bundle held in memory, e.g. fetched),
 * or a reader that returns a file's bytes and rejects (or answers undefined) when the file is absent.
 */
export type BundleSource =
  | ReadonlyMap<string, Uint8Array>
  | Readonly<Record<string, Uint8Array>>
  | ((name: string) => Promise<Uint8Array | undefined>);

/** A verified bundle: the manifest and the bytes of every file it lists (manifest.json excluded). */
export interface VerifiedBundle {
  manifest: BundleManifest;
  files: Map<string, Uint8Array>;
}

export interface VerifyBundleOptions {
  /**
   * Files to load and check; the others listed in the manifest are not read (e.g. skip `features.arrow` on a
   * scoring-only edge worker). Every name given must be listed in the manifest.
   * @default every file in `manifest.files`
   */
  only?: readonly string[];
}

/** The lowercase hex sha256 of some bytes (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (let i = 0; i < digest.length; i++) hex += digest[i].toString(16).padStart(2, '0');
  return hex;
}

/**
 * A file name a bundle may hold: relative, forward slashes, no `.`/`..` segments, no NUL. Readers join it onto a
 * folder, so anything else could escape the bundle.
 */
export function isSafeBundleFileName(name: string): boolean {
  if (!name || name.includes('\\') || name.includes('\0') || name.startsWith('/')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * Reads and verifies a bundle. Throws a {@link BundleError}:
 * - `BUNDLE_INVALID`: manifest.json or a listed file is missing, the manifest is not JSON or lacks a required part,
 *   its input spec is invalid, or a file's size differs from the manifest;
 * - `UNSUPPORTED_VERSION`: `formatVersion` is not {@link BUNDLE_FORMAT_VERSION};
 * - `CHECKSUM_MISMATCH`: a file's sha256 differs from the manifest (the file is named).
 */
export async function verifyBundle(source: BundleSource, options: VerifyBundleOptions = {}): Promise<VerifiedBundle> {
  const read = toReader(source);
  const manifestBytes = await readRequired(read, MANIFEST_FILE);
  const manifest = parseManifest(manifestBytes);

  const names = options.only ?? Object.keys(manifest.files);
  const files = new Map<string, Uint8Array>();
  for (const name of names) {
    const expected = manifest.files[name];
    if (!expected) throw new BundleError('BUNDLE_INVALID', `bundle file "${name}" is not listed in ${MANIFEST_FILE}`);
    const bytes = await readRequired(read, name);
    if (bytes.byteLength !== expected.bytes) {
      throw new BundleError(
        'BUNDLE_INVALID',
        `bundle file "${name}" is ${bytes.byteLength} bytes, ${MANIFEST_FILE} says ${expected.bytes}`,
        { details: { file: name } },
      );
    }
    const actual = await sha256Hex(bytes);
    if (actual !== expected.sha256) {
      throw new BundleError('CHECKSUM_MISMATCH', `bundle file "${name}" has sha256 ${actual}, ${MANIFEST_FILE} says ${expected.sha256}`, {
        details: { file: name, expected: expected.sha256, actual },
      });
    }
    files.set(name, bytes);
  }
  return { manifest, files };
}

/**
 * Parses and checks a manifest (format, version, required parts, file names, input spec). Checksums are not
 * checked here: {@link verifyBundle} does that.
 */
export function parseManifest(bytes: Uint8Array | string): BundleManifest {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} is not valid JSON: ${excerpt(text, 80)}`, { cause });
  }
  if (!isObject(doc) || doc.format !== 'lockstep-bundle') {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} is not a lockstep bundle manifest (format must be "lockstep-bundle")`);
  }
  // The version is checked before anything else about the shape: a newer format may shape things differently.
  if (doc.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw new BundleError(
      'UNSUPPORTED_VERSION',
      `bundle format version ${JSON.stringify(doc.formatVersion)} is not supported (this SDK reads version ${BUNDLE_FORMAT_VERSION})`,
      { details: { formatVersion: doc.formatVersion, supported: BUNDLE_FORMAT_VERSION } },
    );
  }

  const problems: string[] = [];
  if (typeof doc.name !== 'string' || !doc.name) problems.push('name must be a non-empty string');
  if (!isObject(doc.model)) problems.push('model is required');
  else {
    const m = doc.model;
    if (m.family !== 'lr' && m.family !== 'fm') problems.push(`model.family must be "lr" or "fm", got ${JSON.stringify(m.family)}`);
    if (typeof m.file !== 'string') problems.push('model.file must be a string');
    if (!Number.isInteger(m.width) || (m.width as number) < 1) problems.push('model.width must be a positive integer');
    if (!Number.isInteger(m.dimension) || (m.dimension as number) < 1) problems.push('model.dimension must be a positive integer');
  }
  if (!isObject(doc.input)) problems.push('input (the model input spec) is required');
  if (!Array.isArray(doc.featureViews)) problems.push('featureViews must be an array');
  if (!isObject(doc.entityKeys)) problems.push('entityKeys must be an object');
  if (!isObject(doc.files)) problems.push('files must be an object');
  else {
    for (const [name, entry] of Object.entries(doc.files)) {
      if (!isSafeBundleFileName(name) || name === MANIFEST_FILE) problems.push(`files: "${name}" is not an allowed file name`);
      if (!isObject(entry) || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256) || !Number.isInteger(entry.bytes)) {
        problems.push(`files["${name}"] must be {sha256: 64 hex characters, bytes: integer}`);
      }
    }
    if (isObject(doc.model) && typeof doc.model.file === 'string' && !(doc.model.file in doc.files)) {
      problems.push(`model.file "${doc.model.file}" is not listed in files`);
    }
    if (doc.snapshot !== undefined) {
      const views = isObject(doc.snapshot) && isObject(doc.snapshot.views) ? doc.snapshot.views : undefined;
      if (!views) problems.push('snapshot must be {asOf, views: {<view>: {file, rows}}}');
      for (const [view, entry] of Object.entries(views ?? {})) {
        if (!isObject(entry) || typeof entry.file !== 'string' || !(entry.file in doc.files)) {
          problems.push(`snapshot.views.${view}.file is not listed in files`);
        }
      }
    }
  }
  if (problems.length) throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} is invalid:\n  - ${problems.join('\n  - ')}`);

  const manifest = doc as unknown as BundleManifest;
  try {
    validateModelInputSpec(manifest.input);
  } catch (cause) {
    const issues = cause instanceof DefinitionError ? cause.issues.join('; ') : String(cause);
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE} has an invalid input spec: ${issues}`, { cause });
  }
  if (manifest.input.fields.length !== manifest.model.width) {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE}: model.width ${manifest.model.width} ≠ ${manifest.input.fields.length} input fields`);
  }
  if (2 ** manifest.input.hashBits !== manifest.model.dimension) {
    throw new BundleError('BUNDLE_INVALID', `${MANIFEST_FILE}: model.dimension ${manifest.model.dimension} ≠ 2^hashBits (${2 ** manifest.input.hashBits})`);
  }
  return manifest;
}

function toReader(source: BundleSource): (name: string) => Promise<Uint8Array | undefined> {
  if (typeof source === 'function') return source;
  if (source instanceof Map) return async (name) => source.get(name);
  const record = source as Readonly<Record<string, Uint8Array>>;
  return async (name) => (Object.hasOwn(record, name) ? record[name] : undefined);
}

async function readRequired(read: (name: string) => Promise<Uint8Array | undefined>, name: string): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await read(name);
  } catch (cause) {
    if (cause instanceof BundleError) throw cause;
    throw new BundleError('BUNDLE_INVALID', `bundle file "${name}" is missing or unreadable`, { cause, details: { file: name } });
  }
  if (!bytes) throw new BundleError('BUNDLE_INVALID', `bundle file "${name}" is missing`, { details: { file: name } });
  return bytes;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
