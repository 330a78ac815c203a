/**
 * RESP replies (as iovalkey hands them over with buffer replies: Buffer, number, null, nested arrays, ReplyError)
 * to the JSON text of Upstash REST answers. The JSON is built by hand: base64 needs no escaping, and skipping
 * an intermediate object tree is most of what makes a 100-key MGET cheap.
 *
 * Encoding, matching what `@upstash/redis` decodes (`decode()` in its `pkg/http.ts`):
 * - `Upstash-Encoding: base64`: every string, nested or not, is base64 of its bytes, except a top-level `OK`,
 *   which is sent as is (the client passes a top-level "OK" through undecoded). Integers and null are JSON.
 * - otherwise: strings are UTF-8 decoded into JSON strings (bytes that are not UTF-8 become U+FFFD).
 *
 * @module
 */

/** A reply as it comes from iovalkey with `replyEncoding: null`. */
export type RespReply = Buffer | string | number | null | Error | RespReply[];

/** True for a Buffer holding exactly `OK`. */
function isOk(value: Buffer): boolean {
  return value.length === 2 && value[0] === 79 && value[1] === 75;
}

/** A reply nested anywhere, as JSON. */
function encodeValue(value: RespReply, base64: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (Buffer.isBuffer(value)) return base64 ? `"${value.toString('base64')}"` : JSON.stringify(value.toString());
  if (typeof value === 'string') return base64 ? `"${Buffer.from(value).toString('base64')}"` : JSON.stringify(value);
  if (Array.isArray(value)) {
    const n = value.length;
    if (n === 0) return '[]';
    let out = '[' + encodeValue(value[0], base64);
    for (let i = 1; i < n; i++) out += ',' + encodeValue(value[i], base64);
    return out + ']';
  }
  // A nested error (only EXEC results carry them, and those are unpacked before this): keep its message.
  return base64 ? `"${Buffer.from(value.message).toString('base64')}"` : JSON.stringify(value.message);
}

/** `{"result":…}` for one successful command. */
export function encodeResult(value: RespReply, base64: boolean): string {
  if (base64 && Buffer.isBuffer(value) && isOk(value)) return '{"result":"OK"}';
  if (base64 && value === 'OK') return '{"result":"OK"}';
  return `{"result":${encodeValue(value, base64)}}`;
}

/** `{"error":"…"}` */
export function encodeError(message: string): string {
  return `{"error":${JSON.stringify(message)}}`;
}

/** One entry of a batch answer: an error entry for a failed command, a result otherwise. */
export function encodeEntry(value: RespReply, base64: boolean): string {
  return value instanceof Error ? encodeError(value.message) : encodeResult(value, base64);
}
