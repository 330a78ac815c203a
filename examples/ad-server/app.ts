/**
 * @module
 * The ad server as a Hono app: ranks the candidate ads of a search page with `@lockstep/sdk` in-process.
 *
 * - `POST /rank`: the scorer's request (`{ user, context, candidates }`, each candidate with its `bid`) plus
 *   optional `reserve` and `limit` → `{ ads: [{ ad_id, p_click, bid, expected_value, price, rank }], model,
 *   degraded, defaulted_count }`, ordered by expected value (pCTR × bid) by the SDK's `rank()`.
 * - `GET /healthz`: the process is up. `GET /readyz`: the model is loaded and the store answers (200), else 503
 *   with the reason.
 *
 * A bad request gets 400 with the SDK's error code, message and field; a store outage does not fail requests: the
 * scorer's deadline turns it into defaulted features and `degraded: true` (200). The app holds no server: test it
 * with `app.request()`, serve it with `@hono/node-server` (main.ts).
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InputError, LockstepError, excerpt, type Fields, type ScoreRequest, type Scorer } from '@lockstep/sdk';

/** Options for {@link createAdServer}. */
export interface AdServerOptions {
  /** A loaded scorer (`createScorer` from `@lockstep/sdk/node`). The caller owns it and its store. */
  scorer: Scorer;
  /**
   * The candidate field answered as `ad_id`.
   * @default 'ad_id'
   */
  idField?: string;
  /**
   * The model version shown in answers (e.g. the registry version the bundle came from).
   * @default none
   */
  modelVersion?: string | number;
  /**
   * Reserve price on expected value when the request gives none.
   * @default 0
   */
  reserve?: number;
  /**
   * Largest request body accepted, in bytes; larger ones get 413 without being read.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * How long `/readyz` waits for the store before answering 503.
   * @default 1000
   */
  readyTimeoutMs?: number;
  /**
   * Called with failures that are the server's fault (5xx), for logging.
   * @default nothing
   */
  onError?: (err: unknown) => void;
}

/** One ranked ad in a `/rank` answer. */
export interface RankedAd {
  ad_id: unknown;
  /** Predicted click probability. */
  p_click: number;
  bid: number;
  /** p_click × bid: what the impression is worth to the auction. */
  expected_value: number;
  /** Generalised second price per click (never above the bid). */
  price: number;
  /** 1-based slot. */
  rank: number;
}

/** The `/rank` answer. */
export interface RankAnswer {
  ads: RankedAd[];
  model: { name: string; id: string; version?: string | number };
  /** True when the store's deadline or a store failure forced default features. */
  degraded: boolean;
  /** Entities (per view) whose features took their defaults. */
  defaulted_count: number;
}

/** `reserve` and `limit` of a `/rank` body, checked (the scorer checks the rest of the request). */
function auctionOptions(body: Fields, fallbackReserve: number): { reserve: number; limit: number | undefined } {
  const { reserve = fallbackReserve, limit } = body;
  if (typeof reserve !== 'number' || !Number.isFinite(reserve) || reserve < 0) {
    throw new InputError(`reserve must be a finite number ≥ 0, got ${JSON.stringify(reserve)}`, 'reserve');
  }
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new InputError(`limit must be an integer ≥ 1, got ${JSON.stringify(limit)}`, 'limit');
  }
  return { reserve, limit };
}

/** Request errors are the caller's (400); a strict scorer's store failure is unavailability (503); the rest ours. */
function statusOf(err: LockstepError): ContentfulStatusCode {
  if (err.code === 'INVALID_INPUT' || err.code === 'INVALID_REQUEST') return 400;
  if (err.code === 'STORE_ERROR' || err.code === 'STORE_TIMEOUT') return 503;
  return 500;
}

/** Creates the ad server's Hono app around a scorer. */
export function createAdServer(options: AdServerOptions): Hono {
  const { scorer } = options;
  const idField = options.idField ?? 'ad_id';
  const readyTimeoutMs = options.readyTimeoutMs ?? 1000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof LockstepError) {
      const status = statusOf(err);
      if (status >= 500) options.onError?.(err);
      const field = err instanceof InputError ? err.field : undefined;
      return c.json({ error: { code: err.code, message: err.message, ...(field ? { field } : {}) } }, status);
    }
    options.onError?.(err);
    return c.json({ error: { code: 'INTERNAL', message: 'internal error' } }, 500);
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/readyz', async (c) => {
    const model = { name: scorer.model.name, id: scorer.model.id };
    // warmup() reads the publication pointer (one MGET): a real round trip to the store, nothing else.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    });
    try {
      await Promise.race([scorer.warmup(), timeout]);
      return c.json({ ready: true, model });
    } catch (err) {
      return c.json({ ready: false, reason: `store unreachable: ${err instanceof Error ? err.message : String(err)}`, model }, 503);
    } finally {
      clearTimeout(timer);
    }
  });

  app.post(
    '/rank',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => c.json({ error: { code: 'INVALID_REQUEST', message: `the body is larger than ${maxBodyBytes} bytes` } }, 413),
    }),
    async (c) => {
      // JSON only: a form or plain text that happens to parse as JSON is a client bug to report, not to guess at.
      // No content type at all is taken as JSON (the simplest clients send none).
      const type = c.req.header('content-type');
      if (type !== undefined && !/^application\/(?:[\w.+-]*\+)?json\s*(?:;|$)/i.test(type)) {
        return c.json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `the body must be application/json, got ${excerpt(type, 100)}` } }, 415);
      }
      const text = await c.req.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new LockstepError('INVALID_REQUEST', `the body is not JSON (${(cause as Error).message}): ${excerpt(text, 100)}`, { cause });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new InputError('the body must be a JSON object {user, context, candidates, reserve?, limit?}', 'request');
      }
      const { reserve, limit } = auctionOptions(body as Fields, options.reserve ?? 0);
      // The scorer validates user, context and candidates against the bundle (InputError naming the field).
      const result = await scorer.rank(body as ScoreRequest<Fields, Fields, Fields>, { reserve, limit });
      const answer: RankAnswer = {
        ads: result.ranked.map((w, i) => ({
          ad_id: w.candidate[idField],
          p_click: w.pctr,
          bid: w.bid,
          expected_value: w.expectedValue,
          price: w.price,
          rank: i + 1,
        })),
        model: { name: result.model.name, id: result.model.id, ...(options.modelVersion !== undefined ? { version: options.modelVersion } : {}) },
        degraded: result.degraded,
        defaulted_count: result.defaulted.length,
      };
      return c.json(answer);
    },
  );

  // The right path with the wrong method: say so (405 with Allow), not 404.
  app.all('/rank', (c) => c.json({ error: { code: 'METHOD_NOT_ALLOWED', message: `${c.req.method} /rank: use POST` } }, 405, { Allow: 'POST' }));

  return app;
}
