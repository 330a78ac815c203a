/**
 * A dedicated RESP connection for bulk `SET`s: the fast path of {@link ValkeyStore}'s full-materialization
 * writes. Each batch is encoded into one Buffer ({@link encodeSetPipeline}) and written at once; the replies
 * (`+OK` per SET, or an error) are counted by a small scanner instead of being parsed into per-command objects.
 * Everything else, and incremental writes (a compare-in-server script), goes through iovalkey.
 *
 * The connection opens on first use, reconnects on the next batch after it failed, and speaks RESP2 (`AUTH`
 * and `SELECT` first when configured). It only ever sends SET, AUTH and SELECT, whose replies are simple
 * strings or errors; anything else in the reply stream is a protocol error that drops the connection.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { StoreError } from '../errors.ts';
import { abortError, transportError, withAbort, type SetBatch } from '../store/transport.ts';
import { encodeSetPipeline } from './resp-set-pipeline.ts';

/** Where and how to connect: the subset of iovalkey's options a plain connection needs. */
export interface RespConnectionOptions {
  host?: string;
  port?: number;
  /** A Unix socket path (instead of host and port). */
  path?: string;
  family?: number;
  /** TLS: `true` or Node's TLS options (as iovalkey takes them). */
  tls?: boolean | TlsOptions;
  username?: string;
  password?: string;
  db?: number;
  /**
   * Give up connecting after this long.
   * @default 10000
   */
  connectTimeout?: number;
}

interface Pending {
  /** Replies still expected. */
  remaining: number;
  /** Replies expected in all. */
  count: number;
  /** The first error reply, if any. */
  error?: string;
  /** Connection set-up (AUTH, SELECT): an error there drops the connection. */
  setup?: boolean;
  resolve(count: number): void;
  reject(err: unknown): void;
}

const PLUS = 43; // '+'
const MINUS = 45; // '-'
const LF = 10;

/** Bulk SETs over a connection of their own (Node). */
export class RespBulkWriter {
  readonly #options: RespConnectionOptions;
  #socket: Socket | undefined;
  #queue: Pending[] = [];
  #tail: Buffer | undefined;
  #closed = false;

  constructor(options: RespConnectionOptions) {
    this.#options = options;
  }

  /**
   * Send every SET of `batch` in one write; resolves with the number of keys written (all of them), or rejects
   * with a StoreError naming the server's first refusal (the other SETs of the batch still ran) or the failed
   * connection.
   */
  setMany(batch: SetBatch, signal?: AbortSignal): Promise<number> {
    if (this.#closed) return Promise.reject(new StoreError('ValkeyStore is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const count = batch.keys.length;
    if (count === 0) return Promise.resolve(0);
    const bytes = encodeSetPipeline(batch);
    const socket = this.#socket ?? this.#connect();
    // Idle, the connection does not keep the process alive (a store over an application's client may never be
    // closed); with writes in flight it does.
    if (this.#queue.length === 0) socket.ref();
    const done = new Promise<number>((resolve, reject) => {
      this.#queue.push({ remaining: count, count, resolve, reject });
    });
    socket.write(bytes);
    return withAbort(done, signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    if (!socket) return;
    this.#fail(new Error('connection closed by the client'));
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  #connect(): Socket {
    const o = this.#options;
    const target = o.path ? { path: o.path } : { host: o.host ?? '127.0.0.1', port: o.port ?? 6379, ...(o.family ? { family: o.family } : {}) };
    const socket: Socket = o.tls ? tlsConnect({ ...target, ...(typeof o.tls === 'object' ? o.tls : {}) }) : netConnect(target);
    this.#socket = socket;
    this.#tail = undefined;
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.setTimeout(o.connectTimeout ?? 10_000, () => socket.destroy(new Error(`connect timeout after ${o.connectTimeout ?? 10_000} ms`)));
    socket.once(o.tls ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
    socket.on('data', (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on('error', (err) => this.#fail(err, socket));
    socket.on('close', () => this.#fail(new Error('connection closed'), socket));

    const setup: string[][] = [];
    if (o.password) setup.push(o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
    if (o.db) setup.push(['SELECT', String(o.db)]);
    if (setup.length) {
      const text = setup.map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('');
      // Its failure fails the batches queued behind it too (#fail), so nobody awaits this one.
      this.#queue.push({ remaining: setup.length, count: setup.length, setup: true, resolve: () => {}, reject: () => {} });
      socket.write(text);
    }
    return socket;
  }

  /** Count replies against the queue: `+…` is a success, `-…` an error; anything else breaks the protocol. */
  #onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.#socket) return;
    const buf = this.#tail ? Buffer.concat([this.#tail, chunk]) : chunk;
    const n = buf.length;
    let p = 0;
    while (p < n) {
      const head = this.#queue[0];
      if (!head) return this.#protocolError(socket, 'a reply nobody asked for');
      const type = buf[p];
      let end: number;
      // `+OK\r\n` is nearly every reply: recognise it without searching.
      if (type === PLUS && p + 4 < n && buf[p + 1] === 79 && buf[p + 2] === 75 && buf[p + 3] === 13 && buf[p + 4] === LF) end = p + 4;
      else if (type === PLUS || type === MINUS) {
        end = buf.indexOf(LF, p);
        if (end < 0) break; // the rest of this line is in the next chunk
        if (type === MINUS) head.error ??= buf.toString('utf8', p + 1, end - 1);
      } else {
        return this.#protocolError(socket, `an unexpected reply type ${JSON.stringify(String.fromCharCode(type))}`);
      }
      p = end + 1;
      if (--head.remaining === 0) {
        this.#queue.shift();
        if (this.#queue.length === 0) socket.unref();
        if (head.setup && head.error !== undefined) {
          this.#fail(new StoreError(`RESP connection set-up (AUTH/SELECT) refused by the server: ${head.error}`), socket);
          socket.destroy();
          return;
        }
        if (head.error !== undefined) head.reject(new StoreError(`SET refused by the server: ${head.error}`));
        else head.resolve(head.count);
      }
    }
    this.#tail = p < n ? Buffer.from(buf.subarray(p)) : undefined;
  }

  #protocolError(socket: Socket, what: string): void {
    this.#fail(new StoreError(`RESP bulk writer: ${what} (connection dropped)`), socket);
    socket.destroy();
  }

  /** Fail every batch waiting on `socket` (the current one when absent) and forget the connection. */
  #fail(err: unknown, socket: Socket | undefined = this.#socket): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#tail = undefined;
    const queue = this.#queue;
    this.#queue = [];
    const error = transportError('RESP', err);
    for (const pending of queue) pending.reject(error);
  }
}
