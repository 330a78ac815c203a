/** What the CLI's tests share: the `lockstep` executable, a promisified execFile, and a scratch folder per file. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';

/** The CLI's executable in the workspace (runs the sources through tsx). */
export const BIN = fileURLToPath(new URL('../../../bin/lockstep.mjs', import.meta.url));

export const run = promisify(execFile);

/** A fresh temporary folder for the calling test file, removed after its tests; the getter is valid inside them. */
export function useTempRoot(name: string): () => string {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), `lockstep-cli-${name}-`));
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });
  return () => root;
}
