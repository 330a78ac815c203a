/**
 * Where bundles come from: a folder path (Node), a URL served over real HTTP (manifest first, then the model,
 * never the feature snapshot), and a bundle cache keyed by the manifest's checksum that saves the download the
 * second time and is bypassed when its copy is damaged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, sha256Hex, type BundleCache } from '@lockstep/sdk';
import { createScorer } from '@lockstep/sdk/node';
import { scoreFixture, type ScoreFixture } from './support/score-fixture.ts';

let fx: ScoreFixture;
/** What the HTTP server serves under /bundles/ads-ctr/ (a test swaps it to publish another bundle). */
let served: Map<string, Uint8Array>;
let dir: string;
let server: Server;
let base: string;
const requested: string[] = [];
const store = new MemoryStore();

beforeAll(async () => {
  fx = await scoreFixture({ family: 'lr', users: 10, ads: 50, advertisers: 5, categories: 4, candidates: 10 });
  await fx.fill(store);
  served = fx.bundle;
  dir = mkdtempSync(join(tmpdir(), 'lockstep-bundle-'));
  for (const [name, bytes] of fx.bundle) writeFileSync(join(dir, name), bytes);
  // A feature snapshot listed in the manifest would be large: scoring must not read it. The manifest here does
  // not list one, so the server refuses anything but the two files scoring needs.
  server = createServer((req, res) => {
    const name = (req.url ?? '/').replace(/^\/bundles\/ads-ctr\//, '');
    requested.push(name);
    const bytes = served.get(name);
    if (!bytes) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  base = `http://127.0.0.1:${addr.port}/bundles/ads-ctr/`;
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((r) => server.close(r));
});

/** A bundle cache in a Map (the browser entry's is IndexedDB). */
function mapCache(): BundleCache & { data: Map<string, Map<string, Uint8Array>> } {
  const data = new Map<string, Map<string, Uint8Array>>();
  return {
    data,
    get: async (id) => data.get(id),
    set: async (id, files) => void data.set(id, files),
    delete: async (id) => void data.delete(id),
  };
}

describe('bundle sources', () => {
  it('loads from a folder path, from memory and from a URL, all to the same model', async () => {
    const fromPath = await createScorer({ bundle: dir, store });
    const fromMemory = await createScorer({ bundle: fx.bundle, store });
    const fromUrl = await createScorer({ bundle: base, store });
    const id = await sha256Hex(fx.bundle.get('manifest.json')!);
    expect([fromPath.model.id, fromMemory.model.id, fromUrl.model.id]).toEqual([id, id, id]);
    const req = fx.request(1);
    const scores = (await fromMemory.score(req)).scores;
    expect((await fromPath.score(req)).scores).toEqual(scores);
    expect((await fromUrl.score(req)).scores).toEqual(scores);
    await expect(createScorer({ bundle: join(dir, 'nope'), store })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    await expect(createScorer({ bundle: `${base}missing/`, store })).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
  });

  it('caches fetched bundles by manifest checksum and refetches a damaged copy', async () => {
    const cache = mapCache();
    requested.length = 0;
    await createScorer({ bundle: `${base}manifest.json`, store, bundleCache: cache });
    expect(requested).toEqual(['manifest.json', 'model.onnx']);
    const id = await sha256Hex(fx.bundle.get('manifest.json')!);
    expect([...cache.data.keys()]).toEqual([id]);

    requested.length = 0;
    await createScorer({ bundle: base, store, bundleCache: cache });
    expect(requested).toEqual(['manifest.json']);

    const damaged = cache.data.get(id)!.get('model.onnx')!.slice();
    damaged[10] ^= 0xff;
    cache.data.get(id)!.set('model.onnx', damaged);
    requested.length = 0;
    const s = await createScorer({ bundle: base, store, bundleCache: cache });
    expect(requested).toEqual(['manifest.json', 'model.onnx']);
    expect(s.model.id).toBe(id);
  });

  it('swaps to a bundle given by path', async () => {
    const scorer = await createScorer({ bundle: fx.bundle, store });
    const other = await scoreFixture({ family: 'lr', users: 10, ads: 50, advertisers: 5, categories: 4, candidates: 10, seed: 9 });
    const dir2 = mkdtempSync(join(tmpdir(), 'lockstep-bundle-'));
    for (const [name, bytes] of other.bundle) writeFileSync(join(dir2, name), bytes);
    const before = scorer.model.id;
    const info = await scorer.swap(dir2);
    expect(info.id).not.toBe(before);
    expect(scorer.model.id).toBe(await sha256Hex(other.bundle.get('manifest.json')!));
    rmSync(dir2, { recursive: true, force: true });
  });

  it('watches a URL and swaps when the published bundle changes, refusing a damaged one', async () => {
    served = fx.bundle;
    const scorer = await createScorer({ bundle: base, store });
    const swaps: string[] = [];
    const errors: unknown[] = [];
    const watch = scorer.watch({ source: base, intervalMs: 3_600_000, onSwap: (i) => swaps.push(i.id), onError: (e) => errors.push(e) });
    try {
      requested.length = 0;
      expect(await watch.check()).toBeUndefined();
      expect(requested).toEqual(['manifest.json']);

      const next = await scoreFixture({ family: 'lr', users: 10, ads: 50, advertisers: 5, categories: 4, candidates: 10, seed: 13 });
      served = next.bundle;
      const info = await watch.check();
      expect(info?.id).toBe(await sha256Hex(next.bundle.get('manifest.json')!));
      expect(scorer.model.id).toBe(info!.id);
      expect(swaps).toEqual([info!.id]);

      const damaged = new Map(next.bundle);
      const manifest = JSON.parse(new TextDecoder().decode(damaged.get('manifest.json'))) as { createdAt: string };
      manifest.createdAt = '2030-01-01T00:00:00.000Z';
      damaged.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest)));
      const model = damaged.get('model.onnx')!.slice();
      model[model.length - 1] ^= 1;
      damaged.set('model.onnx', model);
      served = damaged;
      expect(await watch.check()).toBeUndefined();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
      expect(scorer.model.id).toBe(info!.id);
    } finally {
      watch.stop();
      served = fx.bundle;
    }
  });
});
