/**
 * The gateway's own RESP connection: each HTTP request's commands are encoded into one reused Buffer and
 * written at once, and the replies are transcoded straight from the bytes Redis sent into the JSON (and base64)
 * answer: no `Command` object, Buffer or string per argument or value. iovalkey ({@link iovalkeyRunner}) stays
 * the reference path and answers byte for byte the same (tested on a corpus of requests).
 *
 * Why: a 100-key MGET through iovalkey cost the gateway ~50 µs of CPU per request beyond this (command
 * encoding, a Buffer per value, a timer per command), measured under load on the 2-core development VM.
 *
 * Behaviour during outages, as the gateway's contract says (docs/gateway.md):
 * - while disconnected, requests fail at once (HTTP 503): there is no offline queue;
 * - commands in flight when the connection drops are failed, never re-sent (an INCR must not count twice);
 * - the connection is retried forever, at most 1 s apart (50 ms, 100 ms, … 1 s);
 * - a command without a reply after `commandTimeout` fails, with everything behind it, and the connection is
 *   dropped and reopened (replies come in order: nothing behind a hung command can be answered).
 *
 * It speaks RESP2 (`AUTH`, `SELECT`, `CLIENT SETNAME` first). The command policy keeps every command that
 * would change the connection's state or block it away from here.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { RedisOptions } from 'iovalkey';
import { InputError } from '@lockstep/sdk';
// The shared RESP connection base of the SDK's own Node connections (not part of its public API).
import {
  CORRUPT,
  CR,
  DOLLAR,
  INCOMPLETE,
  LF,
  READ_BUFFER_BYTES,
  RespConnection,
  SETUP_DROPPED,
  SETUP_INCOMPLETE,
  STAR,
  encodeRespCommand,
  putCount,
  type PendingSetup as SetupReplies,
  type RespConnectionOptions,
} from '@lockstep/sdk/node/resp';
import type { CommandRunner, GatewayAnswer, GatewayMode } from './answer-commands.ts';
import { JsonBytes } from './encode-reply.ts';
import type { RedisCommand } from './parse-commands.ts';
import { scanReplies, writeAnswer, type ReplyScan } from './resp-json.ts';

/** Options of {@link GatewayResp}: where to connect, and the gateway's timings. */
export interface GatewayRespOptions extends RespConnectionOptions {
  /**
   * Fail a command (and the connection) when its reply has not come after this long.
   * @default 10000
   */
  commandTimeout?: number;
  /**
   * Name the connection with `CLIENT SETNAME` (shown by `CLIENT LIST`); empty: no name.
   * @default 'lockstep-gateway'
   */
  connectionName?: string;
  /**
   * Called with connection errors (each failed connect or reconnect), for logging.
   * @default nothing
   */
  onError?: (err: Error) => void;
}

/** The iovalkey options {@link gatewayRespOptions} understands; any other needs the iovalkey connection. */
const UNDERSTOOD: ReadonlySet<string> = new Set([
  'host', 'port', 'path', 'family', 'tls', 'username', 'password', 'db', 'connectTimeout', 'commandTimeout', 'connectionName',
]);

/**
 * {@link GatewayRespOptions} for `redis://[user:pass@]host:port[/db]` (`rediss://`: TLS) with iovalkey-style
 * `overrides` on top. Throws an InputError naming options only iovalkey understands (use `redisClient: 'iovalkey'`).
 */
export function gatewayRespOptions(url: string, overrides: RedisOptions = {}): GatewayRespOptions {
  const unknown = Object.keys(overrides).filter((k) => !UNDERSTOOD.has(k) && (overrides as Record<string, unknown>)[k] !== undefined);
  if (unknown.length > 0) {
    throw new InputError(`redisOptions ${unknown.join(', ')} need the iovalkey connection: pass redisClient: 'iovalkey'`, 'redisOptions');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`not a Redis URL: ${JSON.stringify(url)} (expected redis://host:port)`, 'redisUrl');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InputError(`not a Redis URL: ${JSON.stringify(url)} (expected redis:// or rediss://)`, 'redisUrl');
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  const options: GatewayRespOptions = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: true } : {}),
  };
  for (const key of UNDERSTOOD) {
    const value = (overrides as Record<string, unknown>)[key];
    if (value !== undefined) (options as Record<string, unknown>)[key] = value;
  }
  return options;
}

/** An HTTP request's commands waiting for their replies. */
interface PendingBatch extends ReplyScan {
  setup: false;
  sentAt: number;
  resolve(answer: GatewayAnswer): void;
  reject(err: unknown): void;
}

