/**
 * Public types of model engines. An engine runs a bundle's ONNX model on rows already vectorised by the model
 * input spec: `indices` int64[N, F] (passed as Int32Array, the hashed index space is below 2^30) and `values`
 * float[N, F], producing `probability` float[N, 1].
 */

/** A loaded model, ready to score. */
export interface ModelEngine {
  /** Which backend runs it and how (for logs and the scorer's info). */
  readonly info: EngineInfo;
  /**
   * Scores `rows` rows: reads `rows × width` slots of `indices` and `values` and writes `rows` probabilities into
   * `out`. Synchronous backends return undefined, so the hot path awaits nothing.
   *
   * `shared`, when given, lists positions within a row (each in [0, width)) whose index and value are the same in
   * every row of this call (the user's and the context's fields): an engine may read them from the first row only.
   * A hint: ignoring it gives the same results. An engine that uses it reads them from the first row alone (a caller
   * that learned so by a first run may leave them unwritten in the other rows).
   *
   * `terms`, when given, carries the engine's own per-slot terms for some positions (see {@link EngineTerms}): a
   * caller remembers the terms of slots it meets again (a cached ad's slots) and gives them back to the same engine.
   * An engine either ignores `terms` altogether (leaves it as it is) or uses every term given and writes every
   * unknown one; a caller learns which by a first run (the built-in LR kernel uses them; FM and onnxruntime ignore
   * them).
   */
  run(indices: Int32Array, values: Float32Array, rows: number, out: Float32Array, shared?: Int32Array, terms?: EngineTerms): void | Promise<void>;
  /** Frees native resources (onnxruntime sessions). Safe to call twice. */
  dispose(): void | Promise<void>;
}

/**
 * Per-slot terms of an engine, for the slots at some positions of each row. What a term is belongs to the engine
 * (the built-in LR kernel: the float32 product w[index] · value), so terms are only ever given back to the engine that
 * wrote them.
 */
export interface EngineTerms {
  /** Positions within a row (each in [0, width), none of them `shared`) whose slots may have terms. */
  positions: Int32Array;
  /**
   * rows × width, like `values`; only the listed positions are read. A number: that slot's term, used instead of
   * the slot's index, value and weights, which are then not read (the caller need not write them); it must be what
   * this engine computed for that index and value. NaN: not known; an engine that uses terms writes the slot's term
   * there, for the caller to remember.
   */
  values: Float32Array;
}

export interface EngineInfo {
  /** The backend's registered name, e.g. 'builtin' or 'onnxruntime-web'. */
  backend: string;
  /** Slots per row. */
  width: number;
  /** How the backend runs the graph, e.g. 'fused-lr', 'fused-fm', 'interpreter', 'wasm'. */
  mode: string;
}

/** What a backend is given to load a model. */
export interface EngineModel {
  /** The ONNX file's bytes. */
  bytes: Uint8Array;
  /** Slots per row (the bundle's `model.width`); backends check it against the graph when the graph fixes it. */
  width: number;
  /** Name of the int64 index input. @default 'indices' */
  indicesInput?: string;
  /** Name of the float value input. @default 'values' */
  valuesInput?: string;
  /** Name of the probability output. @default 'probability' */
  output?: string;
}

/**
 * A way of running ONNX models. A backend that cannot run a given graph throws from `load` (an
 * {@link EngineError}); the registry then tries the next one.
 */
export interface EngineBackend {
  /** Unique name, e.g. 'builtin'. */
  readonly name: string;
  /** One-time set-up (loading wasm, …). Called once, before the first load; a rejection disables the backend. */
  init?(): Promise<void>;
  /** Loads a model. */
  load(model: EngineModel): ModelEngine | Promise<ModelEngine>;
}
