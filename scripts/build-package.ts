/**
 * `npm run build:sdk [-- --out <dir>]`, `npm run build:offline [-- --out <dir>]`: builds `@lockstep/sdk` or
 * `@lockstep/offline` (the `lockstep` CLI) as an installable package folder: the sources compiled to JavaScript
 * with type declarations (tsc, packages/<name>/tsconfig.build.json), the files they read at run time, and a
 * package.json whose `exports` (and `bin`) point at them. `npm pack <dir>` then gives the tarball a plain Node 20
 * project, or any bundler, can install. The workspace's own package.json files keep pointing at the TypeScript
 * sources (tsx, vitest and wrangler run them directly), which is why the published ones are written here rather
 * than kept in the repo.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What differs between the packages this script builds. */
interface PackagePlan {
  /** The package's folder in the workspace. */
  dir: string;
  /** Files (or folders) the compiled code reads at run time: from (the repository root) → to (the build folder). */
  assets: Array<{ from: string; to: string }>;
  /** Executables to write, by name: the compiled module each one runs. */
  bins: Record<string, string>;
}

const PLANS = {
  sdk: { dir: 'packages/sdk', assets: [], bins: {} },
  offline: {
    dir: 'packages/offline',
    assets: [
      // The UI serves its stylesheet and script from the files beside ui/app.ts.
      { from: 'packages/offline/src/ui/static', to: 'ui/static' },
      // `lockstep init` writes the example feature repo into a new project.
      { from: 'examples/sponsored-ads/lockstep.config.ts', to: 'templates/sponsored-ads/lockstep.config.ts' },
    ],
    bins: { lockstep: './cli/main.js' },
  },
} satisfies Record<string, PackagePlan>;

export type PackageName = keyof typeof PLANS;

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string>;
  sideEffects?: string[];
  [key: string]: unknown;
}

/** `./src/a/b.ts` → `./a/b.js` (or `.d.ts`): where tsc puts a source file's output. */
function compiled(source: string, ext: '.js' | '.d.ts'): string {
  if (!source.startsWith('./src/') || !source.endsWith('.ts')) throw new Error(`package.json: export target ${source} is not a ./src/*.ts file`);
  return `./${source.slice('./src/'.length, -'.ts'.length)}${ext}`;
}

/**
 * The commit the build is made from, as npm publish records it (`gitHead`), and whether tracked files differed
 * from it (`gitDirty`, so that a build from a modified tree does not pass for the commit); none outside a checkout.
 */
function gitState(): { gitHead: string; gitDirty?: true } | undefined {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (git.status !== 0) return undefined;
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return { gitHead: git.stdout.trim(), ...(status.stdout.trim() !== '' ? { gitDirty: true as const } : {}) };
}

/**
 * The published package.json: the workspace's, its exports and side-effect files moved to the compiled output, a
 * `bin` that runs compiled JavaScript, and the commit (`gitHead`, `gitDirty`: bundles written by an installed CLI
 * record it).
 */
function publishedPackageJson(source: PackageJson, plan: PackagePlan): Record<string, unknown> {
  const { devDependencies: _dev, exports, sideEffects, bin: _bin, ...rest } = source;
  return {
    ...rest,
    exports: Object.fromEntries(Object.entries(exports).map(([k, v]) => [k, { types: compiled(v, '.d.ts'), default: compiled(v, '.js') }])),
    ...(sideEffects ? { sideEffects: sideEffects.map((f) => compiled(f, '.js')) } : {}),
    ...(Object.keys(plan.bins).length ? { bin: Object.fromEntries(Object.keys(plan.bins).map((name) => [name, `./bin/${name}.js`])) } : {}),
    engines: { node: '>=20.19' },
    ...gitState(),
  };
}

/** True when `dir` is absent, empty, or an earlier build of `name` (its package.json says so): safe to replace. */
function replaceable(dir: string, name: string): boolean {
  if (!existsSync(dir)) return true;
  if (readdirSync(dir).length === 0) return true;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name;
  } catch {
    return false;
  }
}

/** Builds one package into `out` (default packages/<name>/dist) and returns the folder. */
export function buildPackage(which: PackageName, out?: string): string {
  const plan: PackagePlan = PLANS[which];
  const dir = join(root, plan.dir);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  const target = out ?? join(dir, 'dist');
  // The folder is emptied first (stale files would be packed): never one that holds something else.
  if (!replaceable(target, pkg.name)) throw new Error(`${target} is not empty and is not an earlier ${pkg.name} build: choose another --out`);
  rmSync(target, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json'), '--outDir', target], {
    stdio: 'inherit',
  });
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status}): ${pkg.name} did not compile`);
  for (const { from, to } of plan.assets) cpSync(join(root, from), join(target, to), { recursive: true });
  for (const [name, module] of Object.entries(plan.bins)) {
    const file = join(target, 'bin', `${name}.js`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `#!/usr/bin/env node\nimport '.${module}';\n`);
    chmodSync(file, 0o755);
  }
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(publishedPackageJson(pkg, plan), null, 2)}\n`);
  cpSync(join(root, 'README.md'), join(target, 'README.md'));
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  const [which] = positionals;
  try {
    if (positionals.length !== 1 || !Object.hasOwn(PLANS, which)) throw new Error(`usage: build-package <${Object.keys(PLANS).join('|')}> [--out <dir>]`);
    const out = buildPackage(which as PackageName, values.out ? resolve(values.out) : undefined);
    const { name } = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { name: string };
    console.log(`${name} built into ${out} (npm pack ${out} makes the tarball)`);
  } catch (err) {
    console.error(`build-package: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
