/**
 * Opening the online store a materialization writes to, from a URL: `redis://` / `rediss://` → RESP
 * (ValkeyStore), `http://` / `https://` → Upstash REST (UpstashStore: Upstash, or `lockstep gateway`), through the
 * Node entry's store (node:http keep-alive connections: the core's `fetch` one costs more per request in Node).
 *
 * @module
 */
import { InputError, type OnlineStoreCore } from '@lockstep/sdk';
import { UpstashStore, ValkeyStore } from '@lockstep/sdk/node';

export interface OpenTargetOptions {
  /** `redis://host:port`, `rediss://…`, `https://…upstash.io` or a gateway URL like `http://127.0.0.1:8079`. */
  url: string;
  /** The REST token (Upstash REST URLs only). */
  token?: string;
}

/** Open the store behind `url`. Throws an InputError for an unknown scheme or a REST URL without a token. */
export function openTarget(options: OpenTargetOptions): OnlineStoreCore {
  const { url, token } = options;
  if (/^rediss?:\/\//i.test(url)) return new ValkeyStore({ url });
  if (/^https?:\/\//i.test(url)) {
    if (!token) throw new InputError(`${url} is an Upstash REST URL: give its token (--token or LOCKSTEP_STORE_TOKEN)`, 'token');
    return new UpstashStore({ url, token });
  }
  throw new InputError(`unsupported store URL ${url}: use redis://, rediss://, http:// or https://`, 'target');
}
