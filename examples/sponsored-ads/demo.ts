/**
 * `npm run demo`: lockstep's main job on embedded defaults, no server to start by hand.
 *
 *  1. generate a seeded sponsored-ads data set (impressions, clicks, dimensions; the oracle kept apart),
 *  2. build the feature views and point-in-time training and evaluation sets (DuckDB),
 *  3. train a logistic regression (FTRL) and a factorization machine, evaluate both beside the Bayes limit,
 *     export each as a verified ONNX bundle with its feature snapshot and report,
 *  4. record both runs in the local tracking store and register the better one as `ads-ctr@champion`,
 *  5. materialize the features as of the training cut-off into the embedded online store (MemoryStore),
 *  6. load the champion with the SDK and rank the candidate ads of a real evaluation-day search page.
 *
 * Everything lands under `.lockstep/` (git-ignored); `npx lockstep ui` then shows the runs and the registry.
 * Sizes can be changed with DEMO_IMPRESSIONS / DEMO_DAYS for a bigger run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { MemoryStore, type ModelFamily } from '@lockstep/sdk';
import { createScorer } from '@lockstep/sdk/node';
import {
  FeatureStore,
  clickDelayCdf,
  featureStoreSource,
  generate,
  materialize,
  openTracker,
  trainTracked,
  type TrackedTraining,
} from '@lockstep/offline';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoConfig = join(here, 'lockstep.config.ts');
const root = resolve('.lockstep/demo');
const dataRoot = join(root, 'generated');
const dataDir = join(dataRoot, 'data');
const workDir = join(root, 'work');
const MODEL = 'ads-ctr';
const ATTRIBUTION_WINDOW_S = 3600;

const options = {
  out: dataRoot,
  impressions: Number(process.env.DEMO_IMPRESSIONS ?? 400_000),
  users: 20_000,
  ads: 1_500,
  advertisers: 150,
  days: Number(process.env.DEMO_DAYS ?? 10),
  start: '2026-01-01',
  seed: 42,
};

const day = (n: number) => new Date(Date.parse(`${options.start}T00:00:00Z`) + n * 86_400_000).toISOString();
const t0 = performance.now();
const step = (title: string) => console.log(`\n▸ ${title}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
const show = (p: string) => relative(process.cwd(), p) || '.';

// 1. Data: regenerate only when the options changed (the generator is deterministic).
step('1/6 generating sponsored-ads logs');
const manifestPath = join(dataRoot, 'manifest.json');
const previous = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { options?: Record<string, unknown> }) : undefined;
if (previous?.options && Object.entries(options).every(([k, v]) => k === 'out' || previous.options?.[k] === v)) {
  console.log(`  reusing ${show(dataRoot)} (same options and seed)`);
} else {
  const gen = await generate(options);
  const c = gen.manifest.rows;
  console.log(`  ${c.impressions.toLocaleString('en-US')} impressions, ${c.clicks.toLocaleString('en-US')} clicks, ${c.users} users, ${c.ads} ads over ${options.days} days → ${show(dataDir)} (${gen.seconds.toFixed(1)} s)`);
}

// 2-4. Features, training sets, models, bundles, tracking, registry. Train on days 1..n-2 (skipping day 0's cold
// start), evaluate on day n-1; the training end is the feature snapshot's cut-off.
const windows = { trainStart: day(1), trainEnd: day(options.days - 1), evalStart: day(options.days - 1), evalEnd: day(options.days) };
step(`2/6 building features and point-in-time training sets; 3/6 training (train ${windows.trainStart.slice(0, 10)} → ${windows.trainEnd.slice(0, 10)}, evaluate ${windows.evalStart.slice(0, 10)})`);
const tracker = await openTracker();
const runs: TrackedTraining[] = [];
for (const family of ['lr', 'fm'] as ModelFamily[]) {
  const run = await trainTracked({
    tracker,
    repo: repoConfig,
    dataDir,
    workDir,
    model: MODEL,
    ...windows,
    out: join(root, 'bundles', `${MODEL}-${family}`),
    overwrite: true,
    training: { family, epochs: family === 'fm' ? 2 : 1 },
    oracle: { path: join(dataRoot, 'oracle', 'oracle.parquet'), scale: clickDelayCdf(ATTRIBUTION_WINDOW_S) },
    runName: `demo-${family}`,
    onStage: (m) => console.log(`  [${family}] ${m}`),
  });
  runs.push(run);
}
const trainSet = runs[0].trainSet;
console.log(`  training set: ${trainSet.rows.toLocaleString('en-US')} rows × ${trainSet.columns.length} columns (${show(trainSet.path)}); evaluation set: ${runs[0].evalSet.rows.toLocaleString('en-US')} rows`);
console.log('\n  model   AUC      logloss   NE       calibration   (Bayes-optimal on the same rows: AUC %s, logloss %s)',
  fmt(runs[0].manifest.metrics.bayes_auc), fmt(runs[0].manifest.metrics.bayes_logloss));
for (const r of runs) {
  const m = r.manifest.metrics;
  console.log(`  ${r.manifest.model.family.padEnd(6)}  ${fmt(m.auc)}   ${fmt(m.logloss)}    ${fmt(m.ne)}   ${fmt(m.calibration)}`);
}

step('4/6 registering the better model as ads-ctr@champion');
const [best, other] = [...runs].sort((a, b) => a.manifest.metrics.logloss - b.manifest.metrics.logloss);
const champion = await tracker.registerModel(MODEL, { runId: best.runId, aliases: ['champion'] });
const challenger = await tracker.registerModel(MODEL, { runId: other.runId, aliases: ['challenger'] });
const resolved = await tracker.resolveModel(`${MODEL}@champion`);
console.log(`  ${MODEL} v${champion.version} (${best.manifest.model.family}, run ${best.runId}) is champion; v${challenger.version} (${other.manifest.model.family}) is challenger`);
console.log(`  bundle: ${show(resolved.path)} (report: ${show(join(best.dir, 'report.html'))})`);

// 5. Online store: the embedded MemoryStore, filled by the same materialization that writes Redis/Valkey.
step('5/6 materializing features as of the cut-off into the embedded online store');
const store = new MemoryStore();
const fs = await FeatureStore.open(repoConfig, { dataDir, workDir });
const mat = await materialize({
  store,
  project: best.manifest.project,
  views: best.manifest.featureViews,
  source: featureStoreSource(fs),
  asOfMs: Date.parse(best.manifest.training.cutoff),
});
fs.close();
for (const v of mat.views) console.log(`  ${v.view.padEnd(20)} ${v.written.toLocaleString('en-US').padStart(8)} entities (version ${v.version})`);

// 6. Serving: load the champion through the SDK and rank a real search page from the evaluation day.
step('6/6 scoring a search page from the evaluation day with @lockstep/sdk');
const scorer = await createScorer({ bundle: resolved.path, store, deadlineMs: Infinity });
const page = await firstPage(join(dataDir, 'impressions.parquet'), windows.evalStart);
const request = {
  user: { user_id: page[0].user_id },
  context: { ts: page[0].ts, device: page[0].device, query: page[0].query, query_category: page[0].query_category },
    // Before the auction an ad has no slot yet: score every candidate as if shown first (position-normalised pCTR).
  candidates: page.map((r) => ({ ad_id: r.ad_id, advertiser_id: r.advertiser_id, ad_category: r.ad_category, bid: r.bid, position: 1 })),
};
const ranked = await scorer.rank(request, { reserve: 0.0001 });
console.log(`  user ${request.user.user_id} searched "${request.context.query}" (${request.context.query_category}) on ${request.context.device} at ${new Date(request.context.ts).toISOString()}; model ${scorer.model.family} via ${scorer.model.backend} (${scorer.model.mode})`);
console.log('  rank  ad      category          bid     pCTR      expected value');
for (const [i, w] of ranked.ranked.entries()) {
  const c = w.candidate;
  console.log(`  ${String(i + 1).padStart(4)}  ${String(c.ad_id).padEnd(6)}  ${c.ad_category.padEnd(16)}  ${c.bid.toFixed(3)}   ${(w.pctr * 100).toFixed(3)}%   ${w.expectedValue.toFixed(5)}`);
}
const timing = await timeScore(() => scorer.score(request));
console.log(`  score() for ${request.candidates.length} candidates: p50 ${timing.p50.toFixed(1)} µs over 200 calls (MemoryStore, built-in evaluator)`);
await scorer.close();

console.log(`\n✓ done in ${((performance.now() - t0) / 1000).toFixed(1)} s. Next:`);
console.log('  npx lockstep ui                                # runs, curves, reports and the registry in a browser');
console.log(`  npx lockstep models resolve ${MODEL}@champion`);
console.log('  npm run bench -- score                          # scoring latency over Redis and the HTTP gateway');

function fmt(x: number | undefined): string {
  return x === undefined ? '  -   ' : x.toFixed(4);
}

interface PageRow { user_id: number; ts: number; device: string; query: string; query_category: string; ad_id: number; advertiser_id: number; ad_category: string; bid: number }

/** The first multi-ad search page (one user, one timestamp) on or after `from`. */
async function firstPage(impressions: string, from: string): Promise<PageRow[]> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const path = impressions.replaceAll("'", "''");
  const reader = await con.runAndReadAll(`
    WITH pages AS (
      SELECT user_id, ts FROM read_parquet('${path}') WHERE ts >= TIMESTAMP '${from.slice(0, 19).replace('T', ' ')}'
      GROUP BY user_id, ts HAVING count(*) >= 4 ORDER BY ts, user_id LIMIT 1)
    SELECT i.user_id, epoch_ms(i.ts)::DOUBLE AS ts, i.device, i.query, i.query_category, i.ad_id, i.advertiser_id, i.ad_category, i.bid
    FROM read_parquet('${path}') i JOIN pages USING (user_id, ts) ORDER BY i.position`);
  const rows = reader.getRowObjectsJS() as unknown as PageRow[];
  con.closeSync();
  db.closeSync();
  return rows;
}

async function timeScore(fn: () => Promise<unknown>): Promise<{ p50: number }> {
  for (let i = 0; i < 50; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = performance.now();
    await fn();
    times.push((performance.now() - s) * 1000);
  }
  times.sort((a, b) => a - b);
  return { p50: times[times.length >> 1] };
}
