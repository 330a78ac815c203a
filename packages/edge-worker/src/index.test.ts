import { describe, expect, it } from 'vitest';
import { app } from './index.ts';

describe('edge worker', () => {
  it('answers health checks', async () => {
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
