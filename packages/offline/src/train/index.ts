/**
 * @module
 * Training, evaluation and export: FTRL-Proximal logistic regression and factorization machines trained online
 * over SDK-vectorised rows, evaluation beside the Bayes limit, the HTML report, ONNX export and model bundles.
 * See docs/training.md and docs/bundle-format.md.
 */
export * from './batch-source.ts';
export * from './cached-source.ts';
export * from './duckdb-source.ts';
export * from './ftrl.ts';
export * from './logistic-regression.ts';
export * from './factorization-machine.ts';
export * from './model-params.ts';
export * from './online-model.ts';
export * from './trainer.ts';
export * from './training-run.ts';
export { syntheticClicks, type SyntheticData, type SyntheticOptions } from './synthetic.ts';
export * from '../evaluate/metrics.ts';
export * from '../evaluate/evaluate.ts';
export { pythonUnavailable, runPython, DEBIAN_PYTHON } from '../evaluate/debian-python.ts';
export * from '../report/training-report.ts';
export { lineChart, type ChartOptions, type Series } from '../report/svg-chart.ts';
export * from '../export/onnx-model.ts';
export * from '../export/bundle-writer.ts';
export * from '../export/feature-snapshot.ts';
export { codeVersion } from '../export/code-version.ts';
export * from './tracked-training.ts';
