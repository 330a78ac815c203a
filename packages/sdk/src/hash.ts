/**
 * MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of a string. The one hash lockstep uses for feature hashing:
 * training and serving both call this function, so a category hashes to the same index everywhere.
 *
 * Strings are encoded to UTF-8 on the fly (no TextEncoder allocation) because this runs once per field per row,
 * millions of times a second during training.
 */
export function murmur3(text: string, seed = 0): number {
  let h = seed >>> 0;
  let k = 0; // the 4-byte block being assembled, little-endian
  let shift = 0; // bits already in k
  let length = 0; // UTF-8 byte count

  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;

  // Feed one byte: assemble blocks of 4 and mix each full block into h.
  const push = (byte: number) => {
    k |= byte << shift;
    shift += 8;
    length++;
    if (shift === 32) {
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      k = 0;
      shift = 0;
    }
  };

  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      push(c);
    } else if (c < 0x800) {
      push(0xc0 | (c >> 6));
      push(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        push(0xf0 | (c >> 18));
        push(0x80 | ((c >> 12) & 0x3f));
        push(0x80 | ((c >> 6) & 0x3f));
        push(0x80 | (c & 0x3f));
      } else {
        // A lone high surrogate encodes as U+FFFD, exactly as TextEncoder does.
        push(0xef), push(0xbf), push(0xbd);
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      push(0xef), push(0xbf), push(0xbd);
    } else {
      push(0xe0 | (c >> 12));
      push(0x80 | ((c >> 6) & 0x3f));
      push(0x80 | (c & 0x3f));
    }
  }

  // Tail: the last 1-3 bytes are mixed without the h rotation.
  if (shift > 0) {
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }

  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
