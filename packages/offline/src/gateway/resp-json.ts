/**
 * RESP2 replies to Upstash REST answers, straight from the bytes: {@link scanReplies} finds where a request's
 * replies end (resumably, as chunks come in), {@link writeAnswer} writes the JSON answer from them into a
 * {@link JsonBytes}. The bytes written are exactly those of the reference path (iovalkey's parsed replies
 * through `encode-reply.ts`): see that module for the encoding rules.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { COLON, CORRUPT, CR, DOLLAR, INCOMPLETE, LF, MINUS, PLUS, STAR, readRespInteger, respInteger } from '@lockstep/sdk/node/resp';
import { execAbortMessage, type GatewayMode } from './answer-commands.ts';
import type { JsonBytes } from './encode-reply.ts';
import { GatewayRequestError } from './request-error.ts';

/** Where scanning a request's replies got to, kept between chunks. */
export interface ReplyScan {
  mode: GatewayMode;
  base64: boolean;
  /** Replies expected (the commands, plus MULTI and EXEC for a transaction). */
  count: number;
  /** Complete replies scanned so far. */
  done: number;
  /** Bytes from the first reply on that were scanned (resuming there when more bytes come). */
  scanned: number;
  /** Elements still expected by each open array at `scanned`, innermost last. */
  open: number[];
}

const O = 79;
const K = 75;



/**
 * Scan the replies of `head` from `buf[start + head.scanned]` to `n`, resumably: the offset after its last
 * reply once all `head.count` replies are complete, INCOMPLETE when more bytes are needed, CORRUPT when the
 * bytes are not RESP2.
 */
export function scanReplies(buf: Buffer, start: number, n: number, head: ReplyScan): number {
  const open = head.open;
  let p = start + head.scanned;
  while (head.done < head.count) {
    if (p >= n) return INCOMPLETE;
    const type = buf[p];
    let end: number;
    if (type === PLUS || type === MINUS) {
      const lf = buf.indexOf(LF, p);
      if (lf < 0 || lf >= n) return INCOMPLETE;
      end = lf + 1;
    } else if (type === COLON) {
      end = readRespInteger(buf, p + 1, n);
      if (end < 0) return end;
    } else if (type === DOLLAR) {
      end = readRespInteger(buf, p + 1, n);
      if (end < 0) return end;
      if (respInteger >= 0) {
        end += respInteger + 2;
        if (end > n) return INCOMPLETE;
        if (buf[end - 2] !== CR || buf[end - 1] !== LF) return CORRUPT;
      } else if (respInteger !== -1) return CORRUPT;
    } else if (type === STAR) {
      end = readRespInteger(buf, p + 1, n);
      if (end < 0) return end;
      if (respInteger < -1) return CORRUPT;
      if (respInteger > 0) {
        // An array opens: its elements follow; it is complete when they are.
        open.push(respInteger);
        p = end;
        head.scanned = p - start;
        continue;
      }
    } else {
      return CORRUPT;
    }
    p = end;
    // An element is complete: so is every array it completes, and a reply when no array is left open.
    for (;;) {
      if (open.length === 0) {
        head.done++;
        break;
      }
      if (--open[open.length - 1] > 0) break;
      open.pop();
    }
    head.scanned = p - start;
  }
  return p;
}

/**
 * Write the answer to the request whose complete replies start at `buf[start]` (scanned by
 * {@link scanReplies}); returns the HTTP status. Throws a GatewayRequestError for an aborted transaction.
 */
export function writeAnswer(json: JsonBytes, buf: Buffer, start: number, scan: ReplyScan): number {
  if (scan.mode === 'single') {
    entry(json, buf, start, scan.base64);
    // Upstash answers a single command Redis refused with 400.
    return buf[start] === MINUS ? 400 : 200;
  }
  if (scan.mode === 'multi-exec') {
    transaction(json, buf, start, scan);
    return 200;
  }
  json.byte(0x5b);
  let p = start;
  for (let i = 0; i < scan.count; i++) {
    if (i > 0) json.byte(0x2c);
    p = entry(json, buf, p, scan.base64);
  }
  json.byte(0x5d);
  return 200;
}

