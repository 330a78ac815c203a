/**
 * Training that records itself: every run of {@link trainBundle} through this function is logged to experiment
 * tracking (params, the learning curve, per-epoch figures, the final evaluation, the training and evaluation sets'
 * digests as lineage, the bundle and its report as artifacts), and the bundle can be registered as a new model
 * version with aliases. `lockstep train` and the demo both go through here.
 */
import type { ModelVersion, Run, Tracker } from '../tracking/index.ts';
import { checkTrainingRun, trainCheckedBundle, type TrainingRun, type TrainingRunOptions } from './training-run.ts';

export interface TrackedTrainingOptions extends TrainingRunOptions {
  /** Where to record the run (`openTracker()`). */
  tracker: Tracker;
  /** Experiment name. @default the model's name */
  experiment?: string;
  /** Run name. @default `<model>-<family>` */
  runName?: string;
  /** Extra run tags. */
  tags?: Record<string, string>;
  /** Register the bundle as a new version of this registered model, pointing these aliases at it. */
  register?: { name: string; aliases?: string[] };
  /** Called with the run once it is started: a caller that can be interrupted ends it KILLED (`lockstep train`). */
  onRun?: (run: Run) => void;
}

export interface TrackedTraining extends TrainingRun {
  runId: string;
  /** The registered version, when `register` was given. */
  modelVersion?: ModelVersion;
}

/** Trains, evaluates and exports like {@link trainBundle}, recording the run; a failed run is marked FAILED. */
export async function trainTracked(options: TrackedTrainingOptions): Promise<TrackedTraining> {
  const { tracker, experiment, runName, tags, register, onRun, ...run } = options;
  const family = run.training.family;
  await checkTrainingRun(run);
  return tracker.withRun(
    { experiment: experiment ?? run.model, name: runName ?? `${run.model}-${family}`, tags: { 'lockstep.model': run.model, 'lockstep.family': family, ...tags } },
    async (tracked: Run) => {
      onRun?.(tracked);
      const requested = {
        model: run.model,
        family,
        train_start: run.trainStart,
        train_end: run.trainEnd,
        eval_start: run.evalStart,
        eval_end: run.evalEnd,
        ...flatten('train', { ...run.training, onEpoch: undefined, onMetrics: undefined, onProgress: undefined, validation: undefined }),
      };
      await tracked.logParams(requested);
      // The trainer reports the learning curve and each epoch's figures through onMetrics. Logging is awaited by
      // the hook, so a slow tracking server slows training rather than piling up unbounded writes.
      const result = await trainCheckedBundle({
        ...run,
        runId: tracked.id,
        training: {
          ...run.training,
          onMetrics: async (metrics, step) => {
            await tracked.logMetrics(metrics, { step });
            await run.training.onMetrics?.(metrics, step);
          },
        },
      });
      // The defaults the trainer filled in (FTRL α, β, λ1, λ2, FM factors, …) as params too, so runs trained with
      // and without an explicit setting compare side by side. Params cannot change once logged: only new keys.
      const defaults = Object.entries(flatten('train', result.result.options)).filter(([k]) => !(k in requested));
      if (defaults.length) await tracked.logParams(Object.fromEntries(defaults));
      await tracked.logMetrics(finite(result.manifest.metrics));
      await tracked.logInput({ name: `${run.model}-train`, digest: result.trainSet.digest, source: result.trainSet.path, context: 'training' });
      await tracked.logInput({ name: `${run.model}-eval`, digest: result.evalSet.digest, source: result.evalSet.path, context: 'evaluation' });
      await tracked.setTags({ 'lockstep.training_set_digest': result.trainSet.digest, 'lockstep.code_version': result.manifest.lineage.codeVersion });
      await tracked.logArtifact(result.dir, 'model');
      let modelVersion: ModelVersion | undefined;
      if (register) {
        modelVersion = await tracker.registerModel(register.name, { runId: tracked.id, aliases: register.aliases ?? [] });
      }
      return { ...result, runId: tracked.id, ...(modelVersion ? { modelVersion } : {}) };
    },
  );
}

/** Nested option objects as `prefix.key` params (MLflow params are flat strings). */
function flatten(prefix: string, value: unknown, out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined) flatten(`${prefix}.${k}`, v, out);
  } else if (value !== undefined) {
    out[prefix] = value;
  }
  return out;
}

function finite(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number'));
}
