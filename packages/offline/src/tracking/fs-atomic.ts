/**
 * Crash-safe file primitives for the local tracking store. Every whole-file write goes to a temporary file in the
 * same folder, is fsync'ed, then renamed (or hard-linked, when it must not replace an existing file) into place:
 * readers see the old file or the new one, never half of one, even when the writer is killed mid-way.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { TrackingError } from '@lockstep/sdk';

function tempName(file: string): string {
  return path.join(path.dirname(file), `.tmp-${path.basename(file)}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function writeTemp(file: string, data: string | Uint8Array): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  const handle = await fs.open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tmp;
}

/** Replace `file` atomically with `data` (temp file + fsync + rename). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(file, data);
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Create `file` with `data` only if it does not exist yet, atomically: the complete temp file is hard-linked into
 * place (link fails with EEXIST instead of replacing). Returns false when the file already existed.
 */
export async function createFileExclusive(file: string, data: string | Uint8Array): Promise<boolean> {
  const tmp = await writeTemp(file, data);
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Append `text` (whole lines, each ending in `\n`) with one O_APPEND write: concurrent appenders never interleave
 * inside a line, and a writer killed mid-way leaves at most one torn last line, which `readJsonLines` skips.
 */
export async function appendLines(file: string, text: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
  const handle = await fs.open(file, flags, 0o644).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await fs.mkdir(path.dirname(file), { recursive: true });
    return fs.open(file, flags, 0o644);
  });
  try {
    await handle.write(text);
  } finally {
    await handle.close();
  }
}

/**
 * Read a JSON-lines file, skipping a torn line. A torn line can also have a later line glued to it (a writer was
 * killed mid-line, then another appended): the record that starts after the tear is recovered.
 */
export async function readJsonLines<T>(file: string, recordStart = '{'): Promise<{ records: T[]; skipped: number }> {
  const text = await readTextIfExists(file);
  const records: T[] = [];
  let skipped = 0;
  if (text === undefined) return { records, skipped };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = parseLine<T>(line) ?? parseLine<T>(line.slice(line.lastIndexOf(recordStart)));
    if (parsed === undefined) skipped++;
    else records.push(parsed);
  }
  return { records, skipped };
}

function parseLine<T>(line: string): T | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** A JSON file's value, or undefined when it does not exist; a file that is not JSON is a TrackingError naming it. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    // Files are replaced atomically, so this is damage from outside (an edit, a disk): say which file it is.
    throw new TrackingError('CORRUPT_FILE', `${file} is not valid JSON (${(err as Error).message}): repair or remove it`, { cause: err });
  }
}

/**
 * Names in a folder, without dot-files (temp files and locks start with a dot; encoded keys never do); [] when the
 * folder does not exist.
 */
export async function listNames(dir: string): Promise<string[]> {
  try {
    const names = await fs.readdir(dir);
    return names.filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of {@link withLock}. */
export interface LockOptions {
  /** Give up after this long. @default 10000 */
  timeoutMs?: number;
}

/**
 * Run `fn` holding an exclusive lock file (`O_CREAT|O_EXCL`, holding the owner's pid). A lock left by a process that
 * died (its pid is gone) is taken over, so a killed writer never wedges the store. Locks are only held for a few
 * file operations (read-modify-write of one small file), never across user code.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  await fs.mkdir(path.dirname(lockFile), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fs.open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt((await readTextIfExists(lockFile)) ?? '', 10);
      // An empty file is a lock whose owner is between open and write: wait for it like any live owner.
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        await fs.rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${lockFile} (held by pid ${owner})`);
      await new Promise((r) => setTimeout(r, Math.min(2 + attempt, 25)));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockFile, { force: true });
  }
}

/**
 * Run `fn` over `items` with at most `limit` in flight: independent files of one batch are written in parallel
 * (each fsync waits on the disk), without opening hundreds of files at once.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
