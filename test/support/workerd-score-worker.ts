/**
 * The Worker of the workerd scoring test (bundled by esbuild as a Cloudflare Worker would be): POST a bundle's
 * files, feature rows and a request; it fills a MemoryStore, creates a scorer on the engine asked for and answers
 * the scores. onnxruntime-web gets its wasm as a module imported by the Worker (workerd refuses to compile wasm
 * from bytes), which is what `onnxruntimeWebBackend({ wasmModule })` is for.
 */
import * as ort from 'onnxruntime-web/wasm';
// External to the bundle: miniflare serves it as a CompiledWasm module beside the Worker.
import ortWasm from './ort-wasm-simd-threaded.wasm';
import { createScorer, type ScoreRequest } from '@lockstep/sdk';
import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
import { memoryStoreWith, type ViewRows } from './memory-store-rows.ts';

export interface WorkerInput {
  /** The bundle's files, base64. */
  bundle: Record<string, string>;
  project: string;
  views: ViewRows[];
  request: ScoreRequest;
  engine: 'builtin' | 'onnxruntime-web';
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const input = (await request.json()) as WorkerInput;
      const store = await memoryStoreWith(input.project, input.views);
      const bundle = new Map(Object.entries(input.bundle).map(([name, b64]) => [name, fromBase64(b64)]));
      const engines = input.engine === 'onnxruntime-web' ? [onnxruntimeWebBackend({ ort, wasmModule: ortWasm })] : ['builtin'];
      const scorer = await createScorer({ bundle, store, deadlineMs: Infinity, engines });
      const result = await scorer.score(input.request);
      return Response.json({ model: scorer.model, scores: result.scores, degraded: result.degraded });
    } catch (err) {
      return Response.json({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
};
