import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, InputError } from '@lockstep/sdk';
import { testRepo } from '../engine/test-support/fixtures.ts';
import { formatDuration, parseDuration, tryParseDuration, type Duration } from './duration.ts';
import { loadRepo } from './load.ts';
import { servingSpec } from './serving-spec.ts';
import type { RepoDefinition } from './types.ts';
import { validateRepo } from './validate.ts';

/** The issues a definition is rejected with. */
function issuesOf(def: unknown): string[] {
  try {
    validateRepo(def as RepoDefinition);
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as DefinitionError).code).toBe('INVALID_DEFINITION');
    return (err as DefinitionError).issues;
  }
  throw new Error('expected the definition to be rejected');
}

/** A fresh copy of the test repo, changed by `edit`. */
function edited(edit: (r: RepoDefinition) => void): RepoDefinition {
  const r = structuredClone(testRepo());
  edit(r);
  return r;
}

describe('durations', () => {
  it('parses integers with a unit and formats them back', () => {
    expect(['250ms', '30s', '15m', '1h', '1d', '2w'].map(parseDuration)).toEqual([250, 30_000, 900_000, 3_600_000, 86_400_000, 1_209_600_000]);
    expect(['1.5h', 'h', '1 h', '-1h', '1y', '', 3].map(tryParseDuration)).toEqual(Array(7).fill(undefined));
    expect(() => parseDuration('soon')).toThrow('"soon" is not a duration');
    expect([900_000, 3_600_000, 86_400_000 * 7, 1500].map(formatDuration)).toEqual(['15m', '1h', '1w', '1500ms']);
  });
});

