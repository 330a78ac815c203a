/**
 * The size of the SDK core as an application would ship it: `src/index.ts` (scorer, built-in evaluator, stores'
 * core, MemoryStore, UpstashStore) bundled by esbuild, minified, ESM, for browsers and Workers, then gzipped.
 * onnxruntime-web is not part of it (a separate entry point, imported only on demand). Shared by the size test
 * and `npm run bench -- score`.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface CoreSize {
  /** Minified bytes. */
  minified: number;
  /** gzip -9 of the minified bundle. */
  gzip: number;
  /** Bytes per input file in the minified output (largest first), to see what a change added. */
  inputs: Array<{ path: string; bytes: number }>;
}

/** Bundles an SDK entry (default: the core) and measures it; `external` packages are left out. */
export async function measureCoreSize(entry = '../src/index.ts', external: string[] = []): Promise<CoreSize> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.entries(result.metafile.outputs).flatMap(([, o]) =>
    Object.entries(o.inputs).map(([path, i]) => ({ path, bytes: i.bytesInOutput })),
  );
  inputs.sort((a, b) => b.bytes - a.bytes);
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, inputs };
}
