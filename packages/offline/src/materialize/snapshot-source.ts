/**
 * Materialization from a model bundle's feature snapshot (docs/bundle-format.md): per view one Arrow IPC file
 * `features/<view>.arrow` listed in `manifest.snapshot`, verified against the manifest's checksums on load.
 * Each file's schema metadata names its view and schema hash; a file of another schema is refused, never
 * written under this one.
 *
 * @module
 */
import { tableFromIPC } from 'apache-arrow';
import { BundleError, InputError, type BundleManifest } from '@lockstep/sdk';
import { readBundle } from '@lockstep/sdk/node';
import { recordBatchRows } from './arrow-rows.ts';
import type { MaterializationSource } from './source.ts';

/** A bundle's snapshot as a source, plus what the run needs from its manifest. */
export interface SnapshotSource extends MaterializationSource {
  manifest: BundleManifest;
  /** The snapshot's as-of time (epoch ms): the natural as-of of a run from it. */
  asOfMs: number;
}

/** Read and verify the bundle in `dir` (the snapshot files only) and serve its snapshot. */
export async function snapshotSource(dir: string): Promise<SnapshotSource> {
  const probe = await readBundle(dir, { only: [] });
  const snapshot = probe.manifest.snapshot;
  if (!snapshot) throw new InputError(`bundle ${dir} carries no feature snapshot (manifest.snapshot is absent)`, 'bundle');
  const files = Object.values(snapshot.views).map((v) => v.file);
  const { manifest, files: bytes } = await readBundle(dir, { only: files });
  const asOfMs = Date.parse(snapshot.asOf);
  if (!Number.isFinite(asOfMs)) throw new BundleError('BUNDLE_INVALID', `manifest.snapshot.asOf is not a time: ${snapshot.asOf}`);

  return {
    description: `feature snapshot of bundle ${manifest.name} (${dir}) as of ${snapshot.asOf}`,
    manifest,
    asOfMs,
    async count(view, range) {
      const entry = snapshot.views[view.name];
      return entry && range.afterMs === undefined && range.asOfMs >= asOfMs ? entry.rows : undefined;
    },
    async *rows(view, range) {
      const entry = snapshot.views[view.name];
      if (!entry) throw new InputError(`bundle ${manifest.name} has no snapshot of view ${view.name} (it has: ${Object.keys(snapshot.views).join(', ')})`, 'view');
      const table = tableFromIPC(bytes.get(entry.file)!);
      const meta = table.schema.metadata;
      const hash = meta.get('lockstep.schemaHash');
      if (meta.get('lockstep.view') !== view.name || hash !== view.schemaHash) {
        throw new BundleError(
          'BUNDLE_INVALID',
          `snapshot file ${entry.file} holds view ${meta.get('lockstep.view')} schema ${hash}, not ${view.name} schema ${view.schemaHash}`,
        );
      }
      for (const batch of table.batches) {
        const rows = recordBatchRows(batch, view, range);
        if (rows.length) yield rows;
      }
    },
  };
}