describe('validateRepo', () => {
  it('resolves a valid repo: one feature per aggregation and window, defaults, dtypes, milliseconds', () => {
    const repo = validateRepo(testRepo());
    const u = repo.views[0];
    expect([u.intervalMs, u.ttlMs, u.lagMs, u.usesLabels]).toEqual([3_600_000, 5 * 3_600_000, 900_000, true]);
    expect(u.features.map((f) => [f.name, f.dtype, f.default, f.windowMs])).toEqual([
      ['n_1h', 'int64', 0, 3_600_000],
      ['n_3h', 'int64', 0, 10_800_000],
      ['n_all', 'int64', 0, null],
      ['clicks_2h', 'int64', 0, 7_200_000],
      ['ctr_3h', 'float64', 0.1, 10_800_000],
      ['bid_sum_2h', 'float64', 0, 7_200_000],
      ['bid_mean_1h', 'float64', null, 3_600_000],
      ['bid_mean_all', 'float64', null, null],
      ['clicked_bid_3h', 'float64', -1, 10_800_000],
      ['seen_3h', 'timestamp', null, 10_800_000],
      ['clicked_all', 'timestamp', null, null],
    ]);
    expect(repo.views[2].keyColumns).toEqual(['user_id', 'ad_category']);
    expect(repo.views[2].joinKeys).toEqual(['user_id', 'category']);
    expect(repo.models.m.views).toEqual(['u', 'a', 'uc']);
    expect(repo.models.m.entityKeys).toEqual({ u: ['user_id'], a: ['ad_id'], uc: ['user_id', 'ad_category'] });
  });

  it('derives the serving spec with the SDK schema hash', () => {
    const spec = servingSpec(validateRepo(testRepo()).views[1]);
    expect(spec).toEqual({
      name: 'a',
      entity: 'ad',
      joinKeys: ['ad_id'],
      features: [
        { name: 'n_30m', dtype: 'int64', default: -5 },
        { name: 'n_2h', dtype: 'int64', default: -5 },
        { name: 'ctr_1h', dtype: 'float64', default: 0.05 },
      ],
      ttlSeconds: 7200,
      lagSeconds: 0,
      intervalSeconds: 1800,
      schemaHash: spec.schemaHash,
    });
    expect(spec.schemaHash).toMatch(/^[0-9a-f]{8}$/);
  });

  it('reports shape problems with their paths, naming array elements by name', () => {
    expect(
      issuesOf(
        edited((r) => {
          (r.views[0] as unknown as Record<string, unknown>).ttls = '1h';
          delete (r.views[1] as Partial<typeof r.views[1]>).interval;
          (r.views[2].aggregations[0] as unknown as Record<string, unknown>).fn = 'median';
          (r.labels as unknown as Record<string, unknown>).window = 3600;
        }),
      ),
    ).toEqual([
      'labels.window: Invalid input: expected string, received number',
      'views.u: Unrecognized key: "ttls"',
      'views.a.interval: Invalid input: expected string, received undefined',
      "views.uc.aggregations.n.fn: Invalid discriminator value. Expected 'count' | 'sum' | 'mean' | 'ctr' | 'last_seen'",
    ]);
  });

  it('lists every reference and rule problem at once, each with its path', () => {
    const def = edited((r) => {
      r.project = 'my project';
      r.sources.impressions.columns = { impression_id: 'integer', ts: 'timestamp', user_id: 'integer', ad_id: 'integer', ad_category: 'string', bid: 'string' };
      r.sources.clicks.timestampField = undefined;
      r.views[0].entity = 'person';
      r.views[0].interval = '1x' as Duration;
      r.views[1].source = 'nowhere';
      r.views[1].ttl = '0s';
      r.views[2].keys = ['user_id'];
      r.views[2].lag = '2d';
      r.views[2].aggregations.push({ fn: 'count', name: 'n', windows: ['90m', '1d'] });
      r.views.push({ ...structuredClone(r.views[1]), source: 'impressions', ttl: '1h', aggregations: [{ fn: 'sum', name: 's', column: 'bid', windows: ['1h'] }, { fn: 'mean', name: 'm', column: 'price', windows: ['1h'] }, { fn: 'ctr', name: 'c', prior: 2, strength: -1, windows: ['1h'] }] });
    });
    expect(issuesOf(def)).toEqual([
      'project: "my project" may only contain letters, digits, "_" and "-"',
      'labels.events: source "clicks" has no timestampField, so it has no events in time',
      'views.u.entity: unknown entity "person" (entities: user, ad, user_category)',
      'views.u.interval: "1x" is not a duration (an integer and one of ms, s, m, h, d, w, e.g. "15m", "7d")',
      'views.u.aggregations.bid_sum.column: sum needs a numeric column, "bid" is string',
      'views.u.aggregations.bid_mean.column: mean needs a numeric column, "bid" is string',
      'views.u.aggregations.clicked_bid.column: mean needs a numeric column, "bid" is string',
      'views.a.source: unknown source "nowhere" (sources: impressions, clicks)',
      'views.a.ttl: must be longer than 0',
      'views.a.aggregations.ctr: ctr needs the view\'s source to be the labelled source "impressions", not "nowhere"',
      'views.uc.keys: entity "user_category" has 2 join key(s) (user_id, category) but 1 key column(s) are given',
      'views.uc.ttl: ttl 1d must be longer than lag 2d, or no row would ever be fresh',
      'views.uc.aggregations.n.windows[0]: window "90m" is not a multiple of the view\'s interval "1h"',
      'views.uc.aggregations.n.windows[1]: duplicate feature name "n_1d"',
      'views[3]: duplicate view name "a"',
      'views.a.aggregations.s.column: sum needs a numeric column, "bid" is string',
      'views.a.aggregations.m.column: source "impressions" has no column "price" (it has impression_id, ts, user_id, ad_id, ad_category, bid)',
      'views.a.aggregations.c.prior: prior must be in [0, 1], got 2',
      'views.a.aggregations.c.strength: strength must be finite and ≥ 0, got -1',
      'models.m.requestFields[1]: "device" is not a column of the labelled source "impressions"',
    ]);
  });

  it('checks models: inputs exist, entity keys fit the views and are request fields, the input spec is valid', () => {
    const def = edited((r) => {
      const m = r.models!.m;
      m.input.fields.push({ name: 'x', inputs: ['u__nope_1h'], encoding: { type: 'numeric' } });
      m.input.fields.push({ name: 'y', inputs: ['page'], encoding: { type: 'categorical' } });
      m.entityKeys = { uc: ['user_id'], zz: ['a'] };
      m.requestFields = m.requestFields.filter((f) => f.name !== 'ad_id');
      m.requestFields.push({ name: 'label', type: 'number', scope: 'context' }, { name: 'ts', type: 'timestamp', scope: 'context' });
    });
    expect(issuesOf(def)).toEqual([
      'models.m.requestFields[4]: "label" is the label column',
      'models.m.requestFields[5]: duplicate request field "ts"',
      'models.m.input: input "u__nope_1h" is neither a request field (ts, device, user_id, ad_category, label) nor a feature column <view>__<feature>',
      'models.m.input: input "page" is neither a request field (ts, device, user_id, ad_category, label) nor a feature column <view>__<feature>',
      'models.m.entityKeys.uc: view "uc" has 2 join key(s) (user_id, category) but 1 field(s) are given',
      'models.m.entityKeys.zz: unknown view "zz"',
      'models.m.entityKeys.a: join key field "ad_id" of view "a" is not a request field',
    ]);
    const badSpec = edited((r) => {
      r.models!.m.input.hashBits = 40;
    });
    expect(issuesOf(badSpec)).toEqual(['models.m.input: hashBits must be an integer from 8 to 30, got 40']);
  });
});

