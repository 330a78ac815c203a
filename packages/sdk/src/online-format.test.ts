import { describe, expect, it } from 'vitest';
import { decodeFeatureBytes, decodeFeatureValue, decodeFeatureValueJson, scanFeatureBytes, decodePointer, encodeEntityKey, encodeFeatureValue, encodePointer, featureKey } from './online-format.ts';

describe('online format', () => {
  const view = { name: 'user_stats', schemaHash: '0a1b2c3d' };

  it('builds keys with project, view, schema hash, version and the entity', () => {
    expect(featureKey('ads', view, 3, [42])).toBe('ls:ads:user_stats:0a1b2c3d:v3:42');
    expect(featureKey('ads', view, 3, [42, 'shoes'])).toBe('ls:ads:user_stats:0a1b2c3d:v3:42|shoes');
  });

  it('escapes separators so distinct entities never share a key', () => {
    expect(encodeEntityKey(['a|b'])).not.toBe(encodeEntityKey(['a', 'b']));
    expect(encodeEntityKey(['a%7Cb'])).not.toBe(encodeEntityKey(['a|b']));
    expect(() => encodeEntityKey([1.5])).toThrow(/integer/);
    // Past 2^53 neighbouring integers share a double (2^60 + 1 is 2^60): refused, not written as one key.
    expect(() => encodeEntityKey([2 ** 60])).toThrow('entity key part 0 must be a safe integer (|n| ≤ 2^53 − 1) or a string, got 1152921504606847000');
    expect(encodeEntityKey([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])).toBe('9007199254740991|-9007199254740991');
  });

  it('round-trips float64 values exactly and nulls non-finite ones', () => {
    const values = [0.1 + 0.2, 1 / 3, 12345678901234, null, Number.NaN, 5e-324];
    const decoded = decodeFeatureValue(encodeFeatureValue(1700000000000, values), values.length)!;
    expect(decoded.eventTimeMs).toBe(1700000000000);
    expect(decoded.values).toEqual([0.1 + 0.2, 1 / 3, 12345678901234, null, null, 5e-324]);
  });

  it('never misreads a value of another width or a malformed one', () => {
    const text = encodeFeatureValue(1, [1, 2, 3]);
    expect(decodeFeatureValue(text, 2)).toBeUndefined();
    expect(decodeFeatureValue('[1,"x"]', 1)).toBeUndefined();
    expect(decodeFeatureValue('not json', 1)).toBeUndefined();
    expect(decodeFeatureValue(null, 1)).toBeUndefined();
  });

  it('round-trips the publication pointer and ignores a malformed one', () => {
    expect(decodePointer(encodePointer({ 'user_stats:0a1b2c3d': 4 }))).toEqual({ 'user_stats:0a1b2c3d': 4 });
    expect(decodePointer('{bad')).toEqual({});
  });
  describe('the fast decoder reads exactly what JSON.parse reads', () => {
    let seed = 42;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    /** Values of every kind the encoder meets: counts, rates, 17-digit ratios, exponents, signs, non-finite. */
    const randomValue = (): number | null => {
      const k = Math.floor(rand() * 14);
      const sign = rand() < 0.3 ? -1 : 1;
      switch (k) {
        case 0: return null;
        case 1: return Number.NaN;
        case 2: return sign * Infinity;
        case 3: return sign * Math.floor(rand() * 1e6);
        case 4: return sign * Math.round(rand() * 1e6) / 1e6;
        case 5: return sign * rand();
        case 6: return sign * rand() * 10 ** Math.floor(rand() * 40 - 20);
        case 7: return sign * rand() * 10 ** Math.floor(rand() * 600 - 300);
        case 8: return sign * Math.floor(rand() * 2 ** 53);
        case 9: return sign * 10 ** Math.floor(rand() * 44 - 22);
        case 10: return [0, -0, 5e-324, 1e21, 1e-7, 1.7976931348623157e308, 2 ** 53, 2 ** 53 + 2, 0.1 + 0.2][Math.floor(rand() * 9)];
        case 11: return sign * Math.floor(rand() * 1e15) / 10 ** Math.floor(rand() * 23);
        case 12: return Math.floor(rand() * 1000) / 7;
        default: return sign * Math.floor(rand() * 1e12) * 10 ** Math.floor(rand() * 30);
      }
    };
    let scanned = 0;
    const same = (text: string, width: number) => {
      const reference = decodeFeatureValueJson(text, width);
      // As text, and as bytes inside a larger buffer (as in a RESP reply), with junk after the value; and the
      // scanner itself (the decoders rest it on runs of values it leaves to the reference).
      const bytes = new TextEncoder().encode(`$9\r\n${text}ull,1]`);
      const scan = scanFeatureBytes(bytes, 4, bytes.length - 6, width);
      if (scan) scanned++;
      for (const fast of [decodeFeatureValue(text, width), decodeFeatureBytes(bytes, width, 4, bytes.length - 6), scan ?? reference]) {
        expect(fast, text).toEqual(reference);
        // toEqual does not tell 0 from -0: compare the bits.
        if (fast) expect(fast.values.map((v) => (Object.is(v, -0) ? '-0' : v)), text).toEqual(reference!.values.map((v) => (Object.is(v, -0) ? '-0' : v)));
      }
    };

    it('on random values as the encoder writes them, of the right and of another width', () => {
      for (let i = 0; i < 6000; i++) {
        const width = 1 + Math.floor(rand() * 12);
        const t = rand() < 0.05 ? Math.floor(rand() * 1e3) * -1 : 1_600_000_000_000 + Math.floor(rand() * 1e11);
        const text = encodeFeatureValue(t, Array.from({ length: width }, randomValue));
        same(text, width);
        same(text, width - 1);
        same(text, width + 1);
      }
      expect(scanned).toBeGreaterThan(500); // the scanner read a good share itself
    });

    it('takes the fast path for values of short numbers', () => {
      const scan = (text: string, width: number) => scanFeatureBytes(new TextEncoder().encode(text), 0, text.length, width);
      expect(scan('[1700000000000,0.5,-12,null,1e-7,2.5e+21,0]', 6)).toEqual({ eventTimeMs: 1700000000000, values: [0.5, -12, null, 1e-7, 2.5e21, 0] });
      expect(scan('[1,0.30000000000000004]', 1)).toBeUndefined(); // 17 digits: the reference reads it
      expect(scan('[1,n]', 1)).toBeUndefined();
    });

    it('on text the encoder does not write (refusing what JSON.parse refuses, reading what it reads)', () => {
      const texts = [
        '[1,2]', '[ 1,2]', '[1, 2]', '[1,2 ]', '[1,02]', '[1,2.]', '[1,.5]', '[1,-]', '[1,1e]', '[1,1e+]', '[1,1E5]', '[1,1e-400]',
        '[1,1e400]', '[-0,0]', '[1,-0]', '[1,nul]', '[1,null]', '[null,1]', '[1,nulll]', '[1,true]', '[1,"2"]', '[1,2,]', '[1,,2]',
        '[1,2]x', '[1,2', '1,2]', '[]', '[1]', '[', ']', '', '[1,n]', '[1,nu]', '[1,"é"]', '[1,2]é', '[1,2é]', '[1,{}]', '[1,[2]]', '[1,0.0000000000000000000001]', '[1,123456789012345]',
        '[1,1234567890123456]', '[1,9007199254740993]', '[1e3,2]', '[1.5,2]', '[-1,2]', '[1,-1e-22]', '[1,1e22]', '[1,1e23]',
        '[1,0e0]', '[1,00]', '[1,+1]', '[1,Infinity]', '[1,NaN]', '[1,2]\n',
      ];
      for (const text of texts) for (const width of [0, 1, 2]) same(text, width);
      // Every one-character edit of a few encoded values.
      const alphabet = '0123456789-+.eEnul,[] x';
      for (const base of ['[1700000000000,0.5,-12,null,1e-7]', '[1,2.25e+21,-0.001]']) {
        for (let at = 0; at < base.length; at++) {
          for (const ch of alphabet) {
            same(base.slice(0, at) + ch + base.slice(at + 1), 4);
            same(base.slice(0, at) + ch + base.slice(at), 4);
            same(base.slice(0, at) + base.slice(at + 1), 4);
          }
        }
      }
    });
  });
});
