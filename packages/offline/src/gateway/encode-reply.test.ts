import { describe, expect, it } from 'vitest';
import { encodeBatch, encodeResult, type RespReply } from './encode-reply.ts';

/** The reference: what JSON.stringify writes for the same reply (the encoder must be byte-identical). */
function reference(value: RespReply, base64: boolean, top = true): unknown {
  if (value === null || typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map((v) => reference(v, base64, false));
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(String(value instanceof Error ? value.message : value));
  if (base64 && top && buf.toString('latin1') === 'OK') return 'OK';
  return base64 ? buf.toString('base64') : buf.toString();
}

function randomBytes(n: number, seed: number): Buffer {
  let s = seed;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = s >> 16;
  }
  return out;
}

describe('encodeResult / encodeBatch', () => {
  const samples: RespReply[] = [
    Buffer.from('OK'),
    Buffer.from('hello'),
    Buffer.from(''),
    Buffer.from('a"b\\c\n\r\t\b\f\u0001\u001f\u007f'),
    Buffer.from('héllo wörld ✓ 😀'),
    Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]), // not UTF-8
    42,
    -7,
    0,
    null,
    [Buffer.from('x'), null, 3, [Buffer.from('OK'), Buffer.from('nested')], []],
    ...Array.from({ length: 50 }, (_, i) => randomBytes(i * 7, i + 1)),
  ];

  for (const base64 of [true, false]) {
    it(`writes the same JSON as JSON.stringify (${base64 ? 'base64' : 'plain'})`, () => {
      for (const value of samples) {
        const got = encodeResult(value, base64).toString();
        expect(got).toBe(JSON.stringify({ result: reference(value, base64) }));
      }
      const batch = encodeBatch([...samples, new Error('ERR wrong "type"')], base64).toString();
      expect(JSON.parse(batch)).toEqual([
        ...samples.map((v) => ({ result: reference(v, base64) })),
        { error: 'ERR wrong "type"' },
      ]);
    });
  }

  it('keeps "OK" plain only at the top level with base64', () => {
    expect(encodeResult(Buffer.from('OK'), true).toString()).toBe('{"result":"OK"}');
    expect(encodeResult([Buffer.from('OK')], true).toString()).toBe('{"result":["T0s="]}');
  });

  it('grows past its scratch size and gives every answer its own bytes', () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const first = encodeResult(big, true);
    const second = encodeResult(Buffer.from('small'), true);
    expect(first.length).toBe(4 * 1024 * 1024 + '{"result":""}'.length);
    expect(second.toString()).toBe('{"result":"c21hbGw="}');
    expect(first.subarray(0, 14).toString()).toBe('{"result":"YWF');
  });
});
