/**
 * The online key layout and value encoding (spec: docs/online-format.md). Writers (materialization) and readers
 * (the SDK's stores and scorer) both call these functions: there is one implementation of the format.
 *
 * Key:    ls:<project>:<view>:<schemaHash>:v<version>:<entity key>
 * Entity: join-key values joined by "|"; "%" and "|" inside a string value are percent-escaped.
 * Value:  a JSON array [eventTimeMs, f1, f2, …] with the view's features in spec order; null for a missing value.
 * Pointer: ls:<project>:_published holds a JSON object {"<view>:<schemaHash>": <version>, …}; flipping it publishes
 *         a whole snapshot at once.
 */
import type { FeatureViewSpec } from './spec/feature-view.ts';
import { InputError } from './errors.ts';

/** The version of this format, recorded in bundles and pointers. */
export const ONLINE_FORMAT_VERSION = 1;

/** A join-key value: strings and integers are supported. */
export type KeyPart = string | number;

/**
 * Encodes one entity's join-key values. Numbers must be safe integers (|n| ≤ 2^53 − 1): floats make ambiguous keys,
 * and so do integers past 2^53 (2^60 and 2^60 + 1 are the same double; 1e21 would be written "1e+21").
 */
export function encodeEntityKey(parts: readonly KeyPart[]): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    let s: string;
    if (typeof p === 'number') {
      if (!Number.isSafeInteger(p)) throw new InputError(`entity key part ${i} must be a safe integer (|n| ≤ 2^53 − 1) or a string, got ${p}`);
      s = String(p);
    } else if (typeof p === 'string') {
      s = p.includes('%') || p.includes('|') ? p.replace(/%/g, '%25').replace(/\|/g, '%7C') : p;
    } else {
      throw new InputError(`entity key part ${i} must be an integer or a string, got ${typeof p}`);
    }
    out += i ? `|${s}` : s;
  }
  return out;
}

/** The key prefix of one view's snapshot version: everything before the entity key. */
export function viewKeyPrefix(project: string, view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>, version: number): string {
  return `ls:${project}:${view.name}:${view.schemaHash}:v${version}:`;
}

/** The full key of one entity's row in one view snapshot. */
export function featureKey(
  project: string,
  view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>,
  version: number,
  entity: readonly KeyPart[],
): string {
  return viewKeyPrefix(project, view, version) + encodeEntityKey(entity);
}

/** The key of the project's publication pointer. */
export function pointerKey(project: string): string {
  return `ls:${project}:_published`;
}

/** The pointer's field for one view (a schema change is a different field, so old readers keep their version). */
export function pointerField(view: Pick<FeatureViewSpec, 'name' | 'schemaHash'>): string {
  return `${view.name}:${view.schemaHash}`;
}

/** A decoded row: when it was computed and its feature values in spec order. */
export interface FeatureRow {
  eventTimeMs: number;
  values: Array<number | null>;
}

/**
 * Encodes one row. Non-finite numbers are written as null (JSON has no NaN): readers apply the feature's default,
 * exactly as the offline join does for a null.
 */
export function encodeFeatureValue(eventTimeMs: number, values: ReadonlyArray<number | null | undefined>): string {
  // JSON.stringify writes numbers in their shortest round-trip form and non-finite numbers and undefined as null,
  // exactly the format; it measured 1.3-2x faster than concatenating the text by hand.
  return JSON.stringify([eventTimeMs, ...values]);
}

/**
 * Decodes one row written for `featureCount` features. Returns undefined for anything malformed or of another
 * width: a value that does not fit the reader's schema is treated as missing, never misread.
 *
 * The text {@link encodeFeatureValue} writes (no spaces, numbers in `JSON.stringify` form, `null`) is scanned
 * directly ({@link scanFeatureBytes}); anything else, including every value it refuses, goes to
 * {@link decodeFeatureValueJson}, the reference. Same results; faster than `JSON.parse` on values of short
 * numbers (counts, rounded rates); rows of 17-digit numbers go to the reference (see {@link scanMisses}).
 */
export function decodeFeatureValue(text: string | null | undefined, featureCount: number): FeatureRow | undefined {
  if (typeof text !== 'string') return undefined;
  // The scanner reads bytes (what a RESP reply holds): the text's UTF-8 into a scratch buffer (native, ~1 ns a
  // character); a longer text than the buffer goes to the reference.
  if (scanSkips > 0) scanSkips--;
  else if (text.length <= SCRATCH.length) {
    const { read, written } = UTF8_ENCODER.encodeInto(text, SCRATCH);
    const row = read === text.length ? scanCounted(SCRATCH, 0, written, featureCount) : undefined;
    if (row) return row;
  }
  return decodeFeatureValueJson(text, featureCount);
}

/**
 * {@link decodeFeatureValue} for a value as UTF-8 bytes (`bytes[start..end)`), e.g. a bulk string of a RESP
 * reply: the same results without making a string of it first.
 */
export function decodeFeatureBytes(bytes: Uint8Array, featureCount: number, start = 0, end = bytes.length): FeatureRow | undefined {
  if (scanSkips > 0) scanSkips--;
  else {
    const row = scanCounted(bytes, start, end, featureCount);
    if (row) return row;
  }
  return decodeFeatureValueJson(UTF8_DECODER.decode(bytes.subarray(start, end)), featureCount);
}

