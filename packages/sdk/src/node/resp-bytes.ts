/**
 * The bytes of RESP2 that the hand-written readers and writers share (the store's read connection, the gateway's
 * connection): type and line-end bytes, and reading a `[-]digits\r\n` line in place.
 *
 * @module
 */

export const STAR = 42; // '*'
export const DOLLAR = 36; // '$'
export const PLUS = 43; // '+'
export const MINUS = 45; // '-'
export const COLON = 58; // ':'
export const CR = 13;
export const LF = 10;

/** A scan's answer: the bytes go on in the next chunk. */
export const INCOMPLETE = -1;
/** A scan's answer: the bytes are not RESP2. */
export const CORRUPT = -2;

/** The integer read by the last {@link readRespInteger} (a module variable: no object per value). */
export let respInteger = 0;

/**
 * Read `[-]digits\r\n` at `buf[p..n)` into {@link respInteger} (accumulated as iovalkey's parser does, so that
 * integers beyond 2^53 round the same way); returns the offset after the line, {@link INCOMPLETE} when the line
 * goes on in the next chunk, or {@link CORRUPT} when it is not a number line.
 */
export function readRespInteger(buf: Uint8Array, p: number, n: number): number {
  let sign = 1;
  if (p < n && buf[p] === MINUS) {
    sign = -1;
    p++;
  }
  let value = 0;
  let c = 0;
  const first = p;
  while (p < n && (c = buf[p]) >= 48 && c <= 57) {
    value = value * 10 + (c - 48);
    p++;
  }
  if (p + 1 >= n) return INCOMPLETE;
  if (c !== CR || buf[p + 1] !== LF || p === first) return CORRUPT;
  respInteger = sign * value;
  return p + 2;
}

/** A reply type byte, quoted, for error messages. */
export function respTypeName(byte: number): string {
  return JSON.stringify(String.fromCharCode(byte));
}
