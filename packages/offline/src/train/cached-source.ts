/**
 * Vectorise once, train many epochs: the first pass reads the underlying source (DuckDB + vectoriser, the slow
 * part) and appends each batch's indices, values and labels to three files; later passes stream those files back
 * in fixed-size batches through reusable buffers. Memory stays that of one batch; disk holds 8·F + 4 bytes a row.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchSource, RowBatch } from './batch-source.ts';

export interface CachedSource extends BatchSource {
  /** Deletes the cache files. */
  close(): void;
}

export interface CachedSourceOptions {
  /** Folder to create the cache folder in. */
  dir: string;
  /** Rows per batch when replaying. @default 8192 */
  batchSize?: number;
}

export function cachedSource(inner: BatchSource, options: CachedSourceOptions): CachedSource {
  const { width, dimension } = inner;
  const size = options.batchSize ?? 8192;
  let folder: string | undefined;
  let rows = -1; // rows cached by a complete first pass; −1 while none is complete

  async function* firstPass(): AsyncIterable<RowBatch> {
    folder = mkdtempSync(join(options.dir, 'lockstep-epoch-cache-'));
    const fds = ['indices', 'values', 'labels'].map((n) => openSync(join(folder!, n), 'w'));
    let n = 0;
    try {
      for await (const b of inner.batches()) {
        writeSync(fds[0], bytes(b.indices));
        writeSync(fds[1], bytes(b.values));
        writeSync(fds[2], bytes(b.labels));
        n += b.rows;
        yield b;
      }
      rows = n;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  async function* replay(): AsyncIterable<RowBatch> {
    const fds = ['indices', 'values', 'labels'].map((n) => openSync(join(folder!, n), 'r'));
    const indices = new Int32Array(size * width);
    const values = new Float32Array(size * width);
    const labels = new Float32Array(size);
    try {
      for (let from = 0; from < rows; from += size) {
        const n = Math.min(size, rows - from);
        readFully(fds[0], bytes(indices.subarray(0, n * width)));
        readFully(fds[1], bytes(values.subarray(0, n * width)));
        readFully(fds[2], bytes(labels.subarray(0, n)));
        yield { rows: n, indices: indices.subarray(0, n * width), values: values.subarray(0, n * width), labels: labels.subarray(0, n), columns: {} };
      }
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  }

  return {
    width,
    dimension,
    batches() {
      if (rows >= 0) return replay();
      // An interrupted first pass leaves an incomplete cache: start over.
      if (folder) rmSync(folder, { recursive: true, force: true });
      return firstPass();
    },
    close() {
      if (folder) rmSync(folder, { recursive: true, force: true });
      folder = undefined;
      rows = -1;
    },
  };
}

function bytes(a: Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function readFully(fd: number, into: Uint8Array): void {
  let off = 0;
  while (off < into.byteLength) {
    const n = readSync(fd, into, off, into.byteLength - off, null);
    if (n === 0) throw new Error('epoch cache file ended early');
    off += n;
  }
}