const SCRATCH = new Uint8Array(4096);
const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder();

/**
 * Values the scanner left to the reference in a row, and values to send straight to the reference. Rows of
 * 17-digit numbers (unrounded ratios) are all left to `JSON.parse`, and scanning them first only adds time: after
 * {@link SCAN_MISSES} of them in a row the scanner rests for {@link SCAN_REST} values, then tries again. Results
 * do not depend on it (the reference reads everything).
 */
let scanMisses = 0;
let scanSkips = 0;
const SCAN_MISSES = 8;
const SCAN_REST = 256;

/** {@link scanFeatureBytes}, counting the values it leaves to the reference. */
function scanCounted(bytes: Uint8Array, start: number, stop: number, featureCount: number): FeatureRow | undefined {
  const row = scanFeatureBytes(bytes, start, stop, featureCount);
  if (row) scanMisses = 0;
  else if (++scanMisses === SCAN_MISSES) {
    scanMisses = 0;
    scanSkips = SCAN_REST;
  }
  return row;
}

/** {@link decodeFeatureValue} through `JSON.parse`: the reference the scanner is tested against. */
export function decodeFeatureValueJson(text: string | null | undefined, featureCount: number): FeatureRow | undefined {
  if (typeof text !== 'string' || text.charCodeAt(0) !== 91 /* [ */) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== featureCount + 1) return undefined;
  const t = parsed[0];
  if (typeof t !== 'number' || !Number.isFinite(t)) return undefined;
  const values = new Array<number | null>(featureCount);
  for (let i = 0; i < featureCount; i++) {
    const v = parsed[i + 1];
    if (v !== null && typeof v !== 'number') return undefined;
    values[i] = v;
  }
  return { eventTimeMs: t, values };
}

/** Exact powers of ten as doubles (10^22 is the largest). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * The fast path of {@link decodeFeatureValue} and {@link decodeFeatureBytes} (exported for its tests), over the
 * value's bytes `bytes[start..stop)`: the row, or undefined for anything it does not read (not a
 * verdict: the caller asks the reference then). It reads only numbers with at most 15 significant digits and a
 * decimal exponent within ±22: then `digits / 10^k` (or `× 10^k`) is one correctly rounded IEEE operation on
 * exact operands, so it equals what `JSON.parse` returns. Longer numbers (e.g. 17-digit ratios) leave it at once:
 * `JSON.parse` converts those faster than any `Number(text.slice(…))` here.
 */
export function scanFeatureBytes(bytes: Uint8Array, start: number, stop: number, featureCount: number): FeatureRow | undefined {
  // `end`: the closing bracket. Reads never go past it but by the 3 bytes of a `null` check, and a scan that went
  // past it fails the final position check: bytes after `stop` may be anything.
  const end = stop - 1;
  if (end <= start || bytes[start] !== 91 /* [ */ || bytes[end] !== 93 /* ] */) return undefined;
  const values = new Array<number | null>(featureCount);
  let eventTimeMs = 0;
  let p = start + 1;
  for (let i = -1; i < featureCount; i++) {
    if (i >= 0) {
      if (bytes[p] !== 44 /* , */) return undefined;
      p++;
    }
    let c = bytes[p];
    if (c === 110 /* n */) {
      if (i < 0 || bytes[p + 1] !== 117 || bytes[p + 2] !== 108 || bytes[p + 3] !== 108) return undefined;
      values[i] = null;
      p += 4;
      continue;
    }
    const negative = c === 45; /* - */
    if (negative) c = bytes[++p];
    let mantissa = 0;
    let digits = 0;
    let exponent = 0;
    if (c === 48 /* 0 */) c = bytes[++p];
    else if (c >= 49 && c <= 57) {
      do {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        c = bytes[++p];
      } while (c >= 48 && c <= 57);
    } else return undefined;
    if (c === 46 /* . */) {
      c = bytes[++p];
      if (!(c >= 48 && c <= 57)) return undefined;
      do {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        exponent--;
        c = bytes[++p];
      } while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69 /* e E */) {
      c = bytes[++p];
      let sign = 1;
      if (c === 43 || c === 45) {
        if (c === 45) sign = -1;
        c = bytes[++p];
      }
      if (!(c >= 48 && c <= 57)) return undefined;
      let e = 0;
      do {
        if (e < 1000) e = e * 10 + (c - 48);
        c = bytes[++p];
      } while (c >= 48 && c <= 57);
      exponent += sign * e;
    }
    if (digits > 15 || exponent > 22 || exponent < -22) return undefined;
    const magnitude = exponent < 0 ? mantissa / POW10[-exponent] : mantissa * POW10[exponent];
    const v = negative ? -magnitude : magnitude;
    if (i < 0) eventTimeMs = v;
    else values[i] = v;
  }
  return p === end ? { eventTimeMs, values } : undefined;
}

/** Encodes the publication pointer. */
export function encodePointer(versions: Record<string, number>): string {
  return JSON.stringify(versions);
}

/** Decodes the publication pointer; an absent or malformed pointer publishes nothing. */
export function decodePointer(text: string | null | undefined): Record<string, number> {
  if (typeof text !== 'string') return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(v)) if (typeof n === 'number' && Number.isInteger(n)) out[k] = n;
    return out;
  } catch {
    return {};
  }
}
