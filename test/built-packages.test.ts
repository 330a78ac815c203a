/**
 * The built packages (scripts/build-package.ts), compiled to JavaScript and installed into a project outside the
 * workspace, must compute what the TypeScript sources compute: `@lockstep/sdk` imported by plain Node (no tsx, no
 * loader) gives the same vectors, hashes and scores; the installed `lockstep` CLI trains the same model, byte for
 * byte, and serves its UI's files. Also checks what `npm pack` would put in each tarball.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, compileVectorizer, createScorer, murmur3 } from '@lockstep/sdk';
import { EVENT_TIME, INPUT, candidates, makeScorerBundle } from '../packages/sdk/src/scorer/test-fixtures.ts';
import { buildPackage } from '../scripts/build-package.ts';
import { generate } from '@lockstep/offline';
import { ModelProto } from '../packages/offline/src/export/onnx-proto.ts';
import { startRedisServer } from './support/redis-server.ts';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Rows that reach every encoding of the fixture's spec, with missing and odd values.
const ROWS = [
  { user_id: 1, device: 'ios', ad_id: 7, advertiser_id: 3, category: 'c7', user_stats__clicks_7d: 3, user_stats__ctr_7d: 0.02, ts: EVENT_TIME },
  { user_id: 2, device: 'android', ad_id: 12, advertiser_id: null, category: 'c2', user_stats__clicks_7d: 0, ts: EVENT_TIME + 3_600_000 },
  { user_id: 3, ad_id: 199, category: '', user_stats__ctr_7d: Number.NaN, ts: EVENT_TIME - 86_400_000 },
];
const REQUEST = { user: { user_id: 1 }, context: { ts: EVENT_TIME, device: 'ios' }, candidates: candidates([1, 2, 3, 11, 12]) };

// What the consumer runs: the public entry points only, as an installed package.
const CONSUMER = `
import { readFile } from 'node:fs/promises';
import { MemoryStore, compileVectorizer, createScorer, murmur3 } from '@lockstep/sdk';
import { readBundle } from '@lockstep/sdk/node';
const { spec, rows, request, bundleDir } = JSON.parse(await readFile(process.argv[2], 'utf8'));
const v = compileVectorizer(spec);
const vectors = rows.map((r) => { const { indices, values } = v.vectorizeOne(r); return [Array.from(indices), Array.from(values)]; });
const verified = await readBundle(bundleDir);
const bundle = new Map([['manifest.json', await readFile(bundleDir + '/manifest.json')], ['model.onnx', await readFile(bundleDir + '/model.onnx')]]);
const scorer = await createScorer({ bundle, store: new MemoryStore(), deadlineMs: Infinity });
const { scores } = await scorer.score(request);
console.log(JSON.stringify({ vectors, hash: murmur3('lockstep', 7), name: verified.manifest.name, scores }));
`;

let work: string;
let out: string;
let offlineOut: string;
let consumer: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lockstep-built-packages-'));
  out = buildPackage('sdk', join(work, 'sdk'));
  offlineOut = buildPackage('offline', join(work, 'offline'));
  consumer = await consumerProject([out, offlineOut]);
}, 120_000);
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * A project outside the workspace with the built packages in node_modules, as `npm install <tarball>` leaves it:
 * the packages copied, their executables linked in node_modules/.bin, their other dependencies present.
 */
