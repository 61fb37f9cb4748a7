// Inflating a zlib stream (RFC 1950 around RFC 1951) synchronously, after Mark Adler's puff.c:
// canonical Huffman codes decoded a bit at a time. Small rather than fast (a few ms for the kernel
// modules' tens of KB); unlike the platform's DecompressionStream it is synchronous (a kernel family
// first used after init() is inflated and compiled on the spot) and takes a preset dictionary
// (the families are deflated with the core's bytes as one: src/core/families.ts).

interface Huffman {
  /** Codes per length 0..15. */
  counts: Uint16Array;
  /** Symbols ordered by code. */
  symbols: Uint16Array;
}

function huffman(lengths: ArrayLike<number>): Huffman {
  const counts = new Uint16Array(16);
  const offsets = new Uint16Array(16);
  const symbols = new Uint16Array(lengths.length);
  for (let s = 0; s < lengths.length; s++) counts[lengths[s]]++;
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len] + counts[len];
  for (let s = 0; s < lengths.length; s++) if (lengths[s] !== 0) symbols[offsets[lengths[s]]++] = s;
  return { counts, symbols };
}

/** The base values of lengths 3..258 or distances 1..32768 (RFC 1951 3.2.5), from their extra bits. */
function bases(extra: Uint8Array, first: number): Uint16Array {
  const out = new Uint16Array(extra.length);
  for (let i = 0, base = first; i < extra.length; base += 1 << extra[i++]) out[i] = base;
  return out;
}

/**
 * The bytes a zlib stream holds; `dictionary`: the preset dictionary it was deflated with (the
 * kernel families are deflated with the core module as one: they share much of its code). Throws
 * on a stream it cannot read (only corrupt data does that).
 */
export function inflateSync(data: Uint8Array, dictionary: Uint8Array = new Uint8Array(0)): Uint8Array {
  // The tables, built per call (no work at module load: a bundle that never inflates drops it all).
  const lengthExtra = Uint8Array.from({ length: 29 }, (_, i) => (i < 8 || i === 28 ? 0 : (i >> 2) - 1));
  const lengthBase = bases(lengthExtra, 3);
  lengthBase[28] = 258;
  const distExtra = Uint8Array.from({ length: 30 }, (_, i) => (i < 4 ? 0 : (i >> 1) - 1));
  const distBase = bases(distExtra, 1);
  const fixedLiterals = huffman(Uint8Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)));
  const fixedDistances = huffman(new Uint8Array(30).fill(5));
  let at = data[1] & 0x20 ? 6 : 2; // past the zlib header (CMF, FLG), and the dictionary's id if FDICT is set
  let held = 0; // bits read but not used, lowest first
  let count = 0;
  // The dictionary is the output's first bytes, where back-references may reach.
  let out = new Uint8Array(dictionary.length + data.length * 4);
  out.set(dictionary);
  let n = dictionary.length;
  const bits = (need: number): number => {
    for (; count < need; count += 8) held |= (data[at++] ?? 0) << count;
    const v = held & ((1 << need) - 1);
    held >>>= need;
    count -= need;
    return v;
  };
  const room = (more: number): void => {
    if (n + more <= out.length) return;
    const grown = new Uint8Array(Math.max(out.length * 2, n + more));
    grown.set(out);
    out = grown;
  };
  const decode = (h: Huffman): number => {
    for (let len = 1, code = 0, first = 0, index = 0; len < 16; len++) {
      code |= bits(1);
      const count = h.counts[len];
      if (code - first < count) return h.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error("inflate: invalid Huffman code (corrupt data)");
  };
  for (let last = 0; !last; ) {
    if (at > data.length) throw new Error("inflate: the stream ends early (corrupt data)");
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      // Stored: byte-aligned LEN, NLEN, then LEN bytes (the bits held are the rest of a byte).
      held = count = 0;
      const len = data[at] | (data[at + 1] << 8);
      at += 4;
      room(len);
      out.set(data.subarray(at, at + len), n);
      n += len;
      at += len;
      continue;
    }
    if (type === 3) throw new Error("inflate: invalid block type (corrupt data)");
    let literals = fixedLiterals;
    let distances = fixedDistances;
    if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      const clens = new Uint8Array(19);
      // The order code-length code lengths come in (RFC 1951 3.2.7).
      for (let i = 0; i < ncode; i++) clens[[16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15][i]] = bits(3);
      const codes = huffman(clens);
      const lengths = new Uint8Array(nlen + ndist);
      for (let i = 0; i < nlen + ndist; ) {
        const sym = decode(codes);
        if (sym < 16) lengths[i++] = sym;
        else {
          const repeat = sym === 16 ? 3 + bits(2) : sym === 17 ? 3 + bits(3) : 11 + bits(7);
          lengths.fill(sym === 16 ? lengths[i - 1] : 0, i, i + repeat);
          i += repeat;
        }
      }
      literals = huffman(lengths.subarray(0, nlen));
      distances = huffman(lengths.subarray(nlen));
    }
    for (;;) {
      const sym = decode(literals);
      if (sym < 256) {
        room(1);
        out[n++] = sym;
      } else if (sym === 256) break;
      else {
        const len = lengthBase[sym - 257] + bits(lengthExtra[sym - 257]);
        const d = decode(distances);
        const dist = distBase[d] + bits(distExtra[d]);
        room(len);
        for (let i = 0; i < len; i++, n++) out[n] = out[n - dist];
      }
    }
  }
  return out.slice(dictionary.length, n);
}
