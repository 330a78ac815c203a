import { describe, expect, it } from 'vitest';
import { encodeSetPipeline } from './resp-set-pipeline.ts';

/** RESP of one command, the textbook way: every argument's UTF-8 byte length. */
function resp(args: string[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.map((a) => Buffer.concat([Buffer.from(`$${Buffer.byteLength(a)}\r\n`), Buffer.from(a), Buffer.from('\r\n')])),
  ]);
}

describe('encodeSetPipeline', () => {
  it('writes SET … PXAT per key (plain SET for expiry 0), byte for byte as RESP', () => {
    const keys = ['ls:p:v:0123abcd:v1:42', 'ls:p:v:0123abcd:v1:7|eu', 'k'];
    const values = ['[1767376800000,0.1,null]', '[1,2]', ''];
    const expireAtMs = [1767981600000, 0, 9];
    const expected = Buffer.concat([
      resp(['SET', keys[0], values[0], 'PXAT', '1767981600000']),
      resp(['SET', keys[1], values[1]]),
      resp(['SET', keys[2], values[2], 'PXAT', '9']),
    ]);
    expect(encodeSetPipeline({ keys, values, expireAtMs })).toEqual(expected);
  });

  it('counts bytes, not characters, for text beyond ASCII (and lone surrogates as the replacement character)', () => {
    const keys = ['ls:p:v:0123abcd:v1:ü|%7C', 'ls:p:v:0123abcd:v1:😀', 'ls:p:v:0123abcd:v1:plain', 'ls:p:v:0123abcd:v1:\ud800'];
    const values = ['[1,"é"]', '[2]', '[3]', '[4]'];
    const expireAtMs = [5, 6, 0, 7];
    const expected = Buffer.concat(keys.map((k, i) => resp(expireAtMs[i] ? ['SET', k, values[i], 'PXAT', String(expireAtMs[i])] : ['SET', k, values[i]])));
    expect(encodeSetPipeline({ keys, values, expireAtMs })).toEqual(expected);
  });

  it('grows past its first estimate: many long non-ASCII keys', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `ls:p:v:0123abcd:v1:${'€'.repeat(50)}${i}`);
    const values = keys.map((_, i) => `[${i}]`);
    const expireAtMs = keys.map((_, i) => 1767981600000 + i);
    const expected = Buffer.concat(keys.map((k, i) => resp(['SET', k, values[i], 'PXAT', String(expireAtMs[i])])));
    expect(encodeSetPipeline({ keys, values, expireAtMs })).toEqual(expected);
  });

  it('sends an expiry Redis would refuse as it is given (the server answers the error)', () => {
    expect(encodeSetPipeline({ keys: ['k'], values: ['v'], expireAtMs: [1.5] }).toString()).toBe(resp(['SET', 'k', 'v', 'PXAT', '1.5']).toString());
    expect(encodeSetPipeline({ keys: [], values: [], expireAtMs: [] }).length).toBe(0);
  });
});
