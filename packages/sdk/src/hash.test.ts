import { describe, expect, it } from 'vitest';
import { murmur3 } from './hash.ts';

describe('murmur3', () => {
  it('matches the reference MurmurHash3_x86_32 test vectors', () => {
    expect(murmur3('', 0)).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3('test', 0)).toBe(0xba6bd213);
    expect(murmur3('Hello, world!', 0x9747b28c)).toBe(0x24884cba);
    expect(murmur3('The quick brown fox jumps over the lazy dog', 0x9747b28c)).toBe(0x2fa826cd);
    expect(murmur3('abc', 0)).toBe(0xb3dd93fa);
    expect(murmur3('abcd', 0x9747b28c)).toBe(0xf0478627);
  });

  it('hashes the UTF-8 bytes, as TextEncoder encodes them', () => {
    // The same bytes fed as Latin-1 code units must give the same hash as the string itself.
    for (const s of ['é', 'ünïcödé', '日本語', '😀 emoji', 'a\uD800b']) {
      const bytes = new TextEncoder().encode(s);
      const asLatin1 = String.fromCharCode(...bytes);
      // Only ASCII code units pass through push() unchanged, so compare against a byte-wise reference instead.
      expect(murmur3(s, 7)).toBe(referenceMurmur(bytes, 7));
      expect(asLatin1.length).toBe(bytes.length);
    }
  });
});

/** A straightforward byte-array MurmurHash3, the textbook form, to check the streaming UTF-8 one against. */
function referenceMurmur(data: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const n = data.length;
  const blocks = n >> 2;
  for (let i = 0; i < blocks; i++) {
    let k = data[i * 4] | (data[i * 4 + 1] << 8) | (data[i * 4 + 2] << 16) | (data[i * 4 + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  const tail = blocks * 4;
  const rest = n & 3;
  if (rest >= 3) k ^= data[tail + 2] << 16;
  if (rest >= 2) k ^= data[tail + 1] << 8;
  if (rest >= 1) {
    k ^= data[tail];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
