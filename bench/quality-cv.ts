/**
 * `npm run bench -- quality-cv [--datasets criteo-8k,avazu-8k] [--hash-bits 18,20,22] [--fold-seeds 2026,7] [--family lr|fm]`
 *
 * The cross-validation behind a choice of the quality bench's input specs and grids, without test: for each
 * hash-space size and each draw of the 5 stratified folds over train ∪ dev, lockstep-lr's best mean held-out log
 * loss over the quality bench's FTRL grid and epoch counts (the rule `npm run bench -- quality` chooses by), for
 * every input spec of the dataset. With `--family fm`, also lockstep-fm's best over the bench's FM grid, around the
 * LR's pick (the FM is tuned on the input spec the LR picked, as the bench does). A second fold draw shows whether a
 * difference belongs to the data or to one draw of folds.
 *
 * The last stdout line: {"bench":"quality-cv","datasets":{"<dataset>":{"<bits>":{"<fold seed>":{"logloss","auc",
 * "spec","config","fm"?:{"logloss","auc","config"}}}}}}.
 */
import { existsSync } from 'node:fs';
import { benchArgs } from './args.ts';
import { LR_GRID, assess, avazu, concatRows, criteo, crossValidation, fmGrid, loadRows } from './quality.ts';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export async function main(argv: string[]): Promise<Record<string, unknown>> {
  const args = benchArgs(argv, {
    datasets: { type: 'string', default: 'criteo-8k,avazu-8k' },
    'hash-bits': { type: 'string', default: '18,20,22' },
    'fold-seeds': { type: 'string', default: '2026,7' },
    family: { type: 'string', default: 'lr' },
  });
  if (args.family !== 'lr' && args.family !== 'fm') throw new RangeError(`--family must be lr or fm, got ${args.family}`);
  const bitsList = list(args['hash-bits']).map(Number);
  const seeds = list(args['fold-seeds']).map(Number);
  if (bitsList.some((b) => !Number.isInteger(b) || b < 10 || b > 24)) throw new RangeError(`--hash-bits must be integers in 10..24, got ${args['hash-bits']}`);
  if (seeds.some((s) => !Number.isInteger(s))) throw new RangeError(`--fold-seeds must be integers, got ${args['fold-seeds']}`);
  const datasets: Record<string, unknown> = {};
  for (const name of list(args.datasets)) {
    if (name !== 'criteo-8k' && name !== 'avazu-8k') throw new Error(`unknown dataset ${name} (criteo-8k, avazu-8k)`);
    const d = name === 'criteo-8k' ? criteo() : avazu();
    if (!existsSync(d.peer.final.test)) {
      console.error(`${name}: skipped (${d.peer.final.test} not found)`);
      continue;
    }
    type Best = { logloss: number; auc: number; config: Record<string, unknown> };
    const perBits: Record<string, Record<string, Best & { spec: string; fm?: Best }>> = {};
    for (const hashBits of bitsList) {
      const per: (typeof perBits)[string] = (perBits[hashBits] = {});
      const selections: Record<string, Record<number, ReturnType<typeof crossValidation>['selection']>> = {};
      for (const [specName, base] of Object.entries(d.specs)) {
        const spec = { ...base, hashBits };
        const pool = concatRows(await loadRows(d.tune.train, spec, d.label), await loadRows(d.tune.dev, spec, d.label));
        selections[specName] = {};
        for (const seed of seeds) {
          const selection = (selections[specName][seed] = crossValidation(pool, seed).selection);
          for (const config of LR_GRID) {
            const a = await assess('lr', config, selection);
            if (!per[seed] || a.loss < per[seed].logloss) per[seed] = { logloss: +a.loss.toFixed(6), auc: +a.auc.toFixed(4), spec: specName, config: { ...config, epochs: a.epochs } };
          }
          const b = per[seed];
          console.error(`${name} 2^${hashBits} "${specName}" folds ${seed}: best so far ${b.logloss} (${b.spec} ${JSON.stringify(b.config)})`);
        }
      }
      if (args.family !== 'fm') continue;
      for (const seed of seeds) {
        // As the bench does: the FM's grid sits around the LR's FTRL pick, on the input spec the LR picked.
        const lr = per[seed];
        let fm: Best | undefined;
        for (const config of fmGrid(lr.config.ftrl as Parameters<typeof fmGrid>[0])) {
          const a = await assess('fm', config, selections[lr.spec][seed]);
          if (!fm || a.loss < fm.logloss) fm = { logloss: +a.loss.toFixed(6), auc: +a.auc.toFixed(4), config: { ...config.fm, epochs: a.epochs } };
        }
        lr.fm = fm;
        console.error(`${name} 2^${hashBits} lockstep-fm folds ${seed}: best ${fm!.logloss} (${lr.spec} ${JSON.stringify(fm!.config)})`);
      }
    }
    datasets[name] = perBits;
  }
  return { bench: 'quality-cv', datasets };
}
