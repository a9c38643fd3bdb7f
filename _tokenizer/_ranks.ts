/**
 * A compact rank table: every token's bytes in one `Uint8Array`, and an
 * open-addressing hash table (typed arrays) from token bytes to rank.
 *
 * Built once per encoding from the rank data that `js-tiktoken` ships (lines of
 * `FIRST OFFSET TOKEN...`, tokens in base64 with consecutive ranks). Building
 * decodes the base64 straight into the byte store; no per-token objects or
 * strings are made, so the table costs a few MB and a few ms.
 *
 * @module
 */

/** The shape of `js-tiktoken`'s rank modules (their default export). */
export interface RankData {
  /** The pre-tokenising regular expression. */
  pat_str: string;
  /** Special token strings and their ranks. */
  special_tokens: Record<string, number>;
  /** The ranks, as lines of `FIRST OFFSET TOKEN...` with base64 tokens. */
  bpe_ranks: string;
}

const BASE64 = /* @__PURE__ */ (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Hash of `buf[from..to)`: FNV-1a over the bytes with a final mix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashBytes } from "./_ranks.ts";
 * const bytes = new Uint8Array([1, 2, 3, 1, 2]);
 * assert.equal(hashBytes(bytes, 0, 2), hashBytes(bytes, 3, 5));
 * ```
 */
export function hashBytes(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

/**
 * Token bytes to rank and back, for one encoding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RankTable } from "./_ranks.ts";
 * // Ranks 0..2 are "a", "b" and "ab" (base64 YQ==, Yg==, YWI=).
 * const table = new RankTable("a 0 YQ== Yg== YWI=");
 * assert.equal(table.rank(new TextEncoder().encode("ab"), 0, 2), 2);
 * assert.equal(table.rank(new TextEncoder().encode("ba"), 0, 2), -1);
 * ```
 */
export class RankTable {
  /** The bytes of every token, one after another. */
  readonly bytes: Uint8Array;
  /** Where each rank's bytes start in {@link RankTable.bytes}. */
  readonly starts: Uint32Array;
  /** How many bytes each rank has (0: no such rank). */
  readonly lengths: Uint16Array;
  /** The rank of each single byte. */
  readonly byteRanks: Int32Array;
  /** The rank of each two-byte token, indexed by `first << 8 | second`. */
  readonly pairRanks: Int32Array;
  /** Number of ranks (highest rank + 1). */
  readonly size: number;
  readonly #slots: Int32Array; // rank + 1, 0 when empty
  readonly #hashes: Int32Array;
  readonly #mask: number;

  /** Parses `js-tiktoken` rank text (`bpe_ranks`). */
  constructor(ranksText: string) {
    const n = ranksText.length;
    const bytes = new Uint8Array(Math.ceil((n * 3) / 4));
    let capacity = (n >> 2) + 16;
    let starts = new Uint32Array(capacity);
    let lengths = new Uint16Array(capacity);
    let written = 0;
    let size = 0;
    let pos = 0;
    while (pos < n) {
      let lineEnd = ranksText.indexOf("\n", pos);
      if (lineEnd < 0) lineEnd = n;
      const firstSpace = ranksText.indexOf(" ", pos);
      if (firstSpace < 0 || firstSpace >= lineEnd) {
        pos = lineEnd + 1;
        continue;
      }
      let i = firstSpace + 1;
      let rank = 0;
      for (
        let c = ranksText.charCodeAt(i);
        i < lineEnd && c !== 32;
        c = ranksText.charCodeAt(++i)
      ) {
        rank = rank * 10 + (c - 48);
      }
      while (i < lineEnd) {
        i++; // the space before a token
        if (rank >= capacity) {
          capacity = Math.max(capacity * 2, rank + 16);
          const s = new Uint32Array(capacity);
          s.set(starts);
          starts = s;
          const l = new Uint16Array(capacity);
          l.set(lengths);
          lengths = l;
        }
        starts[rank] = written;
        // Decode base64 four characters at a time.
        let acc = 0;
        let bits = 0;
        for (; i < lineEnd; i++) {
          const c = ranksText.charCodeAt(i);
          if (c === 32) break;
          if (c === 61) continue; // "=" padding
          acc = ((acc << 6) | BASE64[c]) & 0xffffff;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            bytes[written++] = (acc >>> bits) & 0xff;
          }
        }
        lengths[rank] = written - starts[rank];
        rank++;
        if (rank > size) size = rank;
      }
      pos = lineEnd + 1;
    }
    this.bytes = bytes.slice(0, written);
    this.starts = starts.slice(0, size);
    this.lengths = lengths.slice(0, size);
    this.size = size;

    let slotCount = 1024;
    while (slotCount < size * 2) slotCount <<= 1;
    const slots = new Int32Array(slotCount);
    const hashes = new Int32Array(slotCount);
    const mask = slotCount - 1;
    const store = this.bytes;
    const starts2 = this.starts;
    const lengths2 = this.lengths;
    const byteRanks = new Int32Array(256).fill(-1);
    const pairRanks = new Int32Array(65536).fill(-1);
    for (let rank = 0; rank < size; rank++) {
      const len = lengths2[rank];
      if (len === 0) continue;
      const from = starts2[rank];
      if (len === 1) byteRanks[store[from]] = rank;
      else if (len === 2) pairRanks[(store[from] << 8) | store[from + 1]] = rank;
      const h = hashBytes(store, from, from + len);
      let slot = h & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = rank + 1;
      hashes[slot] = h;
    }
    this.#slots = slots;
    this.#hashes = hashes;
    this.#mask = mask;
    this.byteRanks = byteRanks;
    this.pairRanks = pairRanks;
  }

  /** The rank of the token with bytes `buf[from..to)`, or -1. */
  rank(buf: Uint8Array, from: number, to: number): number {
    const len = to - from;
    if (len === 2) return this.pairRanks[(buf[from] << 8) | buf[from + 1]];
    if (len === 1) return this.byteRanks[buf[from]];
    const h = hashBytes(buf, from, to);
    const slots = this.#slots;
    const hashes = this.#hashes;
    const mask = this.#mask;
    let slot = h & mask;
    for (;;) {
      const entry = slots[slot];
      if (entry === 0) return -1;
      if (hashes[slot] === h) {
        const rank = entry - 1;
        if (this.lengths[rank] === len) {
          const store = this.bytes;
          let at = this.starts[rank];
          let i = from;
          while (i < to && store[at] === buf[i]) {
            at++;
            i++;
          }
          if (i === to) return rank;
        }
      }
      slot = (slot + 1) & mask;
    }
  }
}
