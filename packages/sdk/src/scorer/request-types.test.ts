import { describe, expect, expectTypeOf, it } from 'vitest';
import { type RequestOf, requestTypesSource } from './request-types.ts';
import type { ScoreRequest } from './types.ts';

const manifest = {
  name: 'ads-ctr',
  input: { hashSeed: 0, hashBits: 8, fields: [] },
  requestFields: [
    { name: 'user_id', type: 'number', scope: 'user' },
    { name: 'ts', type: 'timestamp', scope: 'context' },
    { name: 'device', type: 'string', scope: 'context' },
    { name: 'ad_id', type: 'number', scope: 'candidate' },
    { name: 'bid', type: 'number', scope: 'candidate' },
  ],
} as const;

describe('request types', () => {
  it('infers the request type of a manifest known at compile time', () => {
    type R = RequestOf<typeof manifest>;
    expectTypeOf<R['user']>().toEqualTypeOf<{ user_id: number }>();
    expectTypeOf<R['candidates'][number]>().toEqualTypeOf<{ ad_id: number; bid: number }>();
    const ok: R = { user: { user_id: 1 }, context: { device: 'ios' }, candidates: [{ ad_id: 1, bid: 0.5 }] };
    expectTypeOf(ok).toMatchTypeOf<ScoreRequest>();
    // @ts-expect-error: a candidate without its bid does not fit the spec
    const bad: R = { user: { user_id: 1 }, context: { device: 'ios' }, candidates: [{ ad_id: 1 }] };
    void bad;
  });

  it('writes the same types as TypeScript source', () => {
    const src = requestTypesSource(manifest as never);
    expect(src).toContain('export interface AdsCtrUser {\n  user_id: number;\n}');
    expect(src).toContain('export interface AdsCtrContext {\n  ts?: number | Date;\n  device: string;\n}');
    expect(src).toContain('export interface AdsCtrCandidate {\n  ad_id: number;\n  bid: number;\n}');
    expect(src).toContain('export type AdsCtrRequest = ScoreRequest<AdsCtrUser, AdsCtrContext, AdsCtrCandidate>;');
  });
});
