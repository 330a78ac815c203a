/**
 * The bundle's feature snapshot: for each view the model reads, the latest row per entity as of the training
 * cut-off, written as one Arrow IPC file per view (`features/<view>.arrow`; layout in the SDK's BundleSnapshot).
 * Record batches stream from DuckDB into the file writer, so memory stays that of one batch.
 */
import { RecordBatch, RecordBatchFileWriter, Schema } from 'apache-arrow';
import type { FeatureViewSpec } from '@lockstep/sdk';

/** A view's latest rows, as the engine's `latestFeatures(view, asOf)` job gives them. */
export interface LatestRows {
  batches(): AsyncIterable<RecordBatch>;
}

export interface SnapshotFile {
  view: string;
  /** Path inside the bundle. */
  file: string;
  rows: number;
  bytes: Uint8Array;
}

/** The bundle path of a view's snapshot file. */
export function snapshotFileName(view: string): string {
  return `features/${view}.arrow`;
}

/** Writes one view's latest rows as an Arrow IPC file, with the view, its schema hash and the as-of in the schema. */
export async function snapshotView(spec: FeatureViewSpec, asOf: Date, latest: LatestRows): Promise<SnapshotFile> {
  const metadata = new Map([
    ['lockstep.view', spec.name],
    ['lockstep.schemaHash', spec.schemaHash],
    ['lockstep.asOf', asOf.toISOString()],
  ]);
  const writer = new RecordBatchFileWriter();
  let schema: Schema | undefined;
  let rows = 0;
  for await (const batch of latest.batches()) {
    schema ??= new Schema(batch.schema.fields, metadata);
    writer.write(new RecordBatch(schema, batch.data));
    rows += batch.numRows;
  }
  // A view with no rows yet still gets a file with its schema, so readers need no special case.
  if (!schema) writer.reset(undefined, new Schema([], metadata));
  writer.finish();
  return { view: spec.name, file: snapshotFileName(spec.name), rows, bytes: await writer.toUint8Array() };
}