/** Set-up commands (AUTH, SELECT, CLIENT SETNAME): simple-string replies; an error drops the connection. */
interface PendingSetup extends SetupReplies {
  sentAt: number;
}

type Pending = PendingBatch | PendingSetup;

/** A command or reply buffer that grew past this is given back once used. */
const KEEP_BYTES = 1024 * 1024;

/** Where the connection goes, for messages. */
function where(o: RespConnectionOptions): string {
  return o.path ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
}

/** One multiplexed RESP connection serving the gateway's requests (see the module comment). */
export class GatewayResp extends RespConnection<Pending> implements CommandRunner {
  readonly #timeout: number;
  readonly #name: string;
  readonly #onError: (err: Error) => void;
  #connected = false;
  #attempt = 0;
  #lastError = 'not connected yet';
  #reconnect: NodeJS.Timeout | undefined;
  readonly #watchdog: NodeJS.Timeout;
  #waiters: Array<() => void> = [];
  /** The command buffer, reused while the socket takes each write whole at once. */
  #out: Buffer | undefined;
  /** Unparsed reply bytes (a batch whose replies span chunks): `#acc[0..#accLen)`. */
  #acc: Buffer | undefined;
  #accLen = 0;
  readonly #json = new JsonBytes();

  constructor(options: GatewayRespOptions) {
    super(options, 'gateway RESP connection');
    this.#timeout = options.commandTimeout ?? 10_000;
    this.#name = options.connectionName ?? 'lockstep-gateway';
    this.#onError = options.onError ?? (() => {});
    this.#watchdog = setInterval(() => this.#checkTimeout(), Math.min(1000, Math.max(10, this.#timeout / 10)));
    this.#watchdog.unref();
    this.#connect();
  }

  /** True while connected (requests are sent); false while (re)connecting (requests fail at once). */
  get ready(): boolean {
    return this.#connected;
  }

