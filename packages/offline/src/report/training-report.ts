/**
 * The training report: one self-contained HTML page (inline SVG, no scripts, no external assets) written next to
 * the model. Headline metrics beside the Bayes limit when known, ROC, reliability and learning curves, the
 * reliability table, per-slice figures and everything needed to reproduce the run.
 */
import type { Evaluation, PredictorFigures, SliceFigures } from '../evaluate/evaluate.ts';
import type { BinaryMetrics } from '../evaluate/metrics.ts';
import type { TrainResult } from '../train/trainer.ts';
import { escapeXml, lineChart, type Series } from './svg-chart.ts';

export interface TrainingReportInput {
  /** Model name, e.g. ads-ctr. */
  name: string;
  /** Training window and evaluation window, as shown to the reader. */
  trainWindow: { start: string; end: string };
  evalWindow?: { start: string; end: string };
  result: TrainResult;
  /** Evaluation on held-out rows. */
  evaluation?: Evaluation;
  /** Extra facts for the run table (dataset, code version, training-set digest…). */
  facts?: Record<string, string | number>;
  createdAt?: string;
}

const COLORS = { model: '#1f6feb', bayes: '#d97706', ref: '#888', validation: '#16a34a' };

function num(v: number | undefined, digits = 4): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  return Number.isInteger(v) || Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const th = head.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? num(c) : escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

function metricRow(label: string, m: BinaryMetrics): Array<string | number> {
  return [label, m.auc, m.logloss, m.ne, m.calibration, m.rows, m.ctr];
}

function rocChart(model: PredictorFigures, bayes?: PredictorFigures): string {
  const series: Series[] = [
    { name: `model (AUC ${num(model.metrics.auc)})`, points: model.roc.map((p) => [p.fpr, p.tpr]), color: COLORS.model },
  ];
  if (bayes) series.push({ name: `Bayes-optimal (AUC ${num(bayes.metrics.auc)})`, points: bayes.roc.map((p) => [p.fpr, p.tpr]), color: COLORS.bayes, dashed: true });
  series.push({ name: 'chance', points: [[0, 0], [1, 1]], color: COLORS.ref, dashed: true });
  return lineChart({ title: 'ROC', xLabel: 'false-positive rate', yLabel: 'true-positive rate', series, x: [0, 1], y: [0, 1] });
}

function reliabilityChart(model: PredictorFigures): string {
  const bins = model.reliability;
  const hi = Math.max(...bins.map((b) => Math.max(b.meanPrediction, b.high)), 0.01) * 1.05;
  return lineChart({
    title: 'Reliability (equal-count bins, 95% intervals)',
    xLabel: 'mean predicted probability',
    yLabel: 'observed click rate',
    x: [0, hi],
    y: [0, hi],
    series: [
      { name: 'model', points: bins.map((b) => [b.meanPrediction, b.observedRate]), errors: bins.map((b) => [b.low, b.high]), color: COLORS.model, markers: true },
      { name: 'perfect calibration', points: [[0, 0], [hi, hi]], color: COLORS.ref, dashed: true },
    ],
  });
}

function learningChart(result: TrainResult, evaluation?: Evaluation): string {
  const series: Series[] = [];
  for (let e = 1; e <= result.epochs.length; e++) {
    const points = result.curve.filter((p) => p.epoch === e);
    const label = result.epochs.length > 1 ? `, epoch ${e}` : '';
    if (points.length > 1) series.push({ name: `progressive log loss per window${label}`, points: points.map((p) => [p.rows, p.logloss]), color: '#b9cdf0' });
    if (points.length) series.push({ name: `progressive log loss, running mean${label}`, points: points.map((p) => [p.rows, p.epochLogloss]), color: COLORS.model });
  }
  const val = result.epochs.filter((e) => e.validationLogloss !== undefined);
  let rowsSoFar = 0;
  const valPts: Array<[number, number]> = [];
  for (const e of result.epochs) {
    rowsSoFar += e.rows;
    if (e.validationLogloss !== undefined) valPts.push([rowsSoFar, e.validationLogloss]);
  }
  if (val.length) series.push({ name: 'validation log loss (end of epoch)', points: valPts, color: COLORS.validation, markers: true });
  const xEnd = Math.max(rowsSoFar, 1);
  if (evaluation) series.push({ name: `evaluation log loss ${num(evaluation.metrics.logloss)}`, points: [[0, evaluation.metrics.logloss], [xEnd, evaluation.metrics.logloss]], color: COLORS.ref, dashed: true });
  if (evaluation?.bayes) series.push({ name: `Bayes limit ${num(evaluation.bayes.metrics.logloss)}`, points: [[0, evaluation.bayes.metrics.logloss], [xEnd, evaluation.bayes.metrics.logloss]], color: COLORS.bayes, dashed: true });
  // The first windows of online learning are far above the rest: start the y axis from the data's lower end.
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const sorted = [...ys].sort((a, b) => a - b);
  const y: [number, number] = [sorted[0] * 0.97, (sorted[Math.floor(sorted.length * 0.95)] ?? sorted.at(-1) ?? 1) * 1.05];
  return lineChart({ title: 'Learning curve', xLabel: 'training rows seen', yLabel: 'log loss', series, x: [0, xEnd], y, width: 560 });
}

