/**
 * The page script of the browser scoring test (bundled by esbuild for the browser): fills a MemoryStore with the
 * rows it is given, creates a scorer from a bundle URL through `@lockstep/sdk/browser` (IndexedDB bundle cache)
 * and scores one request.
 */
import { createScorer, type ScoreRequest } from '@lockstep/sdk/browser';
import { memoryStoreWith, type ViewRows } from './memory-store-rows.ts';

export interface PageInput {
  bundleUrl: string;
  project: string;
  views: ViewRows[];
  request: ScoreRequest;
}

async function scoreInBrowser(input: PageInput) {
  const store = await memoryStoreWith(input.project, input.views);
  const scorer = await createScorer({ bundle: input.bundleUrl, store, deadlineMs: Infinity });
  const result = await scorer.score(input.request);
  return { model: scorer.model, scores: result.scores, degraded: result.degraded };
}

(globalThis as { scoreInBrowser?: typeof scoreInBrowser }).scoreInBrowser = scoreInBrowser;
