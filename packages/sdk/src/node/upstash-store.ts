/**
 * The Node entry's `UpstashStore`: the same store as the core's, whose `{ url, token }` form speaks HTTP through
 * {@link NodeHttpRequester} (`node:http` keep-alive) instead of `fetch`. `{ redis }` (a configured
 * `@upstash/redis` client) and `{ requester }` work as in the core. `import { UpstashStore } from '@lockstep/sdk'`
 * still gives the `fetch` one, in Node too.
 *
 * @module
 */
import { UpstashStore as FetchUpstashStore, type UpstashStoreOptions as CoreUpstashStoreOptions } from '../store/upstash-store.ts';
import { NodeHttpRequester, type NodeHttpRequesterOptions } from './http-requester.ts';

/**
 * Options for the Node {@link UpstashStore}: the core's, and with `{ url, token }` the node:http requester's
 * (`timeoutMs`, `maxSockets`).
 */
export type UpstashStoreOptions = Exclude<CoreUpstashStoreOptions, { url: string }> | NodeHttpRequesterOptions;

/** The online store over Upstash REST (Upstash or `lockstep gateway`), over node:http keep-alive connections. */
export class UpstashStore extends FetchUpstashStore {
  readonly #own: NodeHttpRequester | undefined;

  constructor(options: UpstashStoreOptions) {
    const own = 'url' in options ? new NodeHttpRequester(options) : undefined;
    super(own ? { requester: own, where: own.url } : (options as CoreUpstashStoreOptions));
    this.#own = own;
  }

  override async close(): Promise<void> {
    await super.close();
    this.#own?.close();
  }
}