async function consumerProject(builds: string[]): Promise<string> {
  const dir = join(work, 'consumer');
  const modules = join(dir, 'node_modules');
  const link = async (name: string, target: string) => {
    await mkdir(dirname(join(modules, name)), { recursive: true });
    await symlink(target, join(modules, name));
  };
  const wanted = new Set<string>();
  for (const build of builds) {
    const pkg = JSON.parse(await readFile(join(build, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; bin?: Record<string, string> };
    // Copied, as npm installs a tarball (a symlink would resolve its imports from the build folder, not from here).
    await cp(build, join(modules, pkg.name), { recursive: true });
    for (const [name, file] of Object.entries(pkg.bin ?? {})) await link(join('.bin', name), join('..', pkg.name, file));
    for (const name of Object.keys(pkg.dependencies)) wanted.add(name);
  }
  // The other dependencies: the workspace's copies, by their real paths (their own dependencies resolve from there).
  for (const name of wanted) if (!name.startsWith('@lockstep/')) await link(name, await realpath(join(ROOT, 'node_modules', name)));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await writeFile(join(dir, 'consumer.mjs'), CONSUMER);
  return dir;
}

/** What `npm pack <dir>` would put in the tarball. */
async function packed(dir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', dir], { cwd: work });
  const [{ files }] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
  return files.map((f) => f.path);
}

/** No TypeScript sources (declarations only) and nothing from tests. */
function expectNoSourcesOrTests(paths: string[]): void {
  // (The one TypeScript file is the feature repo `lockstep init` writes into a project: a template, not a source.)
  expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.startsWith('templates/'))).toEqual([]);
  expect(paths.filter((p) => /\.test\.|test-(support|fixtures)|(^|\/)test\//.test(p))).toEqual([]);
}

// No NODE_OPTIONS in the children: nothing may load TypeScript for them (vitest's workers must not leak a loader).
const PLAIN_ENV = { ...process.env, NODE_OPTIONS: '' };

describe('@lockstep/sdk, built and installed', () => {
  it('imports in plain Node and computes the same vectors, hashes and scores as the sources', async () => {
    const files = await makeScorerBundle();
    const bundleDir = join(work, 'bundle');
    await mkdir(bundleDir);
    for (const [name, bytes] of files) await writeFile(join(bundleDir, name), bytes);
    await writeFile(join(consumer, 'input.json'), JSON.stringify({ spec: INPUT, rows: ROWS, request: REQUEST, bundleDir }));
    const { stdout } = await run(process.execPath, ['consumer.mjs', 'input.json'], { cwd: consumer, env: PLAIN_ENV });
    const got = JSON.parse(stdout) as { vectors: number[][][]; hash: number; name: string; scores: number[] };

    const v = compileVectorizer(INPUT);
    expect(got.vectors).toEqual(ROWS.map((r) => Object.values(v.vectorizeOne(r)).map((a) => Array.from(a))));
    expect(got.hash).toBe(murmur3('lockstep', 7));
    expect(got.name).toBe('ads-ctr');
    const scorer = await createScorer({ bundle: files, store: new MemoryStore(), deadlineMs: Infinity });
    expect(got.scores).toEqual((await scorer.score(REQUEST)).scores);
    expect(got.scores).toHaveLength(5);
  });

  it("gives a TypeScript consumer the package's types (a wrong use is a type error, not any)", async () => {
    const tsc = (file: string) =>
      run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2023,dom', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), file], { cwd: consumer });
    const use = `import { compileVectorizer, type ModelInputSpec } from '@lockstep/sdk';\nimport { readBundle } from '@lockstep/sdk/node';\nconst spec: ModelInputSpec = { hashSeed: 0, hashBits: 12, fields: [{ name: 'a', inputs: ['a'], encoding: { type: 'categorical' } }] };\nexport const width: number = compileVectorizer(spec).width;\nexport const read = readBundle;\n`;
    await writeFile(join(consumer, 'right.ts'), use);
    await tsc('right.ts');
    await writeFile(join(consumer, 'wrong.ts'), `${use}export const bad: number = compileVectorizer(spec).spec;\n`);
    const err = (await tsc('wrong.ts').catch((e: unknown) => e)) as { stdout: string };
    expect(err.stdout).toMatch(/wrong\.ts\(6,\d+\): error TS2322: Type 'ModelInputSpec' is not assignable to type 'number'/);
  });

  it('refuses to empty an --out folder that holds something other than an earlier build, and leaves it as it was', async () => {
    const other = join(work, 'other');
    await mkdir(other);
    await writeFile(join(other, 'keep.txt'), 'mine');
    expect(() => buildPackage('sdk', other)).toThrow(/is not empty and is not an earlier @lockstep\/sdk build/);
    expect(() => buildPackage('offline', out)).toThrow(/is not empty and is not an earlier @lockstep\/offline build/);
    expect(await readFile(join(other, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('packs compiled JavaScript and declarations for every entry point, no sources or tests', async () => {
    const paths = await packed(out);
    for (const entry of ['index', 'node', 'node/resp', 'engine/onnxruntime-web', 'browser']) {
      expect(paths).toContain(`${entry}.js`);
      expect(paths).toContain(`${entry}.d.ts`);
    }
    expectNoSourcesOrTests(paths);
  });
});


/** sha256 of every file under `dir`, by relative path. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out[file.slice(dir.length + 1)] = createHash('sha256').update(await readFile(file)).digest('hex');
  }
  return out;
}

describe('@lockstep/offline (the lockstep CLI), built and installed', () => {
  const lockstep = () => join(consumer, 'node_modules/.bin/lockstep');
  /** The CommonJS project the training test makes, which the verification test reuses. */
  const app = () => join(work, 'app');

  /** The code version the installed CLI prints, and records in bundles. */
  const installedVersion = async () => (await run(lockstep(), ['--version'], { cwd: consumer, env: PLAIN_ENV })).stdout.trim();

  it('prints the version bundles record: the commit the build was made from, as the sources print it', async () => {
    // The build and the sources come from the same working tree here, so they name the same commit (and both say
    // `.dirty` if tracked files were modified); outside a git checkout both print the package version alone.
    const fromSources = (await run(process.execPath, [join(ROOT, 'packages/offline/bin/lockstep.mjs'), '--version'], { cwd: ROOT })).stdout.trim();
    expect(await installedVersion()).toBe(fromSources);
    expect(fromSources).toMatch(/^0\.1\.0(\+[0-9a-f]{12}(\.dirty)?)?$/);
  });

  it("trains, from the feature repo `lockstep init` writes into a CommonJS project, the model the sources train (graph and weights bit for bit)", async () => {
    const gen = join(work, 'gen');
    await generate({ out: gen, impressions: 20_000, users: 400, ads: 60, advertisers: 6, days: 3, start: '2026-01-01', seed: 5 });
    // A project as `npm init -y` leaves it, CommonJS (the consumer above is an ES module package), with the same
    // node_modules. `lockstep init` writes the example repo, whose helpers come from the installed build.
    await mkdir(app());
    await writeFile(join(app(), 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'commonjs' }));
    await symlink(join(consumer, 'node_modules'), join(app(), 'node_modules'));
    const init = await run(lockstep(), ['init'], { cwd: app(), env: PLAIN_ENV });
    expect(init.stdout).toMatch(/npx lockstep generate --out generated /);
    const train = (out: string) => ['train', '--data', join(gen, 'data'), '--work', `${out}-work`, '--model', 'ads-ctr', '--family', 'fm', '--train-start', '2026-01-01',
      '--train-end', '2026-01-03', '--eval-start', '2026-01-03', '--eval-end', '2026-01-04', '--out', out, '--no-progress', '--no-track'];
    await run(lockstep(), train(join(work, 'installed-bundle')), { cwd: app(), env: PLAIN_ENV });
    const sources = [join(ROOT, 'packages/offline/bin/lockstep.mjs'), ...train(join(work, 'source-bundle')), '--repo', join(ROOT, 'examples/sponsored-ads/lockstep.config.ts')];
    await run(process.execPath, sources, { cwd: ROOT });

    const installed = await digests(join(work, 'installed-bundle'));
    const source = await digests(join(work, 'source-bundle'));
    expect(Object.keys(installed).sort()).toEqual(Object.keys(source).sort());
    // The feature snapshot is the same bytes. The manifest and the report differ by when they were written; the
    // model records the code version, which matches here but would not for a build from another tree.
    const differing = ['manifest.json', 'report.html', 'model.onnx'];
    for (const file of Object.keys(source).filter((f) => !differing.includes(f))) expect([file, installed[file]]).toEqual([file, source[file]]);
    expect(Object.keys(source).filter((f) => f.startsWith('features/')).length).toBeGreaterThan(0);
    // The model: the same graph and the same weights, bit for bit; only producer_version names the build.
    // (Compared as re-encoded bytes with producer_version blanked: the weights run to millions of floats.)
    const model = async (dir: string) => {
      const message = ModelProto.decode(await readFile(join(work, dir, 'model.onnx'))) as unknown as { producerVersion: string };
      const producerVersion = message.producerVersion;
      message.producerVersion = '';
      return { producerVersion, rest: createHash('sha256').update(ModelProto.encode(message).finish()).digest('hex') };
    };
    const [fromBuild, fromSources] = [await model('installed-bundle'), await model('source-bundle')];
    const manifest = JSON.parse(await readFile(join(work, 'installed-bundle/manifest.json'), 'utf8')) as { lineage: { codeVersion: string } };
    expect(manifest.lineage.codeVersion).toBe(await installedVersion());
    expect(fromBuild.producerVersion).toBe(manifest.lineage.codeVersion);
    expect(fromBuild.rest).toBe(fromSources.rest);
  }, 60_000);

  it('verifies its bundle against a real redis-server with onnxruntime-web, a dependency, as the reference engine', async (ctx) => {
    // Uses the bundle and generated data of the training test above.
    const redis = await startRedisServer();
    if (!redis) return ctx.skip();
    try {
      const args = ['verify-consistency', '--data', join(work, 'gen/data'), '--work', join(work, 'installed-bundle-work'), '--bundle', join(work, 'installed-bundle'), '--target', redis.url,
        '--eval-start', '2026-01-03', '--eval-end', '2026-01-04', '--limit', '300', '--force', '--no-progress', '--json'];
      const { stdout } = await run(lockstep(), args, { cwd: app(), env: PLAIN_ENV });
      const report = JSON.parse(stdout) as { impressions: number; models: Array<{ reference: string; vectorMismatches: number; scoreMismatches: number }> };
      expect(report.impressions).toBe(300);
      expect(report.models[0]).toMatchObject({ reference: expect.stringMatching(/^onnxruntime-web\//), vectorMismatches: 0, scoreMismatches: 0 });
    } finally {
      await redis.stop();
    }
  }, 60_000);

  it('serves the UI with its stylesheet and script from the installed package', async () => {
    const child = spawn(lockstep(), ['ui', '--port', '0'], { cwd: consumer, env: PLAIN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let seen = '';
        const read = (b: Buffer) => {
          seen += b;
          const m = /open (http:\/\/[\d.:]+)/.exec(seen);
          if (m) resolveUrl(m[1]);
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.on('exit', (code) => reject(new Error(`lockstep ui exited with ${code}: ${seen}`)));
      });
      for (const [file, type] of [['ui.css', 'text/css'], ['ui.js', 'text/javascript']]) {
        const res = await fetch(`${url}/static/${file}`);
        expect([file, res.status, res.headers.get('content-type')]).toEqual([file, 200, `${type}; charset=utf-8`]);
        expect(await res.text()).toBe(await readFile(join(ROOT, 'packages/offline/src/ui/static', file), 'utf8'));
      }
    } finally {
      child.kill();
    }
  });

  it('packs compiled JavaScript, declarations, the executable, the UI files and the init template, no sources or tests', async () => {
    const paths = await packed(offlineOut);
    const files = ['index.js', 'index.d.ts', 'repo/define.js', 'repo/define.d.ts', 'cli/main.js', 'bin/lockstep.js', 'ui/static/ui.css', 'ui/static/ui.js', 'templates/sponsored-ads/lockstep.config.ts', 'package.json'];
    for (const file of files) expect(paths).toContain(file);
    expectNoSourcesOrTests(paths);
  });
});