/** MULTI's reply, the commands' QUEUED (or refusals), EXEC's reply: the answer, or a 400 when it was aborted. */
function transaction(json: JsonBytes, buf: Buffer, start: number, head: ReplyScan): void {
  let p = skip(buf, start); // MULTI
  let refused = -1;
  let refusal: string | undefined;
  for (let i = 0; i < head.count - 2; i++) {
    if (buf[p] === MINUS && refused < 0) {
      refused = i;
      refusal = lineText(buf, p);
    }
    p = skip(buf, p);
  }
  if (buf[p] === MINUS) {
    // EXECABORT: say which command was refused while queueing, not only that the transaction was discarded.
    throw new GatewayRequestError(400, execAbortMessage(lineText(buf, p), refused, refusal));
  }
  const end = buf[p] === STAR ? readRespInteger(buf, p + 1, buf.length) : CORRUPT;
  if (end < 0 || respInteger < 0) throw new GatewayRequestError(500, 'ERR transaction was not executed');
  const n = respInteger;
  json.byte(0x5b);
  p = end;
  for (let i = 0; i < n; i++) {
    if (i > 0) json.byte(0x2c);
    p = entry(json, buf, p, head.base64);
  }
  json.byte(0x5d);
}

/** The text of the simple-string or error line at `p` (after its type byte). */
function lineText(buf: Buffer, p: number): string {
  return buf.toString('utf8', p + 1, buf.indexOf(LF, p) - 1);
}

/** True when the reply at `p` is `OK` (`+OK` or `$2 OK`). */
function isOk(buf: Buffer, p: number): boolean {
  const type = buf[p];
  if (type === PLUS) return buf[p + 1] === O && buf[p + 2] === K && buf[p + 3] === CR;
  return type === DOLLAR && buf[p + 1] === 50 && buf[p + 2] === CR && buf[p + 4] === O && buf[p + 5] === K;
}

/** One entry: `{"error":…}` for a refusal, `{"result":…}` otherwise; the offset after the reply. */
function entry(json: JsonBytes, buf: Buffer, p: number, base64: boolean): number {
  if (buf[p] === MINUS) {
    json.ascii('{"error":');
    json.jsonOfText(lineText(buf, p));
    json.byte(0x7d);
    return skip(buf, p);
  }
  if (base64 && isOk(buf, p)) {
    // A top-level OK is sent as is: the client passes it through undecoded.
    json.ascii('{"result":"OK"}');
    return skip(buf, p);
  }
  json.ascii('{"result":');
  p = value(json, buf, p, base64);
  json.byte(0x7d);
  return p;
}

/** A string's bytes `buf[start..end)`: base64 or UTF-8 text. */
function string(json: JsonBytes, buf: Buffer, start: number, end: number, base64: boolean): void {
  if (base64) json.base64(buf, start, end);
  else json.utf8(buf, start, end);
}

/** The reply at `p` (complete: scanned before) as JSON; the offset after it. */
function value(json: JsonBytes, buf: Buffer, p: number, base64: boolean): number {
  const type = buf[p];
  if (type === DOLLAR) {
    const start = readRespInteger(buf, p + 1, buf.length);
    if (respInteger < 0) {
      json.ascii('null');
      return start;
    }
    string(json, buf, start, start + respInteger, base64);
    return start + respInteger + 2;
  }
  if (type === STAR) {
    let q = readRespInteger(buf, p + 1, buf.length);
    const n = respInteger;
    if (n < 0) {
      json.ascii('null');
      return q;
    }
    json.byte(0x5b);
    for (let i = 0; i < n; i++) {
      if (i > 0) json.byte(0x2c);
      q = value(json, buf, q, base64);
    }
    json.byte(0x5d);
    return q;
  }
  const lf = buf.indexOf(LF, p);
  if (type === COLON) {
    // Up to 15 digits the text is exact; beyond, round as iovalkey's parser does (the reference answers).
    if (lf - 1 - (p + 1) <= 15) json.bytes(buf, p + 1, lf - 1);
    else {
      readRespInteger(buf, p + 1, buf.length);
      json.ascii(String(respInteger));
    }
  } else if (type === PLUS) {
    string(json, buf, p + 1, lf - 1, base64);
  } else {
    // A nested error (a script's table can hold one): its message as text, as the reference path writes it.
    const text = Buffer.from(lineText(buf, p));
    string(json, text, 0, text.length, base64);
  }
  return lf + 1;
}

/** The offset after the (complete) reply at `p`. */
function skip(buf: Buffer, p: number): number {
  const type = buf[p];
  if (type === DOLLAR) {
    const start = readRespInteger(buf, p + 1, buf.length);
    return respInteger < 0 ? start : start + respInteger + 2;
  }
  if (type === STAR) {
    let q = readRespInteger(buf, p + 1, buf.length);
    for (let i = respInteger; i > 0; i--) q = skip(buf, q);
    return q;
  }
  return buf.indexOf(LF, p) + 1;
}