describe('loadRepo', () => {
  it('loads the sponsored-ads example: 4 views over 1h/1d/7d windows, a valid ads-ctr model', async () => {
    const repo = await loadRepo(join(import.meta.dirname, '../../../../examples/sponsored-ads/lockstep.config.ts'));
    expect(repo.views.map((v) => v.name)).toEqual(['user_stats', 'ad_stats', 'advertiser_stats', 'user_category_stats']);
    const windowed = repo.views.flatMap((v) => v.features.filter((f) => f.windowMs !== null));
    expect(windowed.length).toBeGreaterThanOrEqual(12);
    expect(new Set(windowed.map((f) => f.window))).toEqual(new Set(['1h', '1d', '7d']));
    const model = repo.models['ads-ctr'];
    expect(model.definition.input.hashBits).toBe(20);
    expect(model.definition.input.fields.length).toBeGreaterThanOrEqual(15);
    expect(model.views).toEqual(['user_stats', 'ad_stats', 'advertiser_stats', 'user_category_stats']);
    expect(model.entityKeys.user_category_stats).toEqual(['user_id', 'ad_category']);
  });

  it('names a missing file, a file that does not load and one without a default export', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockstep-repo-'));
    try {
      await expect(loadRepo(join(dir, 'none.ts'))).rejects.toThrow(InputError);
      await writeFile(join(dir, 'broken.ts'), 'export default {{;\n');
      // With the compiler's own words: where, and what it expected.
      await expect(loadRepo(join(dir, 'broken.ts'))).rejects.toThrow(/broken\.ts: could not be loaded: Transform failed with 1 error:\n.*broken\.ts:1:\d+: ERROR: /);
      await writeFile(join(dir, 'empty.ts'), 'export const x = 1;\n');
      await expect(loadRepo(join(dir, 'empty.ts'))).rejects.toThrow('must export the repo as its default export');
      await writeFile(join(dir, 'repo.json'), JSON.stringify(testRepo()));
      expect((await loadRepo(join(dir, 'repo.json'))).views).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names why a config did not load: a folder, its own error, lockstep not installed where it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockstep-repo-scope-'));
    try {
      await expect(loadRepo(dir)).rejects.toThrow(`${dir} is a folder: give the repo file (e.g. ${join(dir, 'lockstep.config.ts')})`);
      await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', type: 'commonjs' }));
      // An error of the config's own: its message, no hint.
      await writeFile(join(dir, 'boom.ts'), "throw new Error('boom');\nexport default {};\n");
      await expect(loadRepo(join(dir, 'boom.ts'))).rejects.toMatchObject({ issues: [`${join(dir, 'boom.ts')}: could not be loaded: boom`] });
      // The helpers' package is not installed where the repo is.
      await writeFile(join(dir, 'repo.ts'), "import { defineRepo } from '@lockstep/offline';\nexport default defineRepo({} as never);\n");
      const missing = (await loadRepo(join(dir, 'repo.ts')).catch((e: unknown) => e)) as { issues: string[] };
      expect(missing.issues[0]).toMatch(/^.*repo\.ts: could not be loaded: Cannot find module '@lockstep\/offline'\S* \(the repo imports lockstep's define helpers: install @lockstep\/offline in the project that holds it\)$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