function sliceTables(slices: Record<string, SliceFigures[]>): string {
  return Object.entries(slices)
    .map(
      ([name, rows]) =>
        `<h3>By ${escapeXml(name)}</h3>` +
        table(
          [name, 'rows', 'clicks', 'CTR', 'mean prediction', 'calibration', 'log loss', 'NE', 'AUC'],
          rows.map((s) => [s.value, s.rows, s.clicks, s.ctr, s.meanPrediction, s.calibration, s.logloss, s.ne, s.auc]),
        ),
    )
    .join('\n');
}

export function trainingReportHtml(input: TrainingReportInput): string {
  const { result, evaluation } = input;
  const o = result.options;
  const headline: Array<Array<string | number>> = [];
  if (evaluation) headline.push(metricRow(`${input.name} (${result.family})`, evaluation.metrics));
  if (evaluation?.bayes) headline.push(metricRow('Bayes-optimal (oracle)', evaluation.bayes.metrics));
  const e1 = result.epochs.at(-1);
  const facts: Array<[string, string | number]> = [
    ['model', `${input.name} (${result.family === 'lr' ? 'logistic regression, FTRL-Proximal' : 'factorization machine'})`],
    ['created', input.createdAt ?? new Date().toISOString()],
    ['training window', `${input.trainWindow.start} → ${input.trainWindow.end}`],
    ...(input.evalWindow ? ([['evaluation window', `${input.evalWindow.start} → ${input.evalWindow.end}`]] as Array<[string, string]>) : []),
    ['training rows (per epoch)', result.rows],
    ['training clicks', result.clicks],
    ['epochs run / kept', `${result.epochs.length} / ${result.bestEpoch}`],
    ['negative down-sampling', o.negativeSampling === 1 ? 'none' : `keep ${o.negativeSampling} of negatives (bias corrected by log ${o.negativeSampling})`],
    ['seed', o.seed],
    ['FTRL', JSON.stringify(o.ftrl)],
    ...(o.fm ? ([['FM', JSON.stringify(o.fm)]] as Array<[string, string]>) : []),
    ['training time', `${result.seconds.toFixed(1)} s (${Math.round((result.rows * result.epochs.length) / Math.max(result.seconds, 1e-9)).toLocaleString('en-US')} rows/s)`],
    ...(e1 ? ([['last epoch progressive log loss', num(e1.trainLogloss)]] as Array<[string, string]>) : []),
    ...Object.entries(input.facts ?? {}),
  ];
  const title = `Training report: ${input.name}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:14px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}th{background:#f5f5f5}.charts{display:flex;flex-wrap:wrap;gap:12px}
.note{color:#666;font-size:12px}
</style></head><body>
<h1>${escapeXml(title)}</h1>
${headline.length ? `<h2>Evaluation</h2>\n${table(['predictor', 'AUC', 'log loss', 'NE', 'calibration', 'rows', 'CTR'], headline)}
<p class="note">NE: log loss divided by the entropy of the evaluation rows' click rate (He et al. 2014). Calibration: predicted clicks / observed clicks.${evaluation?.bayes ? ' The Bayes-optimal row scores the same rows with the generator\'s true probabilities: no model can do better on average.' : ''}</p>` : ''}
<h2>Curves</h2>
<div class="charts">${evaluation ? rocChart(evaluation, evaluation.bayes) + reliabilityChart(evaluation) : ''}${learningChart(result, evaluation)}</div>
${evaluation ? `<h2>Reliability table</h2>\n${table(['bin', 'rows', 'clicks', 'min p', 'max p', 'mean p', 'observed', '95% low', '95% high'], evaluation.reliability.map((b, i) => [String(i + 1), b.rows, b.clicks, b.minPrediction, b.maxPrediction, b.meanPrediction, b.observedRate, b.low, b.high]))}` : ''}
${evaluation && Object.keys(evaluation.slices).length ? `<h2>Slices</h2>\n${sliceTables(evaluation.slices)}` : ''}
<h2>Epochs</h2>
${table(['epoch', 'rows', 'trained rows', 'progressive log loss', 'validation log loss', 'validation AUC', 'seconds'], result.epochs.map((e) => [String(e.epoch), e.rows, e.trainedRows, e.trainLogloss, e.validationLogloss ?? NaN, e.validationAuc ?? NaN, e.seconds]))}
<h2>Run</h2>
${table(['', ''], facts.map(([k, v]) => [k, typeof v === 'number' ? v.toLocaleString('en-US') : v]))}
</body></html>
`;
}
