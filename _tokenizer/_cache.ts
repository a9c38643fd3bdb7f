/**
 * A bounded piece cache that allocates nothing per lookup: a two-way
 * set-associative hash table in typed arrays, keyed by the piece's UTF-16
 * units (pieces of at most {@link MAX_CACHED_PIECE} units), valued by its
 * token count. A new entry goes to the first way of its set and moves the
 * previous one to the second way (evicting what was there), an approximate
 * LRU. The table never holds more than `slots` entries, nor any reference to
 * the text it was filled from.
 *
 * @module
 */

/** The longest piece (UTF-16 units) the cache holds. */
export const MAX_CACHED_PIECE = 16;

/**
 * Hash of `text[from..to)` as UTF-16 units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashUnits } from "./_cache.ts";
 * assert.equal(hashUnits("xhay", 1, 3), hashUnits("ha", 0, 2));
 * ```
 */
export function hashUnits(text: string, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) | 0;
}

/**
 * Bounded cache from short pieces of text to token counts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashUnits, PieceCache } from "./_cache.ts";
 * const cache = new PieceCache(1024);
 * const text = "say hello";
 * const h = hashUnits(text, 3, 9);
 * assert.equal(cache.get(text, 3, 9, h), -1);
 * cache.set(text, 3, 9, h, 1);
 * assert.equal(cache.get(" hello", 0, 6, hashUnits(" hello", 0, 6)), 1);
 * assert.ok(cache.size <= cache.slots);
 * ```
 */
export class PieceCache {
  /** The most entries held. */
  readonly slots: number;
  readonly #mask: number;
  readonly #units: Uint16Array;
  readonly #lengths: Uint8Array; // 0: empty
  readonly #hashes: Int32Array;
  readonly #values: Int32Array;
  #size = 0;

  /** A cache of `slots` entries (rounded up to a power of two, at least 2). */
  constructor(slots: number) {
    let n = 2;
    while (n < slots) n <<= 1;
    this.slots = n;
    this.#mask = (n - 1) & ~1;
    this.#units = new Uint16Array(n * MAX_CACHED_PIECE);
    this.#lengths = new Uint8Array(n);
    this.#hashes = new Int32Array(n);
    this.#values = new Int32Array(n);
  }

  #matches(slot: number, text: string, from: number, to: number, h: number): boolean {
    if (this.#hashes[slot] !== h || this.#lengths[slot] !== to - from) return false;
    const units = this.#units;
    let at = slot * MAX_CACHED_PIECE;
    for (let i = from; i < to; i++, at++) if (units[at] !== text.charCodeAt(i)) return false;
    return true;
  }

  /** The count cached for `text[from..to)` (hash `h`), or -1. */
  get(text: string, from: number, to: number, h: number): number {
    const slot = h & this.#mask;
    if (this.#matches(slot, text, from, to, h)) return this.#values[slot];
    if (this.#matches(slot + 1, text, from, to, h)) return this.#values[slot + 1];
    return -1;
  }

  /** Caches `value` for `text[from..to)` (hash `h`, at most {@link MAX_CACHED_PIECE} units). */
  set(text: string, from: number, to: number, h: number, value: number): void {
    const slot = h & this.#mask;
    const units = this.#units;
    const lengths = this.#lengths;
    if (lengths[slot + 1] === 0) this.#size++;
    if (lengths[slot] !== 0) {
      // Move the first way to the second.
      const a = slot * MAX_CACHED_PIECE;
      units.copyWithin(a + MAX_CACHED_PIECE, a, a + lengths[slot]);
      lengths[slot + 1] = lengths[slot];
      this.#hashes[slot + 1] = this.#hashes[slot];
      this.#values[slot + 1] = this.#values[slot];
    }
    let at = slot * MAX_CACHED_PIECE;
    for (let i = from; i < to; i++, at++) units[at] = text.charCodeAt(i);
    lengths[slot] = to - from;
    this.#hashes[slot] = h;
    this.#values[slot] = value;
  }

  /** How many entries are held. */
  get size(): number {
    return this.#size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#lengths.fill(0);
    this.#size = 0;
  }
}
