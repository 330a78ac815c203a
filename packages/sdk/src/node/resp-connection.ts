/**
 * A plain RESP connection of the store's own, the part {@link RespBulkWriter} and {@link RespReader} share:
 * where to connect, TLS, Nagle off, the connect timeout, the `AUTH` / `SELECT` commands sent first, the queue
 * of requests waiting for replies, and what happens when the connection fails (every waiting request rejects
 * with a StoreError; the next request connects again).
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { connect as netConnect, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { StoreError } from '../errors.ts';
import { transportError } from '../store/transport.ts';
import { LF, MINUS, PLUS, respTypeName } from './resp-bytes.ts';

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
  /**
   * With requests waiting, drop the connection when no byte of reply has come for this long: every waiting
   * request fails with STORE_TIMEOUT (a server that took the commands and went silent would otherwise hold them,
   * and the callers' memory, forever; a caller's own deadline only stops waiting). 0: no limit.
   * @default 10000
   */
  replyTimeout?: number;
}

/**
 * Connect to where `o` says, with Nagle's algorithm off (a command is one write: sending it at once is the
 * point). `onread`, for plain sockets only: Node reads into the given buffer instead of allocating one per
 * chunk (the caller must consume each chunk before returning); TLS sockets emit `data` as usual.
 */
