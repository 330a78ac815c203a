/**
 * The Worker of the workerd scoring test (bundled by esbuild as a Cloudflare Worker would be): POST a bundle's
 * files, feature rows (or an Upstash REST endpoint) and a request; it fills a MemoryStore (or reads the endpoint),
 * creates a scorer on the engine asked for and answers the scores. onnxruntime-web gets its wasm as a module imported by the Worker (workerd refuses to compile wasm
 * from bytes), which is what `onnxruntimeWebBackend({ wasmModule })` is for.
 */
import * as ort from 'onnxruntime-web/wasm';
// External to the bundle: miniflare serves it as a CompiledWasm module beside the Worker.
import ortWasm from './ort-wasm-simd-threaded.wasm';
import { UpstashStore, createScorer, type ScoreRequest } from '@lockstep/sdk';
import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
import { memoryStoreWith, type ViewRows } from './memory-store-rows.ts';

export interface WorkerInput {
  /** The bundle's files, base64. */
  bundle: Record<string, string>;
  project: string;
  /** Rows for a MemoryStore built in the Worker; or, with `upstash`, none (the features are read from there). */
  views: ViewRows[];
  /** Read features over the Upstash REST protocol (`lockstep gateway` in front of redis-server) instead. */
  upstash?: { url: string; token: string };
  request: ScoreRequest;
  engine: 'builtin' | 'onnxruntime-web';
}

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export default {
  async fetch(request: Request): Promise<Response> {
    try {
      const input = (await request.json()) as WorkerInput;
      const store = input.upstash ? new UpstashStore(input.upstash) : await memoryStoreWith(input.project, input.views);
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
