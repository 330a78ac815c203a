/**
 * `lockstep train`: feature repo → training and evaluation sets → trained, evaluated model → bundle folder
 * (model.onnx, manifest.json, report.html, feature snapshot). See docs/training.md.
 */
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { clickDelayCdf } from '../../generator/index.ts';
import { DEFAULT_REPO_FILE, loadRepo } from '../../repo/index.ts';
import { trainBundle, type TrainingRun, type TrainingRunOptions } from '../../train/training-run.ts';
import { trainTracked, type TrackedTraining } from '../../train/tracked-training.ts';
import { openTracker, type Run } from '../../tracking/index.ts';
import { timeArgument } from '../time-option.ts';
import { InputError, type ModelFamily } from '@lockstep/sdk';

function number(name: string, min: number, max: number, integer = false) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
    }
    return n;
  };
}

interface TrainCliOptions {
  repo: string;
  data: string;
  work?: string;
  model: string;
  family: ModelFamily;
  trainStart: string;
  trainEnd: string;
  evalStart: string;
  evalEnd: string;
  out: string;
  overwrite?: boolean;
  epochs: number;
  negativeSampling: number;
  seed: number;
  alpha?: number;
  beta?: number;
  l1?: number;
  l2?: number;
  factors?: number;
  fmLearningRate?: number;
  fmL2?: number;
  slices?: string;
  oracle?: string;
  snapshot: boolean;
  progress: boolean;
  track: boolean;
  trackingUri?: string;
  experiment?: string;
  register?: string;
  alias?: string[];
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a click model on a time window, evaluate it on a later one and write a model bundle')
    .option('--repo <file>', 'feature repo config, e.g. examples/sponsored-ads/lockstep.config.ts', DEFAULT_REPO_FILE)
    .requiredOption('--data <dir>', "directory the repo's sources resolve against")
    .option('--work <dir>', 'where view tables and training sets go (default <data>/.lockstep)')
    .requiredOption('--model <name>', 'model of the repo, e.g. ads-ctr')
    .option('--family <lr|fm>', 'lr: logistic regression (FTRL-Proximal); fm: factorization machine', (v) => {
      if (v !== 'lr' && v !== 'fm') throw new InvalidArgumentError('--family must be lr or fm');
      return v;
    }, 'lr')
    .requiredOption('--train-start <time>', 'first training impression time (ISO-8601, UTC)', timeArgument())
    .requiredOption('--train-end <time>', 'training window end (exclusive); also the feature snapshot cut-off', timeArgument())
    .requiredOption('--eval-start <time>', 'first evaluation impression time', timeArgument())
    .requiredOption('--eval-end <time>', 'evaluation window end (exclusive)', timeArgument())
    .requiredOption('--out <dir>', 'bundle folder to write')
    .option('--overwrite', 'replace an existing bundle folder')
    .option('--epochs <n>', 'passes over the training rows', number('--epochs', 1, 1000, true), 1)
    .option('--negative-sampling <rate>', 'keep this fraction of negative rows (the bias is corrected)', number('--negative-sampling', 1e-6, 1), 1)
    .option('--seed <n>', 'seed of down-sampling and FM initialisation', number('--seed', 0, 2 ** 32 - 1, true), 1)
    .option('--alpha <x>', 'FTRL learning-rate scale α (default 0.1)', number('--alpha', 1e-9, 1e3))
    .option('--beta <x>', 'FTRL β (default 1)', number('--beta', 0, 1e6))
    .option('--l1 <x>', 'FTRL L1 (default 0.5)', number('--l1', 0, 1e6))
    .option('--l2 <x>', 'FTRL L2 (default 1)', number('--l2', 0, 1e6))
    .option('--factors <k>', 'FM latent factors (default 8)', number('--factors', 1, 256, true))
    .option('--fm-learning-rate <x>', 'FM AdaGrad learning rate (default 0.02)', number('--fm-learning-rate', 1e-9, 100))
    .option('--fm-l2 <x>', 'FM factor L2 (default 0.0001)', number('--fm-l2', 0, 1e6))
    .option('--slices <columns>', 'comma-separated columns to break evaluation down by (default: position,device)')
    .option('--oracle <file>', "generated data's oracle.parquet: report the Bayes-optimal figures beside the model's")
    .option('--no-snapshot', 'leave the feature snapshot out of the bundle')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--no-track', 'do not record the run in experiment tracking')
    .option('--tracking-uri <uri>', 'tracking store: a folder or an MLflow server URL (default $LOCKSTEP_TRACKING_URI, else .lockstep/tracking)')
    .option('--experiment <name>', 'experiment to record the run in (default: the model name)')
    .option('--register <name>', 'register the bundle as a new version of this registered model')
    .option('--alias <alias...>', 'with --register: point these aliases (e.g. champion) at the new version')
    .action(async (opts: TrainCliOptions) => {
      // Typed errors (printed without a stack by main.ts), before any work.
      if (opts.alias && !opts.register) throw new InputError('--alias needs --register <name> (the registered model the aliases belong to)', 'alias');
      if (!opts.track && opts.register) throw new InputError('--register needs tracking (drop --no-track)', 'register');
      const repo = await loadRepo(opts.repo);
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: 'train epoch {epoch} [{bar}] {percentage}% | {value}/{total} rows', hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      let barOn = false;
      const ftrl = Object.fromEntries(Object.entries({ alpha: opts.alpha, beta: opts.beta, l1: opts.l1, l2: opts.l2 }).filter(([, v]) => v !== undefined));
      const fm = Object.fromEntries(Object.entries({ factors: opts.factors, learningRate: opts.fmLearningRate, l2: opts.fmL2 }).filter(([, v]) => v !== undefined));
      // Every run is recorded unless --no-track: params, curves, evaluation, lineage, the bundle as an artifact.
      const tracker = opts.track ? await openTracker(opts.trackingUri) : undefined;
      // Ctrl-C (or a SIGTERM) mid-run: the recorded run ends KILLED, not RUNNING forever, then the process stops as
      // a killed one would. (Training yields between batches, so this runs within one batch.)
      let active: Run | undefined;
      const interrupted = (signal: NodeJS.Signals) => {
        console.error(`lockstep train: ${signal}: stopping${active ? `; run ${active.id} ends KILLED` : ''}`);
        void (active?.end('KILLED') ?? Promise.resolve()).catch(() => undefined).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      const trainer = (options: TrainingRunOptions): Promise<TrainingRun & Partial<TrackedTraining>> =>
        tracker
          ? trainTracked({
              ...options,
              tracker,
              onRun: (r) => (active = r),
              ...(opts.experiment ? { experiment: opts.experiment } : {}),
              ...(opts.register ? { register: { name: opts.register, aliases: opts.alias ?? [] } } : {}),
            })
          : trainBundle(options);
      const run = await trainer({
        repo,
        dataDir: opts.data,
        workDir: opts.work,
        model: opts.model,
        trainStart: opts.trainStart,
        trainEnd: opts.trainEnd,
        evalStart: opts.evalStart,
        evalEnd: opts.evalEnd,
        out: opts.out,
        overwrite: opts.overwrite === true,
        snapshot: opts.snapshot,
        ...(opts.slices ? { slices: opts.slices.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        // The generator's label "clicked within the attribution window" has probability p_click × F(window).
        ...(opts.oracle ? { oracle: { path: opts.oracle, scale: clickDelayCdf(repo.labels.windowMs / 1000) } } : {}),
        onStage: (m) => {
          if (barOn) bar.stop(), (barOn = false);
          console.error(`lockstep train: ${m}`);
        },
        training: {
          family: opts.family,
          epochs: opts.epochs,
          negativeSampling: opts.negativeSampling,
          seed: opts.seed,
          ftrl,
          fm,
          onProgress: opts.progress
            ? (rows, epoch) => {
                if (!barOn) bar.start(0, 0, { epoch }), (barOn = true);
                bar.setTotal(Math.max(rows, bar.getTotal()));
                bar.update(rows, { epoch });
              }
            : undefined,
        },
      });
      if (barOn) bar.stop();
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
      const m = run.manifest.metrics;
      const f = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(4));
      console.error(
        `lockstep train: ${run.result.family} on ${run.result.rows.toLocaleString('en-US')} rows in ${run.result.seconds.toFixed(1)} s; ` +
          `eval AUC ${f(m.auc)} log loss ${f(m.logloss)} NE ${f(m.ne)} calibration ${f(m.calibration)}` +
          (m.bayes_auc === undefined ? '' : ` (Bayes-optimal AUC ${f(m.bayes_auc)} log loss ${f(m.bayes_logloss)})`),
      );
      console.error(`lockstep train: report ${run.dir}/report.html`);
      if (run.runId) {
        const version = run.modelVersion ? `; registered ${run.modelVersion.name} v${run.modelVersion.version}` : '';
        console.error(`lockstep train: recorded run ${run.runId}${version} (lockstep ui to browse)`);
      }
      // The bundle folder alone on stdout, for scripts.
      console.log(run.dir);
    });
}