  /** Resolve once connected, or reject after `timeoutMs` with the last connection error. */
  whenReady(timeoutMs = 5000): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== onReady);
        reject(new Error(`redis at ${where(this.options)} not ready after ${timeoutMs} ms: ${this.#lastError}`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(onReady);
    });
  }

  run(mode: GatewayMode, commands: RedisCommand[], base64: boolean): Promise<GatewayAnswer> {
    const socket = this.socket;
    if (!this.#connected || socket === undefined) {
      return Promise.reject(new Error(this.closed ? 'the gateway connection is closed' : `not connected to ${where(this.options)} (${this.#lastError})`));
    }
    const bytes = this.#encode(mode, commands);
    const count = mode === 'multi-exec' ? commands.length + 2 : commands.length;
    const done = new Promise<GatewayAnswer>((resolve, reject) => {
      this.enqueue(socket, { setup: false, mode, base64, count, done: 0, scanned: 0, open: [], sentAt: Date.now(), resolve, reject });
    });
    socket.write(bytes);
    // Written whole at once (the usual case): the buffer is free again. Otherwise the socket holds it until sent;
    // one grown for an unusually large request is not kept either.
    if (socket.writableLength !== 0 || bytes.length > KEEP_BYTES) this.#out = undefined;
    return done;
  }

  override async close(): Promise<void> {
    clearInterval(this.#watchdog);
    clearTimeout(this.#reconnect);
    this.#connected = false;
    await super.close();
  }

  protected override fail(err: unknown, socket: Socket | undefined = this.socket): void {
    if (socket === this.socket) {
      this.#connected = false;
      this.#accLen = 0;
      if (err instanceof Error) this.#lastError = err.message;
    }
    super.fail(err, socket);
  }

  #connect(): void {
    this.#reconnect = undefined;
    if (this.closed) return;
    const socket = this.openReading(
      (remaining) => ({ setup: true, remaining, sentAt: Date.now() }),
      (at, chunk, length) => this.#onData(at, chunk, length),
    );
    if (this.#name) {
      this.queue.push({ setup: true, remaining: 1, sentAt: Date.now() });
      socket.write(encodeRespCommand(['CLIENT', 'SETNAME', this.#name]));
    }
    socket.on('error', (err) => this.#onError(err));
    socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
      if (socket !== this.socket) return;
      this.#connected = true;
      this.#attempt = 0;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    });
    socket.once('close', () => {
      if (this.closed || this.#reconnect !== undefined) return;
      if (socket === this.socket) this.fail(new Error('connection closed'), socket);
      this.#attempt++;
      this.#reconnect = setTimeout(() => this.#connect(), Math.min(this.#attempt * 50, 1000));
    });
  }

  /** The oldest command (set-up ones too) has waited longer than `commandTimeout`: fail everything and reconnect. */
  #checkTimeout(): void {
    const head = this.queue[0];
    const socket = this.socket;
    if (head === undefined || socket === undefined || Date.now() - head.sentAt < this.#timeout) return;
    this.fail(new Error(`command timed out after ${this.#timeout} ms (commandTimeout)`), socket);
    socket.destroy();
  }

  /** `commands` (inside MULTI … EXEC for a transaction) as RESP, in the reused command buffer. */
  #encode(mode: GatewayMode, commands: RedisCommand[]): Buffer {
    // Room for every argument at 3 bytes per UTF-16 unit (UTF-8's worst case), so nothing is measured twice.
    let size = 64;
    for (const command of commands) {
      size += 16;
      for (const arg of command) size += 16 + 3 * arg.length;
    }
    let buf = this.#out;
    if (buf === undefined || buf.length < size) buf = this.#out = Buffer.allocUnsafe(Math.max(size, 4096));
    let off = 0;
    if (mode === 'multi-exec') off += buf.write('*1\r\n$5\r\nMULTI\r\n', off, 'latin1');
    for (const command of commands) off = putCommand(buf, off, command);
    if (mode === 'multi-exec') off += buf.write('*1\r\n$4\r\nEXEC\r\n', off, 'latin1');
    return buf.subarray(0, off);
  }

  /** Parse `chunk[0..length)` against the queue; a batch is answered once all its replies are here. */
  #onData(socket: Socket, chunk: Buffer, length: number): void {
    if (socket !== this.socket) return;
    let buf = chunk;
    let n = length;
    if (this.#accLen > 0) {
      this.#append(chunk, 0, length);
      buf = this.#acc!;
      n = this.#accLen;
    }
    let p = 0;
    while (p < n) {
      const head = this.queue[0];
      if (!head) return this.protocolError(socket, 'a reply nobody asked for');
      if (head.setup) {
        const next = this.readSetupReply(socket, buf, p, n, head);
        if (next === SETUP_DROPPED) return;
        if (next === SETUP_INCOMPLETE) break;
        p = next;
        continue;
      }
      const end = scanReplies(buf, p, n, head);
      if (end === CORRUPT) return this.protocolError(socket, 'a reply that is not RESP2');
      if (end === INCOMPLETE) break;
      this.dequeue(socket);
      this.#answer(buf, p, head);
      p = end;
    }
    if (socket !== this.socket) return;
    if (buf === this.#acc) {
      if (p > 0) buf.copyWithin(0, p, n);
      this.#accLen = n - p;
      if (this.#accLen === 0 && buf.length > KEEP_BYTES) this.#acc = undefined;
    } else if (p < n) {
      this.#append(buf, p, n);
    }
  }

  /** Keep `src[start..end)` for the next chunk. */
  #append(src: Buffer, start: number, end: number): void {
    const need = this.#accLen + end - start;
    let acc = this.#acc;
    if (acc === undefined || acc.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, (acc?.length ?? 0) * 2, READ_BUFFER_BYTES));
      acc?.copy(grown, 0, 0, this.#accLen);
      acc = this.#acc = grown;
    }
    src.copy(acc, this.#accLen, start, end);
    this.#accLen = need;
  }

  /** Settle `head` from its complete replies at `buf[start..)`. */
  #answer(buf: Buffer, start: number, head: PendingBatch): void {
    const json = this.#json;
    json.len = 0;
    try {
      const status = writeAnswer(json, buf, start, head);
      head.resolve({ status, body: json.take() });
    } catch (err) {
      json.len = 0;
      head.reject(err);
    }
  }
}


/** `*<n>` and each argument as `$<bytes>\r\n<arg>\r\n` at `buf[off..)`; the offset after it. */
function putCommand(buf: Buffer, off: number, command: RedisCommand): number {
  buf[off++] = STAR;
  off = putCount(buf, off, command.length);
  // Upper-case names, as the reference path sends them (Redis echoes an unknown name in its error).
  off = putArg(buf, off, command[0].toUpperCase());
  for (let i = 1; i < command.length; i++) off = putArg(buf, off, command[i]);
  return off;
}

/** One argument, its characters copied one by one while they are ASCII. */
function putArg(buf: Buffer, off: number, arg: string): number {
  const at = off;
  buf[off++] = DOLLAR;
  off = putCount(buf, off, arg.length);
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c >= 0x80) {
      buf[at] = DOLLAR;
      off = putCount(buf, at + 1, Buffer.byteLength(arg));
      off += buf.write(arg, off, 'utf8');
      break;
    }
    buf[off++] = c;
  }
  buf[off++] = CR;
  buf[off++] = LF;
  return off;
}
