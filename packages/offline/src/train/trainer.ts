/**
 * The training loop: streams a {@link BatchSource} through an online model, epoch by epoch, with seeded negative
 * down-sampling, a progressive-validation learning curve, optional validation and early stopping, and hooks for
 * experiment tracking. Deterministic: the same source, options and seed give the same model bit for bit.
 */
import type { ModelFamily } from '@lockstep/sdk';
import type { BatchSource } from './batch-source.ts';
import { FactorizationMachine, type FmOptions } from './factorization-machine.ts';
import type { FtrlOptions } from './ftrl.ts';
import { LogisticRegression } from './logistic-regression.ts';
import { sigmoid, type ModelParams } from './model-params.ts';
import type { OnlineModel } from './online-model.ts';
import { SeededRandom } from './random.ts';
import { binaryMetrics, rowLogloss } from '../evaluate/metrics.ts';
import { scoreRows } from '../evaluate/evaluate.ts';

export interface TrainOptions {
  /** Model family: FTRL logistic regression or factorization machine. */
  family: ModelFamily;
  /** Passes over the training rows. @default 1 */
  epochs?: number;
  /**
   * Keep each negative row with this probability (positives are always kept). The sampled model over-predicts by
   * a factor 1/rate in odds; exporting adds log(rate) to the bias, which undoes it exactly (He et al. 2014).
   * @default 1
   */
  negativeSampling?: number;
  /**
   * The bias before the first update (a logit). 'auto' starts it at the logit of the first batch's click rate
   * (on sampled rows): starting from p = ½ instead makes every coordinate of the first rows take a large step
   * down together, and the rarely seen ones keep that bias for a long time. @default 'auto'
   */
  initialBias?: number | 'auto';
  /** Seed of the down-sampling draws and of the FM's initial factors. @default 1 */
  seed?: number;
  /** FTRL options of the linear part (both families). */
  ftrl?: FtrlOptions;
  /** Factorization machine options (family 'fm'). */
  fm?: Omit<FmOptions, 'ftrl' | 'seed'>;
  /** Rows scored after each epoch (log loss and AUC) for the learning curve and early stopping. */
  validation?: BatchSource;
  /** Stop when the validation log loss has not improved by `minDelta` for `patience` epochs; keep the best epoch. */
  earlyStopping?: { patience?: number; minDelta?: number };
  /** Points of the progressive-validation learning curve per epoch. @default 50 */
  curvePoints?: number;
  /** Expected rows per epoch, to space the curve points (counted on the first epoch when absent). */
  expectedRows?: number;
  /** Called after each epoch (wire experiment tracking here). */
  onEpoch?: (event: EpochEvent) => void | Promise<void>;
  /** Called with named metrics and a step (rows seen) at each learning-curve point and epoch end. */
  onMetrics?: (metrics: Record<string, number>, step: number) => void | Promise<void>;
  /** Called after every batch with the rows seen so far in this epoch (progress bars). */
  onProgress?: (rowsInEpoch: number, epoch: number) => void;
}

export interface CurvePoint {
  epoch: number;
  /** Rows seen since training started (all epochs). */
  rows: number;
  /** Progressive log loss of the window: predictions made before each row's update, corrected for down-sampling. */
  logloss: number;
  /** Progressive log loss of the epoch so far (a running mean: smoother than the window's). */
  epochLogloss: number;
}

export interface EpochEvent {
  epoch: number;
  /** Rows read in this epoch (before down-sampling). */
  rows: number;
  /** Rows trained on in this epoch (after down-sampling). */
  trainedRows: number;
  /** Progressive log loss over the epoch. */
  trainLogloss: number;
  validationLogloss?: number;
  validationAuc?: number;
  seconds: number;
}

export interface TrainResult {
  /** The exported parameters (best epoch when early stopping), down-sampling correction folded in. */
  params: ModelParams;
  family: ModelFamily;
  /** Every option with its default resolved, for the manifest and the report. */
  options: ResolvedTrainOptions;
  /** Rows per epoch (read), clicks per epoch. */
  rows: number;
  clicks: number;
  epochs: EpochEvent[];
  /** The epoch whose parameters were kept. */
  bestEpoch: number;
  curve: CurvePoint[];
  seconds: number;
}

export interface ResolvedTrainOptions {
  family: ModelFamily;
  epochs: number;
  negativeSampling: number;
  seed: number;
  ftrl: FtrlOptions;
  fm?: FmOptions;
}

/** The logit of a batch's (smoothed) click rate among the rows kept. */
function startingLogit(labels: Float32Array, rows: number, mask: Uint8Array | null): number {
  let kept = 0;
  let clicks = 0;
  for (let r = 0; r < rows; r++) {
    if (mask && mask[r] === 0) continue;
    kept++;
    clicks += labels[r];
  }
  // Half a click and one row of prior keep an all-negative first batch finite.
  const rate = Math.min(0.5, (clicks + 0.5) / (kept + 1));
  return Math.log(rate / (1 - rate));
}

/** Creates an untrained model of a family. */
export function createModel(family: ModelFamily, width: number, dimension: number, options: Pick<TrainOptions, 'ftrl' | 'fm' | 'seed'> = {}): OnlineModel {
  if (family === 'lr') return new LogisticRegression(width, dimension, options.ftrl);
  if (family === 'fm') return new FactorizationMachine(width, dimension, { ...options.fm, ftrl: options.ftrl, seed: options.seed ?? 1 });
  throw new RangeError(`unknown model family "${String(family)}" (expected "lr" or "fm")`);
}

