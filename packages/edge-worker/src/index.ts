/**
 * @module
 * The lockstep edge worker: a Hono app around `@lockstep/sdk` for Cloudflare Workers.
 * For now it only answers health checks; scoring routes arrive with the edge-worker issue.
 */
import { Hono } from 'hono';

export const app = new Hono();

app.get('/healthz', (c) => c.json({ ok: true }));

export default app;