export function connectResp(o: RespConnectionOptions, onread?: OnReadOpts): Socket {
  const target = o.path ? { path: o.path } : { host: o.host ?? '127.0.0.1', port: o.port ?? 6379, ...(o.family ? { family: o.family } : {}) };
  const socket: Socket = o.tls
    ? tlsConnect({ ...target, ...(typeof o.tls === 'object' ? o.tls : {}) })
    : netConnect({ ...target, ...(onread ? { onread } : {}) });
  socket.setNoDelay(true);
  socket.setKeepAlive(true);
  const timeout = o.connectTimeout ?? 10_000;
  socket.setTimeout(timeout, () => socket.destroy(new Error(`connect timeout after ${timeout} ms`)));
  socket.once(o.tls ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
  return socket;
}

/** One command as RESP text (set-up commands: the hot paths encode into buffers of their own). */
export function encodeRespCommand(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** The commands a new connection sends first (`AUTH`, `SELECT`), as RESP text, and how many replies they get. */
export function setupCommands(o: RespConnectionOptions): { text: string; count: number } {
  const setup: string[][] = [];
  if (o.password) setup.push(o.username ? ['AUTH', o.username, o.password] : ['AUTH', o.password]);
  if (o.db) setup.push(['SELECT', String(o.db)]);
  return { text: setup.map(encodeRespCommand).join(''), count: setup.length };
}

/** The set-up commands' replies a connection waits for (simple strings; an error refuses the connection). */
export interface PendingSetup {
  setup: true;
  /** Replies still to come. */
  remaining: number;
  /** The first error reply. */
  error?: string;
  reject?: undefined;
}

/** {@link RespConnection.readSetupReply}: the reply line goes on in the next chunk. */
export const SETUP_INCOMPLETE = -1;
/** {@link RespConnection.readSetupReply}: the connection was dropped (refused set-up or not a simple reply). */
export const SETUP_DROPPED = -2;


/** Read buffer of a plain connection (Node reads at most this much per chunk into it). */
export const READ_BUFFER_BYTES = 64 * 1024;


/** A request waiting for its replies: failed with the connection. */
export interface QueuedRequest {
  reject?(err: unknown): void;
}

/** The connection, its request queue and its failure handling; subclasses send requests and parse replies. */
export abstract class RespConnection<P extends QueuedRequest> {
  protected readonly options: RespConnectionOptions;
  protected socket: Socket | undefined;
  /** Requests in the order their replies come. */
  protected queue: P[] = [];
  /** The unparsed end of the last chunk (a reply split across chunks). */
  protected tail: Buffer | undefined;
  protected closed = false;
  readonly #name: string;
  /** Where a plain connection's chunks are read into (reused: each chunk is parsed before the next is read). */
  #readBuffer: Buffer | undefined;
  /** Armed while requests wait; refreshed by every chunk read (see {@link RespConnectionOptions.replyTimeout}). */
  #replyTimer: ReturnType<typeof setTimeout> | undefined;

  /** `name` is for protocol error messages, e.g. `RESP reader`. */
  constructor(options: RespConnectionOptions, name: string) {
    this.options = options;
    this.#name = name;
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    if (!socket) return;
    this.fail(new Error('connection closed by the client'));
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      // An idle connection is unref'd (see enqueue): without this, a process with nothing else to do exits before
      // 'close' arrives and `await close()` never returns (a script's top-level await ends with exit code 13).
      socket.ref();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /**
   * Connect (see {@link connectResp}) and send the set-up commands, whose replies `setup` is queued for (its
   * failure fails the requests queued behind it too, so it needs no reject of its own).
   */
  protected open(setup: (count: number) => P, onread?: OnReadOpts): Socket {
    const socket = connectResp(this.options, onread);
    this.socket = socket;
    this.tail = undefined;
    socket.on('error', (err) => this.fail(err, socket));
    socket.on('close', () => this.fail(new Error('connection closed'), socket));
    const commands = setupCommands(this.options);
    if (commands.count) {
      this.queue.push(setup(commands.count));
      socket.write(commands.text);
    }
    return socket;
  }

  /**
   * {@link open}, with every chunk the socket reads handed to `onData(socket, chunk, length)`: a plain socket reads
   * into one reused buffer (`onread`: no Buffer per chunk, so `onData` must be done with the bytes when it
   * returns), a TLS socket emits its chunks as usual.
   */
  protected openReading(setup: (count: number) => P, onData: (socket: Socket, chunk: Buffer, length: number) => void): Socket {
    const readBuffer = this.options.tls ? undefined : (this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES));
    const onread = readBuffer && {
      buffer: readBuffer,
      callback: (bytes: number) => {
        this.replyProgress();
        onData(socket, readBuffer, bytes);
        return true;
      },
    };
    const socket: Socket = this.open(setup, onread);
    if (!onread) {
      socket.on('data', (chunk: Buffer) => {
        this.replyProgress();
        onData(socket, chunk, chunk.length);
      });
    }
    return socket;
  }

  /**
   * Queue a request whose command is about to be written. Idle, the connection does not keep the process alive
   * (a store over an application's client may never be closed); with requests in flight it does.
   */
  protected enqueue(socket: Socket, pending: P): void {
    if (this.queue.length === 0) socket.ref();
    this.queue.push(pending);
    this.#armReplyTimer(socket);
  }

  /** The request at the head of the queue got its replies. */
  protected dequeue(socket: Socket): void {
    this.queue.shift();
    if (this.queue.length === 0) {
      socket.unref();
      this.#disarmReplyTimer();
    }
  }

  /** Bytes of reply arrived: the wait for the rest starts over. A subclass reading chunks itself calls it. */
  protected replyProgress(): void {
    this.#replyTimer?.refresh();
  }

  #armReplyTimer(socket: Socket): void {
    const ms = this.options.replyTimeout ?? 10_000;
    if (this.#replyTimer || !(ms > 0)) return;
    this.#replyTimer = setTimeout(() => {
      this.#replyTimer = undefined;
      const where = this.options.path ?? `${this.options.host ?? '127.0.0.1'}:${this.options.port ?? 6379}`;
      this.fail(new StoreError(`${this.#name} ${where}: no answer within ${ms} ms (connection dropped)`, { timeout: true }), socket);
      socket.destroy();
    }, ms);
    this.#replyTimer.unref();
  }

  #disarmReplyTimer(): void {
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
  }

  /**
   * Reads one set-up reply at `buf[p..n)` for `head` (the queue's head): the offset after it, or
   * {@link SETUP_INCOMPLETE}, or {@link SETUP_DROPPED} when the connection was dropped for it. The last reply
   * dequeues `head`; an error among them refuses the connection ({@link setupRefused}).
   */
  protected readSetupReply(socket: Socket, buf: Buffer, p: number, n: number, head: PendingSetup): number {
    const type = buf[p];
    if (type !== PLUS && type !== MINUS) {
      this.protocolError(socket, `an unexpected set-up reply type ${respTypeName(type)}`);
      return SETUP_DROPPED;
    }
    const end = buf.indexOf(LF, p);
    if (end < 0 || end >= n) return SETUP_INCOMPLETE;
    if (type === MINUS) head.error ??= buf.toString('utf8', p + 1, end - 1);
    if (--head.remaining > 0) return end + 1;
    this.dequeue(socket);
    if (head.error === undefined) return end + 1;
    this.setupRefused(socket, head.error);
    return SETUP_DROPPED;
  }

  /** The server refused `AUTH` or `SELECT`: nothing sent on this connection can run as asked. */
  protected setupRefused(socket: Socket, error: string): void {
    this.fail(new StoreError(`RESP connection set-up (AUTH/SELECT) refused by the server: ${error}`), socket);
    socket.destroy();
  }

  /** A reply that cannot be: drop the connection, failing everything waiting on it. */
  protected protocolError(socket: Socket, what: string): void {
    this.fail(new StoreError(`${this.#name}: ${what} (connection dropped)`), socket);
    socket.destroy();
  }

  /** Fail every request waiting on `socket` (the current one when absent) and forget the connection. */
  protected fail(err: unknown, socket: Socket | undefined = this.socket): void {
    if (socket !== this.socket) return;
    this.#disarmReplyTimer();
    this.socket = undefined;
    this.tail = undefined;
    const queue = this.queue;
    this.queue = [];
    const error = transportError('RESP', err);
    for (const pending of queue) pending.reject?.(error);
  }
}