export async function train(source: BatchSource, options: TrainOptions): Promise<TrainResult> {
  const epochs = options.epochs ?? 1;
  const rate = options.negativeSampling ?? 1;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a positive integer, got ${epochs}`);
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`negativeSampling must be in (0, 1], got ${rate}`);
  const model = createModel(options.family, source.width, source.dimension, { ...options, seed });
  const shift = Math.log(rate);
  const negWeight = 1 / rate;
  const rng = new SeededRandom(seed ^ 0x5eed);
  const started = performance.now();

  const curve: CurvePoint[] = [];
  const history: EpochEvent[] = [];
  let best: { params: ModelParams; loss: number; epoch: number } | undefined;
  let sinceBest = 0;
  let expected = options.expectedRows;
  let totalRows = 0;
  let rowsPerEpoch = 0;
  let clicks = 0;
  let mask = new Uint8Array(0);
  let logits = new Float64Array(0);
  let biasSet = false;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    const every = expected ? Math.max(1, Math.floor(expected / (options.curvePoints ?? 50))) : 0;
    let epochRows = 0;
    let trained = 0;
    let epochClicks = 0;
    let lossSum = 0;
    let weightSum = 0;
    let winLoss = 0;
    let winWeight = 0;
    let nextPoint = every;
    for await (const batch of source.batches()) {
      const n = batch.rows;
      if (mask.length < n) {
        mask = new Uint8Array(n);
        logits = new Float64Array(n);
      }
      const labels = batch.labels;
      let useMask: Uint8Array | null = null;
      if (rate < 1) {
        useMask = mask;
        for (let r = 0; r < n; r++) mask[r] = labels[r] > 0 || rng.next() < rate ? 1 : 0;
      }
      if (!biasSet) {
        biasSet = true;
        const init = options.initialBias ?? 'auto';
        model.linear.setInitialBias(init === 'auto' ? startingLogit(labels, n, useMask) : init);
      }
      model.fit(batch.indices, batch.values, labels, n, useMask, logits);
      for (let r = 0; r < n; r++) {
        const y = labels[r];
        epochClicks += y;
        const z = logits[r];
        if (Number.isNaN(z)) continue;
        trained++;
        // Negatives stand for 1/rate rows each: the weighted loss estimates the loss on unsampled traffic.
        const w = y > 0 ? 1 : negWeight;
        const l = w * rowLogloss(sigmoid(z + shift), y);
        winLoss += l;
        winWeight += w;
        if (every && epochRows + r + 1 >= nextPoint) {
          lossSum += winLoss;
          weightSum += winWeight;
          curve.push({ epoch, rows: totalRows + epochRows + r + 1, logloss: winLoss / winWeight, epochLogloss: lossSum / weightSum });
          await options.onMetrics?.({ train_progressive_logloss: winLoss / winWeight }, totalRows + epochRows + r + 1);
          winLoss = 0;
          winWeight = 0;
          nextPoint += every;
        }
      }
      epochRows += n;
      options.onProgress?.(epochRows, epoch);
    }
    if (!every && winWeight > 0) curve.push({ epoch, rows: totalRows + epochRows, logloss: winLoss / winWeight, epochLogloss: (lossSum + winLoss) / (weightSum + winWeight) });
    lossSum += winLoss;
    weightSum += winWeight;
    if (epochRows === 0) throw new RangeError('the training source yielded no rows');
    expected ??= epochRows;
    totalRows += epochRows;
    rowsPerEpoch = epochRows;
    clicks = epochClicks;

    const params = model.toParams(shift);
    const event: EpochEvent = {
      epoch,
      rows: epochRows,
      trainedRows: trained,
      trainLogloss: weightSum ? lossSum / weightSum : NaN,
      seconds: (performance.now() - t0) / 1000,
    };
    if (options.validation) {
      const scored = await scoreRows(params, options.validation);
      const m = binaryMetrics(scored.predictions, scored.labels);
      event.validationLogloss = m.logloss;
      event.validationAuc = m.auc;
    }
    history.push(event);
    await options.onMetrics?.(
      {
        train_logloss: event.trainLogloss,
        ...(event.validationLogloss === undefined ? {} : { validation_logloss: event.validationLogloss, validation_auc: event.validationAuc! }),
      },
      totalRows,
    );
    await options.onEpoch?.(event);

    const loss = event.validationLogloss ?? event.trainLogloss;
    const minDelta = options.earlyStopping?.minDelta ?? 0;
    if (!best || loss < best.loss - minDelta || !options.earlyStopping || !options.validation) {
      best = { params, loss, epoch };
      sinceBest = 0;
    } else if (++sinceBest >= (options.earlyStopping.patience ?? 1)) {
      break;
    }
  }

  return {
    params: best!.params,
    family: options.family,
    options: {
      family: options.family,
      epochs,
      negativeSampling: rate,
      seed,
      ftrl: model.linear.options,
      ...(model instanceof FactorizationMachine ? { fm: { ...model.options } } : {}),
    },
    rows: rowsPerEpoch,
    clicks,
    epochs: history,
    bestEpoch: best!.epoch,
    curve,
    seconds: (performance.now() - started) / 1000,
  };
}
