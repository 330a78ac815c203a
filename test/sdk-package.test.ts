/**
 * The built `@lockstep/sdk` package (scripts/build-sdk.ts): compiled to JavaScript, installed into a project outside
 * the workspace, imported by plain Node (no tsx, no loader), it must compute what the TypeScript sources compute:
 * the same vectors, hashes and scores. Also checks what `npm pack` would put in the tarball.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, compileVectorizer, createScorer, murmur3 } from '@lockstep/sdk';
import { EVENT_TIME, INPUT, candidates, makeScorerBundle } from '../packages/sdk/src/scorer/test-fixtures.ts';
import { buildSdk } from '../scripts/build-sdk.ts';

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
let consumer: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lockstep-sdk-package-'));
  out = buildSdk(join(work, 'package'));
  consumer = await consumerProject();
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A project outside the workspace with the built package and its dependencies in node_modules. */
async function consumerProject(): Promise<string> {
  const dir = join(work, 'consumer');
  const link = async (name: string, target: string) => {
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true });
    await symlink(target, join(dir, 'node_modules', name), 'dir');
  };
  // Copied, as npm installs a tarball (a symlink would resolve its imports from the build folder, not from here).
  await cp(out, join(dir, 'node_modules/@lockstep/sdk'), { recursive: true });
  // The dependencies: the workspace's copies, by their real paths (their own dependencies resolve from there).
  const { dependencies } = JSON.parse(await readFile(join(out, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(dependencies)) await link(name, await realpath(join(ROOT, 'node_modules', name)));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await writeFile(join(dir, 'consumer.mjs'), CONSUMER);
  return dir;
}

describe('@lockstep/sdk, built and installed', () => {
  it('imports in plain Node and computes the same vectors, hashes and scores as the sources', async () => {
    const files = await makeScorerBundle();
    const bundleDir = join(work, 'bundle');
    await mkdir(bundleDir);
    for (const [name, bytes] of files) await writeFile(join(bundleDir, name), bytes);
    await writeFile(join(consumer, 'input.json'), JSON.stringify({ spec: INPUT, rows: ROWS, request: REQUEST, bundleDir }));
    // No NODE_OPTIONS: nothing may load TypeScript for it (vitest's workers must not leak a loader into the child).
    const env = { ...process.env, NODE_OPTIONS: '' };
    const { stdout } = await run(process.execPath, ['consumer.mjs', 'input.json'], { cwd: consumer, env });
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
    expect(() => buildSdk(other)).toThrow(/is not empty and is not an earlier @lockstep\/sdk build/);
    expect(await readFile(join(other, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('packs compiled JavaScript and declarations for every entry point, no sources or tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', out], { cwd: work });
    const [{ files }] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const paths = files.map((f) => f.path);
    for (const entry of ['index', 'node', 'node/resp', 'engine/onnxruntime-web', 'browser']) {
      expect(paths).toContain(`${entry}.js`);
      expect(paths).toContain(`${entry}.d.ts`);
    }
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((p) => /test/.test(p))).toEqual([]);
  });
});
