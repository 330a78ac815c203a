/**
 * `npm run build:sdk [-- --out <dir>]`: builds `@lockstep/sdk` as an installable package folder: the sources
 * compiled to JavaScript with type declarations (tsc, packages/sdk/tsconfig.build.json), and a package.json whose
 * `exports` point at them. `npm pack <dir>` then gives the tarball a plain Node 20 project, or any bundler, can
 * install. The workspace's own package.json keeps pointing at the TypeScript sources (tsx, vitest and wrangler run
 * them directly), which is why the published one is written here rather than kept in the repo.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sdk = join(root, 'packages/sdk');

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string>;
  sideEffects?: string[];
  [key: string]: unknown;
}

/** `./src/a/b.ts` → `./a/b.js` (or `.d.ts`): where tsc puts a source file's output. */
function compiled(source: string, ext: '.js' | '.d.ts'): string {
  if (!source.startsWith('./src/') || !source.endsWith('.ts')) throw new Error(`packages/sdk/package.json: export target ${source} is not a ./src/*.ts file`);
  return `./${source.slice('./src/'.length, -'.ts'.length)}${ext}`;
}

/** The published package.json: the workspace's, its exports and side-effect files moved to the compiled output. */
function publishedPackageJson(source: PackageJson): Record<string, unknown> {
  const { devDependencies: _dev, exports, sideEffects, ...rest } = source;
  return {
    ...rest,
    exports: Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, { types: compiled(v, '.d.ts'), default: compiled(v, '.js') }])),
    ...(sideEffects ? { sideEffects: sideEffects.map((f) => compiled(f, '.js')) } : {}),
    engines: { node: '>=20' },
  };
}

/** True when `dir` is absent, empty, or an earlier build (its package.json names the SDK): safe to replace. */
function replaceable(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (readdirSync(dir).length === 0) return true;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === '@lockstep/sdk';
  } catch {
    return false;
  }
}

export function buildSdk(out = join(sdk, 'dist')): string {
  // The folder is emptied first (stale files would be packed): never one that holds something else.
  if (!replaceable(out)) throw new Error(`${out} is not empty and is not an earlier @lockstep/sdk build: choose another --out`);
  rmSync(out, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(sdk, 'tsconfig.build.json'), '--outDir', out], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status}): the SDK did not compile`);
  const pkg = JSON.parse(readFileSync(join(sdk, 'package.json'), 'utf8')) as PackageJson;
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(publishedPackageJson(pkg), null, 2)}\n`);
  cpSync(join(root, 'README.md'), join(out, 'README.md'));
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  try {
    const out = buildSdk(values.out ? resolve(values.out) : undefined);
    console.log(`@lockstep/sdk built into ${out} (npm pack ${out} makes the tarball)`);
  } catch (err) {
    console.error(`build-sdk: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
