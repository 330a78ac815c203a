/**
 * A child process for the local store's crash and concurrency tests: it writes to a store in a loop and prints
 * `ack <i>` after each write the store acknowledged, so the parent knows what must survive a SIGKILL.
 *
 *   tsx store-writer.ts <storeRoot> <runId> <writerName> <iterations>   (iterations 0 = until killed)
 */
import { LocalStore } from '../local-store.ts';

const [root, runId, writer, iterationsArg] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const store = await LocalStore.open(root);
const big = 'x'.repeat(64 * 1024);

for (let i = 0; iterations === 0 || i < iterations; i++) {
  await store.logBatch(runId, {
    params: [{ key: `${writer}.p${i}`, value: String(i) }],
    metrics: [
      { key: 'shared', value: i, timestamp: Date.now(), step: i },
      { key: `${writer}.m`, value: i, timestamp: Date.now(), step: i },
    ],
    tags: [{ key: `${writer}.last`, value: String(i) }],
  });
  // A large artifact rewritten every time: a kill mid-write must leave the old or the new content, never a mix.
  await store.uploadArtifact(runId, `${writer}/state.txt`, new TextEncoder().encode(`${i}\n${big}`));
  const version = await store.createModelVersion('shared-model', { source: `runs:/${runId}/${writer}`, runId, description: `${writer}:${i}` });
  await store.setModelAlias('shared-model', writer, version.version);
  try {
    await store.createExperiment(`exp-${i % 5}`);
  } catch {
    // the other writer created it first: the store refused a duplicate name, as it must
  }
  process.stdout.write(`ack ${i} ${version.version}\n`);
}
