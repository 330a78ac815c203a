/**
 * A MemoryStore holding given feature rows, published as one version: how the browser page and the workerd worker
 * of the scoring tests rebuild, inside their runtime, the store the Node side filled from the same fixture.
 */
import { MemoryStore, type FeatureViewSpec, type WriteRow } from '@lockstep/sdk';

/** One view's rows, as the fixture wrote them. */
export interface ViewRows {
  view: FeatureViewSpec;
  rows: WriteRow[];
}

export async function memoryStoreWith(project: string, views: ViewRows[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  const version = await store.allocateVersion(project);
  for (const { view, rows } of views) await store.writeRows(view, rows, { project, version, keyExpiry: false });
  await store.publish(views.map(({ view }) => ({ view, version, watermark: { version, asOfMs: 0 } })), { project, force: true });
  return store;
}
