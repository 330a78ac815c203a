/**
 * A MemoryStore holding given feature rows, published as one version: how the browser page and the workerd worker
 * of the scoring tests rebuild, inside their runtime, the store the Node side filled from the same fixture.
 */
import { MemoryStore, type FeatureViewSpec, type OnlineStoreCore, type WriteRow } from '@lockstep/sdk';

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

/** The rows a fill function writes (a score fixture's `fill`), captured as written instead of stored. */
export async function capturedRows(fill: (store: OnlineStoreCore) => Promise<unknown>): Promise<ViewRows[]> {
  const views: ViewRows[] = [];
  const capture = {
    allocateVersion: async () => 1,
    writeRows: async (view: FeatureViewSpec, rows: WriteRow[]) => void views.push({ view, rows: [...rows] }),
    publish: async () => ({ previous: {}, current: {} }),
  };
  await fill(capture as unknown as OnlineStoreCore);
  return views;
}
