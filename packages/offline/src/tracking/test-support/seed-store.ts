/**
 * Fill a tracker with a small, realistic history through the public API (what training does): a sweep of three
 * nested trials with per-epoch curves, lineage, a bundle and a report as artifacts, and a registry where the best
 * trial is `champion` and the next `challenger`. Used by the UI tests.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Tracker } from '../tracker.ts';

export interface SeededStore {
  parentId: string;
  trialIds: string[];
  championRunId: string;
}

export async function seedStore(tracker: Tracker, scratchDir: string): Promise<SeededStore> {
  const bundle = path.join(scratchDir, 'bundle');
  await fs.mkdir(bundle, { recursive: true });
  await fs.writeFile(path.join(bundle, 'manifest.json'), JSON.stringify({ format: 'lockstep-bundle', version: 1 }));
  await fs.writeFile(path.join(bundle, 'model.onnx'), new Uint8Array(64).fill(7));

  const start = Date.UTC(2026, 10, 20, 9, 0, 0);
  const parent = await tracker.startRun({ experiment: 'ads-ctr', name: 'lr-sweep', startTime: start, captureSource: false });
  const trialIds: string[] = [];
  const results: Array<{ id: string; auc: number }> = [];
  for (const [i, lr] of [0.01, 0.05, 0.2].entries()) {
    const trial = await parent.startChild({ name: `lr=${lr}`, startTime: start + 1000 * (i + 1), captureSource: false, tags: { model: 'logreg' } });
    await trial.logParams({ lr, epochs: 6, hash_bits: 18, l2: 1e-5 });
    await trial.logInput({ name: 'train', digest: 'sha256:5f1c0ffee', source: 'data/train.parquet', profile: { rows: 8000 } });
    let auc = 0;
    for (let epoch = 0; epoch < 6; epoch++) {
      const loss = 0.69 * Math.exp(-lr * 3 * (epoch + 1)) + 0.3 + (lr === 0.2 ? 0.02 * epoch : 0);
      auc = 0.5 + 0.25 * (1 - Math.exp(-lr * 4 * (epoch + 1))) - (lr === 0.2 ? 0.01 * epoch : 0);
      await trial.logMetrics({ loss, auc }, { step: epoch, timestamp: start + 1000 * (i + 1) + epoch * 100 });
    }
    await trial.logMetrics({ test_auc: auc - 0.005, test_logloss: 0.41 + lr / 10 }, { step: 6, timestamp: start + 1000 * (i + 1) + 700 });
    await trial.logArtifact(bundle, 'model');
    await trial.logText(
      `<!doctype html><html><body><h1>Training report: lr=${lr}</h1><p>AUC ${auc.toFixed(4)}</p></body></html>`,
      'report.html',
    );
    await trial.end('FINISHED', start + 1000 * (i + 1) + 900);
    trialIds.push(trial.id);
    results.push({ id: trial.id, auc });
  }
  await parent.end('FINISHED', start + 5000);
  results.sort((a, b) => b.auc - a.auc);
  for (const r of [...results].reverse()) await tracker.registerModel('ads-ctr', { runId: r.id, description: `auc ${r.auc.toFixed(4)}` });
  const versions = await tracker.backend.searchModelVersions('ads-ctr');
  const versionOf = (runId: string) => versions.find((v) => v.runId === runId)!.version;
  await tracker.setAlias('ads-ctr', 'champion', versionOf(results[0].id));
  await tracker.setAlias('ads-ctr', 'challenger', versionOf(results[1].id));
  return { parentId: parent.id, trialIds, championRunId: results[0].id };
}
