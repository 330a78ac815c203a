/**
 * The page script of the browser scoring test (bundled by esbuild for the browser): fills a MemoryStore with the
 * rows it is given, creates a scorer from a bundle URL through `@lockstep/sdk/browser` (IndexedDB bundle cache)
 * and scores one request.
 */
import { MemoryStore, createScorer, type FeatureViewSpec, type ScoreRequest, type WriteRow } from '@lockstep/sdk/browser';

export interface PageInput {
  bundleUrl: string;
  project: string;
  views: Array<{ view: FeatureViewSpec; rows: WriteRow[] }>;
  request: ScoreRequest;
}

async function scoreInBrowser(input: PageInput) {
  const store = new MemoryStore();
  const version = await store.allocateVersion(input.project);
  for (const { view, rows } of input.views) await store.writeRows(view, rows, { project: input.project, version, keyExpiry: false });
  await store.publish(input.views.map(({ view }) => ({ view, version, watermark: { version, asOfMs: 0 } })), { project: input.project, force: true });
  const scorer = await createScorer({ bundle: input.bundleUrl, store, deadlineMs: Infinity });
  const result = await scorer.score(input.request);
  return { model: scorer.model, scores: result.scores, degraded: result.degraded };
}

(globalThis as { scoreInBrowser?: typeof scoreInBrowser }).scoreInBrowser = scoreInBrowser;
