/**
 * Parse the recorded MLflow exchanges in shared/mlflow: `>>> METHOD PATH BODY`, then the answer's body and
 * `[HTTP status]` (absent on a few 200 answers). The recordings abbreviate large bodies; those abbreviations are
 * expanded back to the bodies that were sent:
 * - `"aaa...a (6001 x a)"` → a string of 6001 `a`s;
 * - `[{…"key":"m0"…}, ... 1001 items, keys m0..m1000]` → 1001 copies of the first item with keys m0 … m1000;
 * - `<binary 33 bytes, Content-Type: …, sha256 6b02…>` → a binary body of that size (its bytes are not recorded).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type RecordedBody =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'binary'; size: number; sha256Prefix: string; contentType?: string }
  | { kind: 'raw'; text: string };

export interface RecordedExchange {
  /** Position in the transcript, from 0. */
  index: number;
  method: string;
  /** Decoded path, without the query. */
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  request: RecordedBody;
  status: number;
  response: RecordedBody;
  /** The answer's body exactly as recorded (status suffix removed), served verbatim by the replay server. */
  responseText: string;
}

/**
 * The recordings, copied from shared/mlflow into the repo (so the contract tests need nothing outside it);
 * `transcripts.test.ts` checks the copies still match shared/ when it is there.
 */
export const TRANSCRIPTS_DIR = path.join(import.meta.dirname, 'transcripts');

/** Where the shared originals are: `../shared/mlflow` beside the repo. */
export const SHARED_TRANSCRIPTS_DIR = path.resolve(import.meta.dirname, '../../../../..', '..', 'shared', 'mlflow');

function expandLongStrings(text: string): string {
  return text.replace(/"(.)\1\1\.\.\.\1 \((\d+) x \1\)"/g, (_m, c: string, n: string) => JSON.stringify(c.repeat(Number(n))));
}

function expandItemLists(text: string): string {
  return text.replace(/\[(\{[^[\]]*?\}), \.\.\. (\d+) items, keys ([A-Za-z_]+)(\d+)\.\.\3\d+\]/g, (_m, first: string, n: string, prefix: string) => {
    const item = JSON.parse(first) as Record<string, unknown>;
    const items = Array.from({ length: Number(n) }, (_, i) => ({ ...item, key: `${prefix}${i}` }));
    return JSON.stringify(items);
  });
}

function parseBody(text: string): RecordedBody {
  const t = text.trim();
  if (t === '' || t.startsWith('(')) return { kind: 'none' };
  const bin = /^<binary (\d+) bytes(?:, Content-Type: ([^,>]+))?, sha256 ([0-9a-f]+)\.*>$/.exec(t);
  if (bin) return { kind: 'binary', size: Number(bin[1]), sha256Prefix: bin[3], ...(bin[2] ? { contentType: bin[2].trim() } : {}) };
  try {
    return { kind: 'json', value: JSON.parse(expandItemLists(expandLongStrings(t))) };
  } catch {
    return { kind: 'raw', text: t };
  }
}

export function parseTranscript(text: string): RecordedExchange[] {
  const exchanges: RecordedExchange[] = [];
  const blocks = text.split(/^>>> /m).slice(1);
  for (const block of blocks) {
    const newline = block.indexOf('\n');
    const requestLine = newline < 0 ? block : block.slice(0, newline);
    let responseText = newline < 0 ? '' : block.slice(newline + 1).replace(/\s+$/, '');
    const m = /^(\S+) (\S+) ?(.*)$/.exec(requestLine);
    if (!m) throw new Error(`unparseable request line: ${requestLine}`);
    const [, method, target, bodyText] = m;
    let status = 200;
    const statusMatch = /\s*\[HTTP (\d+)\]$/.exec(responseText);
    if (statusMatch) {
      status = Number(statusMatch[1]);
      responseText = responseText.slice(0, statusMatch.index);
    }
    const url = new URL(target, 'http://recorded');
    exchanges.push({
      index: exchanges.length,
      method,
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      request: parseBody(bodyText),
      status,
      response: parseBody(responseText),
      responseText,
    });
  }
  return exchanges;
}

export function loadTranscript(file: string): RecordedExchange[] {
  return parseTranscript(readFileSync(path.isAbsolute(file) ? file : path.join(TRANSCRIPTS_DIR, file), 'utf8'));
}
