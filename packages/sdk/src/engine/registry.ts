/**
 * The engine registry, in the style of onnxruntime's js/common backend-impl: backends are registered with a
 * priority and tried from the highest down. A backend whose `init` fails, or that cannot load the graph, is
 * skipped; when none can, the error lists every backend's reason.
 *
 * The built-in evaluator is registered from the start (priority 100). `@lockstep/sdk/node` adds onnxruntime-web as
 * the fallback; elsewhere register it yourself: `registerBackend(onnxruntimeWebBackend(), 10)` from
 * `@lockstep/sdk/onnxruntime-web` (kept out of the core so its 3.5 MiB of wasm is never bundled by accident).
 */
import { EngineError } from '../errors.ts';
import { builtinBackend } from './builtin/builtin-backend.ts';
import type { EngineBackend, EngineModel, ModelEngine } from './types.ts';

interface Entry {
  backend: EngineBackend;
  priority: number;
  order: number;
  /** The init promise, created once; a rejected init disables the backend. */
  init?: Promise<void>;
}

const entries = new Map<string, Entry>([['builtin', { backend: builtinBackend(), priority: 100, order: 0 }]]);
let registrations = 1;

/**
 * Registers (or replaces) a backend. Higher priorities are tried first; equal priorities in registration order.
 * @param priority @default 0
 */
export function registerBackend(backend: EngineBackend, priority = 0): void {
  entries.set(backend.name, { backend, priority, order: registrations++ });
}

/** Registered backend names, in the order they are tried. */
export function listBackends(): string[] {
  return ordered().map((e) => e.backend.name);
}

function ordered(): Entry[] {
  return [...entries.values()].sort((a, b) => b.priority - a.priority || a.order - b.order);
}

export interface CreateEngineOptions {
  /**
   * Backends to try, in order, instead of the registry: registered names or backend objects.
   * @default every registered backend, by priority
   */
  backends?: ReadonlyArray<string | EngineBackend>;
}

/** One backend's reason for not loading a model. */
export interface BackendFailure {
  backend: string;
  message: string;
  cause: unknown;
}

const ownEntries = new WeakMap<EngineBackend, Entry>();

function entryFor(b: string | EngineBackend): Entry | BackendFailure {
  if (typeof b !== 'string') {
    const known = entries.get(b.name);
    if (known?.backend === b) return known;
    let e = ownEntries.get(b);
    if (!e) ownEntries.set(b, (e = { backend: b, priority: 0, order: 0 }));
    return e;
  }
  return entries.get(b) ?? { backend: b, message: 'not registered', cause: undefined };
}

/** Loads a model with the first backend that can run it. Throws an EngineError listing every failure. */
export async function createEngine(model: EngineModel, options: CreateEngineOptions = {}): Promise<ModelEngine> {
  const candidates = options.backends ? options.backends.map(entryFor) : ordered();
  const failures: BackendFailure[] = [];
  for (const c of candidates) {
    if (typeof c.backend === 'string') {
      failures.push(c as BackendFailure);
      continue;
    }
    const backend = c.backend;
    const entry = c as Entry;
    try {
      if (backend.init) await (entry.init ??= backend.init());
    } catch (cause) {
      failures.push({ backend: backend.name, message: `init failed: ${messageOf(cause)}`, cause });
      continue;
    }
    try {
      return await backend.load(model);
    } catch (cause) {
      failures.push({ backend: backend.name, message: messageOf(cause), cause });
    }
  }
  throw new EngineError(
    `no model engine could load the model:\n${failures.map((f) => `  - ${f.backend}: ${f.message}`).join('\n') || '  (no backends)'}`,
    { details: { failures: failures.map(({ backend, message }) => ({ backend, message })) }, cause: failures[0]?.cause },
  );
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
