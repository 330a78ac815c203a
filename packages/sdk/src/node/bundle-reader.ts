/**
 * Reading a bundle folder from disk (Node only). Every file goes through {@link verifyBundle}: a bundle loads
 * exactly as it was written or not at all.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from '../errors.ts';
import { isSafeBundleFileName, verifyBundle, type VerifiedBundle, type VerifyBundleOptions } from '../bundle/verify.ts';

/** Reads and verifies the bundle in folder `dir`. Throws a BundleError when it is missing, damaged or unsupported. */
export async function readBundle(dir: string, options: VerifyBundleOptions = {}): Promise<VerifiedBundle> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new BundleError('BUNDLE_INVALID', `bundle folder "${dir}" does not exist or is not a folder`, { details: { dir } });
  }
  return verifyBundle(async (name) => {
    // verifyBundle already refuses unsafe names listed in a manifest; this guards the reader on its own too.
    if (!isSafeBundleFileName(name)) throw new BundleError('BUNDLE_INVALID', `unsafe bundle file name "${name}"`);
    try {
      return new Uint8Array(await readFile(join(dir, name)));
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new BundleError('BUNDLE_INVALID', `cannot read bundle file "${join(dir, name)}"`, { cause, details: { file: name } });
    }
  }, options);
}
