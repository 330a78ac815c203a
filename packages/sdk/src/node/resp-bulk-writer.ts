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
import type { Socket } from 'node:net';
import { StoreError } from '../errors.ts';
import { abortError, withAbort, type SetBatch } from '../store/transport.ts';
import { encodeSetPipeline } from './resp-set-pipeline.ts';
import { RespConnection, type RespConnectionOptions } from './resp-connection.ts';

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
  reject?(err: unknown): void;
}

const PLUS = 43; // '+'
const MINUS = 45; // '-'
const LF = 10;

/** Bulk SETs over a connection of their own (Node). */
export class RespBulkWriter extends RespConnection<Pending> {
  constructor(options: RespConnectionOptions) {
    super(options, 'RESP bulk writer');
  }

  /**
   * Send every SET of `batch` in one write; resolves with the number of keys written (all of them), or rejects
   * with a StoreError naming the server's first refusal (the other SETs of the batch still ran) or the failed
   * connection.
   */
  setMany(batch: SetBatch, signal?: AbortSignal): Promise<number> {
    if (this.closed) return Promise.reject(new StoreError('ValkeyStore is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const count = batch.keys.length;
    if (count === 0) return Promise.resolve(0);
    const bytes = encodeSetPipeline(batch);
    const socket = this.socket ?? this.#connect();
    const done = new Promise<number>((resolve, reject) => this.enqueue(socket, { remaining: count, count, resolve, reject }));
    socket.write(bytes);
    return withAbort(done, signal);
  }

  #connect(): Socket {
    const socket = this.open((count) => ({ remaining: count, count, setup: true, resolve: () => {} }));
    socket.on('data', (chunk: Buffer) => {
      this.replyProgress();
      this.#onData(socket, chunk);
    });
    return socket;
  }

  /** Count replies against the queue: `+…` is a success, `-…` an error; anything else breaks the protocol. */
  #onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const buf = this.tail ? Buffer.concat([this.tail, chunk]) : chunk;
    const n = buf.length;
    let p = 0;
    while (p < n) {
      const head = this.queue[0];
      if (!head) return this.protocolError(socket, 'a reply nobody asked for');
      const type = buf[p];
      let end: number;
      // `+OK\r\n` is nearly every reply: recognise it without searching.
      if (type === PLUS && p + 4 < n && buf[p + 1] === 79 && buf[p + 2] === 75 && buf[p + 3] === 13 && buf[p + 4] === LF) end = p + 4;
      else if (type === PLUS || type === MINUS) {
        end = buf.indexOf(LF, p);
        if (end < 0) break; // the rest of this line is in the next chunk
        if (type === MINUS) head.error ??= buf.toString('utf8', p + 1, end - 1);
      } else {
        return this.protocolError(socket, `an unexpected reply type ${JSON.stringify(String.fromCharCode(type))}`);
      }
      p = end + 1;
      if (--head.remaining === 0) {
        this.dequeue(socket);
        if (head.setup && head.error !== undefined) return this.setupRefused(socket, head.error);
        if (head.error !== undefined) head.reject?.(new StoreError(`SET refused by the server: ${head.error}`));
        else head.resolve(head.count);
      }
    }
    this.tail = p < n ? Buffer.from(buf.subarray(p)) : undefined;
  }
}
