/**
 * Byte-pair merging of one pre-tokenised piece (already UTF-8 bytes).
 *
 * The rule (as in tiktoken): start from single bytes; repeatedly merge the
 * adjacent pair whose joined bytes form the token of lowest rank (leftmost on
 * ties) until no adjacent pair is a token. Short pieces use flat arrays
 * (quadratic, but tiny); long pieces use a binary heap and a linked list.
 *
 * @module
 */
import type { RankTable } from "./_ranks.ts";

const NONE = 0x7fffffff;
/** Scratch arrays larger than this are dropped when a smaller piece comes. */
const KEEP = 1 << 16;
/** Pieces up to this many bytes use the flat-array merge. */
const SMALL = 96;

let bounds = new Int32Array(256);
let pairRanks = new Int32Array(256);

/**
 * Merges `buf[0..n)` and returns the number of parts (tokens); the parts'
 * start offsets are then in `lastBounds()[0..count]`, with
 * `lastBounds()[count] === n`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastBounds, merge } from "./_bpe.ts";
 * import { RankTable } from "./_ranks.ts";
 * const table = new RankTable("a 0 YQ== Yg== YWI="); // "a", "b", "ab"
 * assert.equal(merge(table, new TextEncoder().encode("abab"), 4), 2);
 * assert.deepEqual([...lastBounds().subarray(0, 3)], [0, 2, 4]);
 * ```
 */
export function merge(table: RankTable, buf: Uint8Array, n: number): number {
  if (n < KEEP && bounds.length > KEEP) shrink();
  return n <= SMALL ? mergeSmall(table, buf, n) : mergeLarge(table, buf, n);
}

/**
 * The part boundaries from the last {@link merge}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastBounds, merge } from "./_bpe.ts";
 * import { RankTable } from "./_ranks.ts";
 * merge(new RankTable("a 0 YQ== Yg=="), new TextEncoder().encode("ab"), 2);
 * assert.deepEqual([...lastBounds().subarray(0, 3)], [0, 1, 2]);
 * ```
 */
export function lastBounds(): Int32Array {
  return bounds;
}

function mergeSmall(table: RankTable, buf: Uint8Array, n: number): number {
  if (bounds.length <= n) {
    bounds = new Int32Array(n * 2 + 2);
    pairRanks = new Int32Array(n * 2 + 2);
  }
  const b = bounds;
  const pr = pairRanks;
  for (let i = 0; i <= n; i++) b[i] = i;
  for (let i = 0; i + 1 < n; i++) {
    const r = table.rank(buf, i, i + 2);
    pr[i] = r < 0 ? NONE : r;
  }
  let parts = n;
  while (parts > 1) {
    let best = NONE;
    let at = -1;
    for (let i = 0; i + 1 < parts; i++) {
      if (pr[i] < best) {
        best = pr[i];
        at = i;
      }
    }
    if (at < 0) break;
    // Merge parts `at` and `at + 1`: drop boundary at + 1.
    for (let i = at + 1; i < parts; i++) b[i] = b[i + 1];
    for (let i = at + 1; i + 1 < parts - 1; i++) pr[i] = pr[i + 1];
    parts--;
    if (at + 1 < parts) {
      const r = table.rank(buf, b[at], b[at + 2]);
      pr[at] = r < 0 ? NONE : r;
    } else {
      pr[at] = NONE;
    }
    if (at > 0) {
      const r = table.rank(buf, b[at - 1], b[at + 1]);
      pr[at - 1] = r < 0 ? NONE : r;
    }
  }
  return parts;
}

// Heap of (rank, start) keys, packed as rank * 2^32 + start in a Float64Array.
let heap = new Float64Array(1024);
let next = new Int32Array(1024);
let prev = new Int32Array(1024);
let current = new Int32Array(1024);
const TWO32 = 4294967296;

// Frees the scratch arrays a very long piece needed.
function shrink(): void {
  bounds = new Int32Array(256);
  pairRanks = new Int32Array(256);
  heap = new Float64Array(1024);
  next = new Int32Array(1024);
  prev = new Int32Array(1024);
  current = new Int32Array(1024);
}

function mergeLarge(table: RankTable, buf: Uint8Array, n: number): number {
  if (next.length <= n) {
    const size = n < KEEP ? n * 2 + 2 : n + 2;
    next = new Int32Array(size);
    prev = new Int32Array(size);
    current = new Int32Array(size);
    heap = new Float64Array(size);
  }
  // Parts are identified by their start byte; next[s] is the next part's start.
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
  }
  next[n] = n;
  let size = 0;
  const push = (key: number) => {
    let i = size++;
    if (size > heap.length) {
      const h = new Float64Array(heap.length * 2);
      h.set(heap);
      heap = h;
    }
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= key) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = key;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap[--size];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1] < heap[child]) child++;
      if (heap[child] >= last) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  };
  for (let i = 0; i + 1 < n; i++) {
    const r = table.rank(buf, i, i + 2);
    current[i] = r < 0 ? NONE : r;
    if (r >= 0) push(r * TWO32 + i);
  }
  current[n - 1] = NONE;
  let parts = n;
  while (size > 0) {
    const key = pop();
    const rank = Math.floor(key / TWO32);
    const start = key - rank * TWO32;
    if (current[start] !== rank) continue; // stale
    // Merge the part at `start` with the next one.
    const mid = next[start];
    const after = next[mid];
    next[start] = after;
    if (after < n) prev[after] = start;
    current[mid] = NONE;
    parts--;
    if (after < n) {
      const r = table.rank(buf, start, next[after]);
      current[start] = r < 0 ? NONE : r;
      if (r >= 0) push(r * TWO32 + start);
    } else {
      current[start] = NONE;
    }
    const before = prev[start];
    if (before >= 0) {
      const r = table.rank(buf, before, after);
      current[before] = r < 0 ? NONE : r;
      if (r >= 0) push(r * TWO32 + before);
    }
  }
  // Leave the boundaries in `bounds` for callers that need the tokens.
  if (bounds.length <= parts) {
    bounds = new Int32Array(parts + 2);
    pairRanks = new Int32Array(parts + 2);
  }
  let k = 0;
  for (let s = 0; s < n; s = next[s]) bounds[k++] = s;
  bounds[k] = n;
  return parts;
}
