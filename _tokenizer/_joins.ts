/**
 * Join memo: counts a text that is a concatenation of recently counted texts
 * (as a splitter's chunk is the join of the pieces it has just measured)
 * without tokenising it again.
 *
 * Why it is exact: at a "cut", a position `c` where `text[c - 1]` is an ASCII
 * letter and `text[c]` a space, every piece of both encodings' regexes ends (a
 * letter run, with or without its optional prefix or contraction, stops at the
 * space, and no alternative reads across it), and the pieces after it do not
 * depend on what came before. So the pieces of a text are the pieces of the
 * stretches between any chosen cuts, each tokenised on its own. For each
 * remembered text we keep the count between its first and last cut; a joined
 * text's count is those middles plus a fresh count of the short stretches
 * around each junction and at both ends. Every remembered text is compared
 * character by character (`startsWith`) before its count is used.
 *
 * Memory: at most {@link MEMO_ENTRIES} texts of at most {@link MEMO_MAX_TEXT}
 * units, {@link MEMO_UNITS} units in all, each held as its own flat copy (never
 * a slice that would keep a caller's large string alive).
 *
 * @module
 */

/** Texts remembered at most. */
export const MEMO_ENTRIES = 4096;
/** Longest text remembered (UTF-16 units). */
export const MEMO_MAX_TEXT = 65_536;
/** Shortest text remembered. */
export const MEMO_MIN_TEXT = 16;
/** Units remembered in all. */
export const MEMO_UNITS = 1 << 20;
/** Shortest text a join is looked for in. */
export const JOIN_MIN_TEXT = 1024;
const KEY = 16;

