/**
 * @module
 * `@lockstep/sdk/onnxruntime-web`: the onnxruntime-web backend, the fallback for graphs the built-in evaluator does
 * not support. onnxruntime-web (an optional peer dependency) is imported dynamically on first use, so this module
 * costs nothing until a model needs it, and it never enters the core bundle.
 *
 * ```ts
 * import { registerBackend } from '@lockstep/sdk';
 * import { onnxruntimeWebBackend } from '@lockstep/sdk/onnxruntime-web';
 * registerBackend(onnxruntimeWebBackend(), 10);
 * ```
 * `@lockstep/sdk/node` registers it for you.
 */
import type * as Ort from 'onnxruntime-web';
import { EngineError } from '../errors.ts';
import type { EngineBackend, EngineModel, ModelEngine } from './types.ts';

type OrtModule = typeof Ort;

export interface OnnxruntimeWebOptions {
  /**
   * The onnxruntime-web module, when the host has imported it already (a Worker bundle that lists its modules).
   * @default `await import('onnxruntime-web/wasm')`
   */
  ort?: OrtModule | Promise<OrtModule>;
  /**
   * A pre-compiled `ort-wasm-simd-threaded.wasm` module. Needed where compiling wasm from bytes is refused
   * (Cloudflare Workers: import the .wasm as a module and pass it here). This relies on onnxruntime-web 1.30's
   * loader calling `WebAssembly.instantiate` on `env.wasm.wasmBinary`: re-check on every upgrade.
   */
  wasmModule?: WebAssembly.Module;
  /**
   * wasm threads. Scoring small batches gains nothing from threads, and Workers have none.
   * @default 1
   */
  numThreads?: number;
}

/** Creates the onnxruntime-web backend (wasm execution provider, single-threaded by default). */
export function onnxruntimeWebBackend(options: OnnxruntimeWebOptions = {}): EngineBackend {
  let ort: OrtModule | undefined;
  return {
    name: 'onnxruntime-web',
    async init() {
      try {
        ort = await (options.ort ?? import('onnxruntime-web/wasm'));
      } catch (cause) {
        throw new EngineError('onnxruntime-web is not installed (npm install onnxruntime-web)', { cause });
      }
      ort.env.wasm.numThreads = options.numThreads ?? 1;
      ort.env.wasm.proxy = false;
      if (options.wasmModule) usePrecompiledWasm(ort, options.wasmModule);
    },
    async load(model) {
      if (!ort) throw new EngineError('onnxruntime-web backend used before init');
      return loadSession(ort, model);
    },
  };
}

/** The one-byte stand-in for the wasm binary that routes ORT's instantiate call to the pre-compiled module. */
const DUMMY_BINARY = new Uint8Array([0]);
let instantiateWrapped: WebAssembly.Module | undefined;

function usePrecompiledWasm(ort: OrtModule, module: WebAssembly.Module): void {
  ort.env.wasm.wasmBinary = DUMMY_BINARY;
  if (instantiateWrapped) {
    instantiateWrapped = module;
    return;
  }
  instantiateWrapped = module;
  const original = WebAssembly.instantiate.bind(WebAssembly) as (...a: unknown[]) => Promise<unknown>;
  // Only the dummy is redirected; every other instantiate call passes through untouched.
  (WebAssembly as { instantiate: unknown }).instantiate = async (source: unknown, imports?: WebAssembly.Imports) => {
    const isDummy = source === DUMMY_BINARY || (ArrayBuffer.isView(source) && source.byteLength === 1) ||
      (source instanceof ArrayBuffer && source.byteLength === 1);
    if (!isDummy) return original(source, imports);
    const instance = await WebAssembly.instantiate(instantiateWrapped!, imports);
    return { module: instantiateWrapped, instance };
  };
}

async function loadSession(ort: OrtModule, model: EngineModel): Promise<ModelEngine> {
  const names = { indices: model.indicesInput ?? 'indices', values: model.valuesInput ?? 'values', output: model.output ?? 'probability' };
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model.bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (cause) {
    throw new EngineError(`onnxruntime-web could not load the model: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
  for (const n of [names.indices, names.values]) {
    if (!session.inputNames.includes(n)) throw new EngineError(`the graph has no input "${n}" (inputs: ${session.inputNames.join(', ')})`);
  }
  if (!session.outputNames.includes(names.output)) throw new EngineError(`the graph has no output "${names.output}"`);

  const width = model.width;
  // int64 input filled through an Int32Array view (low word, sign-extended high word): halves ORT's batch time
  // compared with BigInt conversions (FACTS.md). Grown on demand, reused across calls.
  let big = new BigInt64Array(0);
  let words = new Int32Array(big.buffer);
  let disposed = false;

  return {
    info: { backend: 'onnxruntime-web', width, mode: 'wasm' },
    async run(indices, values, rows, out) {
      const n = rows * width;
      if (indices.length < n || values.length < n || out.length < rows) {
        throw new EngineError(`run(${rows} rows) needs ${n} indices and values and ${rows} outputs`);
      }
      if (big.length < n) {
        big = new BigInt64Array(Math.max(n, big.length * 2));
        words = new Int32Array(big.buffer);
      }
      for (let i = 0; i < n; i++) {
        const v = indices[i];
        words[2 * i] = v;
        words[2 * i + 1] = v < 0 ? -1 : 0;
      }
      const feeds = {
        [names.indices]: new ort.Tensor('int64', big.subarray(0, n), [rows, width]),
        [names.values]: new ort.Tensor('float32', values.subarray(0, n), [rows, width]),
      };
      let result: Ort.InferenceSession.ReturnType;
      try {
        result = await session.run(feeds, [names.output]);
      } catch (cause) {
        throw new EngineError(`onnxruntime-web run failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
      }
      const y = result[names.output];
      out.set((y.data as Float32Array).subarray(0, rows));
      y.dispose();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