// Hash of the key stretch (kept apart from the piece cache's hash, so the
// JIT's code for that hot function sees only the strings it counts).
function keyHash(text: string, from: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < from + KEY; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Counts the pieces of `text[from..to)`, where `from` and `to` are cuts or ends. */
export type RangeCounter = (text: string, from: number, to: number) => number;

function isLetter(c: number): boolean {
  const lower = c | 0x20;
  return lower >= 97 && lower <= 122;
}

/**
 * The first cut at or after `from` and before `to`, or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { firstCut } from "./_joins.ts";
 * assert.equal(firstCut("Hi there", 0, 8), 2);
 * assert.equal(firstCut("1 2", 0, 3), -1);
 * ```
 */
export function firstCut(text: string, from: number, to: number): number {
  for (let i = from > 0 ? from : 1; i < to; i++) {
    if (text.charCodeAt(i) === 32 && isLetter(text.charCodeAt(i - 1))) return i;
  }
  return -1;
}

/**
 * The last cut after `from` and before `to`, or -1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastCut } from "./_joins.ts";
 * assert.equal(lastCut("a b c", 0, 5), 3);
 * ```
 */
export function lastCut(text: string, from: number, to: number): number {
  for (let i = to - 1; i > from; i--) {
    if (text.charCodeAt(i) === 32 && isLetter(text.charCodeAt(i - 1))) return i;
  }
  return -1;
}

function leadingSpace(text: string): number {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}

/**
 * Remembers counted texts and counts joins of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { JoinMemo } from "./_joins.ts";
 * // A stand-in counter: one "token" per character.
 * const memo = new JoinMemo((_text, from, to) => to - from);
 * const a = "First paragraph with some words in it, long enough to be remembered.".repeat(8);
 * const b = "\n\nSecond paragraph with more words in it, long enough to be remembered.".repeat(8);
 * for (const text of [a, b]) {
 *   assert.ok(memo.plan(text));
 *   memo.remember(text, memo.head, memo.tail); // counts before the cuts
 * }
 * assert.equal(memo.countJoin(a + b), a.length + b.length);
 * assert.equal(memo.countJoin("x" + a + b), -1); // not a join of remembered texts
 * ```
 */
export class JoinMemo {
  readonly #count: RangeCounter;
  readonly #texts: (string | undefined)[] = new Array(MEMO_ENTRIES);
  readonly #heads = new Int32Array(MEMO_ENTRIES);
  readonly #tails = new Int32Array(MEMO_ENTRIES);
  readonly #mids = new Int32Array(MEMO_ENTRIES);
  readonly #leads = new Int32Array(MEMO_ENTRIES);
  readonly #keys = new Int32Array(MEMO_ENTRIES);
  readonly #byKey = new Map<number, number>();
  /** The first cut of the text last planned by {@link JoinMemo.plan}. */
  head = -1;
  /** The last cut of the text last planned by {@link JoinMemo.plan}. */
  tail = -1;
  #lead = 0;
  #next = 0; // id of the next entry
  #oldest = 0; // id of the oldest live entry
  #units = 0;

  /** A memo over `count`, which counts stretches between cuts. */
  constructor(count: RangeCounter) {
    this.#count = count;
  }

  /** How many texts are remembered. */
  get size(): number {
    return this.#next - this.#oldest;
  }

  /** How many UTF-16 units are held. */
  get units(): number {
    return this.#units;
  }

  /** Forgets everything. */
  clear(): void {
    this.#texts.fill(undefined);
    this.#byKey.clear();
    this.#oldest = this.#next;
    this.#units = 0;
  }

  #evict(): void {
    const id = this.#oldest++;
    const slot = id % MEMO_ENTRIES;
    const text = this.#texts[slot]!;
    this.#units -= text.length;
    const key = this.#keys[slot];
    if (this.#byKey.get(key) === id) this.#byKey.delete(key);
    this.#texts[slot] = undefined;
  }

  /**
   * Whether `text` can be remembered; if so, sets {@link JoinMemo.head} and
   * {@link JoinMemo.tail} to its first and last cuts, where the caller notes
   * the running count for {@link JoinMemo.remember}.
   */
  plan(text: string): boolean {
    const n = text.length;
    if (n < MEMO_MIN_TEXT || n > MEMO_MAX_TEXT) return false;
    const lead = leadingSpace(text);
    if (n - lead < KEY) return false;
    const head = firstCut(text, lead + 1, n);
    if (head < 0) return false;
    this.head = head;
    this.tail = lastCut(text, head - 1, n);
    this.#lead = lead;
    return true;
  }

  /**
   * Remembers the text last planned: `beforeHead` and `beforeTail` are the
   * tokens before its first and last cuts. `fresh`: the text is already a
   * copy of its own (no slice of a caller's string), so it is kept as it is.
   */
  remember(text: string, beforeHead: number, beforeTail: number, fresh = false): void {
    const n = text.length;
    while (this.size >= MEMO_ENTRIES || (this.size > 0 && this.#units + n > MEMO_UNITS)) {
      this.#evict();
    }
    const id = this.#next++;
    const slot = id % MEMO_ENTRIES;
    // A flat copy, so that no slice keeps a caller's larger string alive.
    const copy = fresh ? text : (" " + text).slice(1);
    this.#texts[slot] = copy;
    this.#heads[slot] = this.head;
    this.#tails[slot] = this.tail;
    this.#mids[slot] = beforeTail - beforeHead;
    this.#leads[slot] = this.#lead;
    this.#units += n;
    const key = keyHash(text, this.#lead);
    this.#keys[slot] = key;
    this.#byKey.set(key, id);
  }

  /**
   * The count of `text` when it is a join of remembered texts (the first may
   * lose leading whitespace, the last may be cut short), else -1.
   */
  countJoin(text: string): number {
    const n = text.length;
    if (n < JOIN_MIN_TEXT) return -1;
    const count = this.#count;
    let total = 0;
    let at = 0; // where the current part starts in `text`
    let prevTail = -1; // last cut of the previous part, in `text`
    let id = -1;
    while (at < n) {
      // The entry that continues `text` at `at`: usually the next one.
      let slot = -1;
      let from = 0; // where the part starts in the entry
      if (id >= 0 && id + 1 < this.#next) {
        const next = (id + 1) % MEMO_ENTRIES;
        if (this.#matches(next, text, at, 0)) {
          id++;
          slot = next;
        }
      }
      if (slot < 0) {
        let q = at;
        while (q < n) {
          const c = text.charCodeAt(q);
          if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
          q++;
        }
        const found = q + KEY <= n ? this.#byKey.get(keyHash(text, q)) : undefined;
        if (found === undefined || found < this.#oldest) return -1;
        const candidate = found % MEMO_ENTRIES;
        // Only the first part may start inside the entry (leading whitespace trimmed).
        from = at === 0 ? this.#leads[candidate] - q : this.#leads[candidate] - (q - at);
        if (from < 0 || (at > 0 && from !== 0)) return -1;
        if (!this.#matches(candidate, text, at, from)) return -1;
        id = found;
        slot = candidate;
      }
      const entry = this.#texts[slot]!;
      const to = Math.min(entry.length, from + n - at); // the part is entry[from..to)
      const head = this.#heads[slot];
      const tail = this.#tails[slot];
      // Both cuts (letter and space) must lie inside the part.
      if (head - 1 < from || tail >= to) return -1;
      const headInText = at + head - from;
      total += count(text, prevTail < 0 ? 0 : prevTail, headInText) + this.#mids[slot];
      prevTail = at + tail - from;
      at += to - from;
    }
    return total + count(text, prevTail, n);
  }

  // Whether `text` at `at` continues with entry `slot` from `from` (to its
  // end, or to the end of `text`).
  #matches(slot: number, text: string, at: number, from: number): boolean {
    const entry = this.#texts[slot];
    if (entry === undefined) return false;
    if (entry.length - from <= text.length - at) {
      return text.startsWith(from === 0 ? entry : entry.substring(from), at);
    }
    return entry.startsWith(at === 0 ? text : text.substring(at), from);
  }
}
