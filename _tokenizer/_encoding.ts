/**
 * A loaded BPE encoding: pre-tokeniser, rank table, byte-pair merge and a
 * bounded piece cache.
 *
 * @module
 */
import { lastBounds, merge } from "./_bpe.ts";
import { hashUnits, MAX_CACHED_PIECE, PieceCache } from "./_cache.ts";
import { cl100kScanner, o200kScanner, type Scanner } from "./_pretokenize.ts";
import { type RankData, RankTable } from "./_ranks.ts";
import { JOIN_MIN_TEXT, JoinMemo } from "./_joins.ts";
import { encodeUtf8Into } from "./_utf8.ts";

/**
 * The encodings this module knows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type EncodingName, getEncodingName } from "../tokens.ts";
 * const name: EncodingName | undefined = getEncodingName("gpt-4o");
 * assert.equal(name, "o200k_base");
 * ```
 */
export type EncodingName = "cl100k_base" | "o200k_base";

/**
 * A loaded encoding.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEncoding } from "./mod.ts";
 * const enc = await loadEncoding("cl100k_base");
 * assert.equal(enc.count("Hello, world!"), 4);
 * assert.equal(enc.decode(enc.encode("Hello, world!")), "Hello, world!");
 * ```
 */
export interface Encoding {
  /** The encoding's name. */
  readonly name: EncodingName;
  /**
   * The exact number of tokens of `text`, equal to the length of
   * {@link Encoding.encode}; special-token strings are plain text.
   */
  count(text: string): number;
  /**
   * The tokens of `text` from `from` to `to` without slicing it (a slice of a
   * long text reads more slowly): exact when both ends are cuts of the
   * pre-tokeniser (0, the text's length, or a point after which it splits
   * whatever comes before or after, as the budget's safe split points).
   */
  countRange(text: string, from: number, to: number): number;
  /** The tokens of `text`; special-token strings are plain text. */
  encode(text: string): number[];
  /** The text of `tokens` (bytes that are not valid UTF-8 become U+FFFD). */
  decode(tokens: number[]): string;
  /**
   * The tokens of `text` counted only as far as needed to tell whether they
   * are at most `limit`. A result at most `limit` is at least the exact
   * count (the counted part's exact tokens plus the UTF-8 bytes of the rest,
   * since no token is shorter than a byte); a result over `limit` is at most
   * the exact count (the tokens counted so far). So `countWithin(text, limit)
   * <= limit` exactly when `count(text) <= limit`; a text that is counted to
   * its end gets its exact count.
   */
  countWithin(text: string, limit: number): number;
}

const FLATTEN_MAX = 65_536;
let flatBytes = new Uint8Array(1024);
const asciiEncoder = new TextEncoder();
const asciiDecoder = new TextDecoder();

// Whether the text of the last flatAscii() call was copied, so known to be ASCII.
let flattenedAscii = false;

// A flat copy of an ASCII text of moderate length (a slice of a larger string
// reads more slowly, character by character), else the text itself.
function flatAscii(text: string): string {
  flattenedAscii = false;
  const n = text.length;
  if (n < 13 || n > FLATTEN_MAX) return text; // shorter slices are copies already
  if (flatBytes.length < n) flatBytes = new Uint8Array(Math.max(n, 2 * flatBytes.length));
  const { read, written } = asciiEncoder.encodeInto(text, flatBytes.subarray(0, n));
  if (read !== n || written !== n) return text;
  flattenedAscii = true;
  return asciiDecoder.decode(flatBytes.subarray(0, n));
}

/** Entries in each encoding's piece cache. */
export const CACHE_SLOTS = 65_536;

/**
 * The implementation of {@link Encoding} over a {@link RankTable}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEncoding } from "./mod.ts";
 * const enc = await loadEncoding("o200k_base");
 * assert.equal(enc.count("<|endoftext|>"), enc.encode("<|endoftext|>").length);
 * ```
 */
export class BpeEncoding implements Encoding {
  /** The encoding's name. */
  readonly name: EncodingName;
  /** The bounded piece-to-count cache. */
  readonly cache: PieceCache = new PieceCache(CACHE_SLOTS);
  /** The bounded memo of recently counted texts, for counting their joins. */
  readonly joins: JoinMemo = new JoinMemo((text, from, to) =>
    this.#countPieces(text, from, to, -1, -1)
  );
  readonly #table: RankTable;
  readonly #scan: Scanner;
  readonly #special: Map<number, string>;
  #buf: Uint8Array = new Uint8Array(1024);

  /** Builds the encoding from `js-tiktoken` rank data. */
  constructor(name: EncodingName, data: RankData) {
    this.name = name;
    this.#table = new RankTable(data.bpe_ranks);
    this.#scan = name === "cl100k_base" ? cl100kScanner(data.pat_str) : o200kScanner(data.pat_str);
    this.#special = new Map(
      Object.entries(data.special_tokens).map(([text, rank]) => [rank, text]),
    );
  }

  #bytes(from: number, to: number): Uint8Array {
    const need = (to - from) * 3;
    if (this.#buf.length < need) this.#buf = new Uint8Array(need < 1 << 16 ? need * 2 : need);
    else if (this.#buf.length > 1 << 20 && need < 1 << 16) this.#buf = new Uint8Array(1 << 16);
    return this.#buf;
  }

  #countPiece(text: string, from: number, to: number): number {
    const buf = this.#bytes(from, to);
    const n = encodeUtf8Into(text, from, to, buf);
    if (n === 1) return 1;
    if (this.#table.rank(buf, 0, n) >= 0) return 1;
    return merge(this.#table, buf, n);
  }

  count(text: string): number {
    // Flat copies read faster than slices and keep the JIT's code for one
    // string shape.
    const flat = flatAscii(text);
    const joins = this.joins;
    if (flat.length >= JOIN_MIN_TEXT) {
      const joined = joins.countJoin(flat);
      if (joined >= 0) return joined;
    }
    if (!joins.plan(flat)) return this.#countPieces(flat, 0, flat.length, -1, -1);
    this.#beforeHead = this.#beforeTail = -1;
    const total = this.#countPieces(flat, 0, flat.length, joins.head, joins.tail);
    // Pieces always end at cuts; remember only when both were seen.
    if (this.#beforeHead >= 0 && this.#beforeTail >= 0) {
      joins.remember(flat, this.#beforeHead, this.#beforeTail, flat !== text);
    }
    return total;
  }

  countRange(text: string, from: number, to: number): number {
    return this.#countPieces(text, from, to, -1, -1);
  }

  #beforeHead = 0;
  #beforeTail = 0;

  // The tokens of the piece text[pos, end): 1 for an ASCII character, else from the piece
  // cache (counted and kept when missing), or counted when too long to keep.
  #pieceTokens(text: string, pos: number, end: number): number {
    const len = end - pos;
    if (len === 1 && text.charCodeAt(pos) < 128) return 1;
    if (len > MAX_CACHED_PIECE) return this.#countPiece(text, pos, end);
    const h = hashUnits(text, pos, end);
    let value = this.cache.get(text, pos, end, h);
    if (value < 0) {
      value = this.#countPiece(text, pos, end);
      this.cache.set(text, pos, end, h, value);
    }
    return value;
  }

  // Counts the pieces from `from` to `to`, where `to` ends a piece; notes the
  // running count where pieces end at `head` and at `tail`.
  #countPieces(text: string, from: number, to: number, head: number, tail: number): number {
    const scan = this.#scan;
    let total = 0;
    let pos = from;
    while (pos < to) {
      const end = scan(text, pos);
      total += this.#pieceTokens(text, pos, end);
      pos = end;
      if (pos === head) this.#beforeHead = total;
      if (pos === tail) this.#beforeTail = total;
    }
    return total;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    const n = text.length;
    const table = this.#table;
    let pos = 0;
    while (pos < n) {
      const end = this.#scan(text, pos);
      const buf = this.#bytes(pos, end);
      const len = encodeUtf8Into(text, pos, end, buf);
      const whole = table.rank(buf, 0, len);
      if (whole >= 0) {
        out.push(whole);
      } else {
        const parts = merge(table, buf, len);
        const bounds = lastBounds();
        for (let i = 0; i < parts; i++) out.push(table.rank(buf, bounds[i], bounds[i + 1]));
      }
      pos = end;
    }
    return out;
  }

  decode(tokens: number[]): string {
    const table = this.#table;
    let size = 0;
    for (const token of tokens) {
      if (token >= 0 && token < table.size) size += table.lengths[token];
      else {
        const special = this.#special.get(token);
        if (special !== undefined) size += special.length * 3;
      }
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const token of tokens) {
      if (token >= 0 && token < table.size) {
        const start = table.starts[token];
        out.set(table.bytes.subarray(start, start + table.lengths[token]), at);
        at += table.lengths[token];
      } else {
        const special = this.#special.get(token);
        if (special !== undefined) {
          at += encodeUtf8Into(special, 0, special.length, out.subarray(at));
        }
      }
    }
    return new TextDecoder().decode(out.subarray(0, at));
  }

  countWithin(text: string, limit: number): number {
    const flat = flatAscii(text);
    const n = flat.length;
    // UTF-8 bytes beyond one per UTF-16 unit: none for ASCII (told by the flat copy).
    const extra = flattenedAscii ? 0 : extraBytes(flat);
    if (n + extra <= limit) return n + extra;
    const scan = this.#scan;
    let total = 0;
    let pos = 0;
    while (pos < n) {
      const end = scan(flat, pos);
      total += this.#pieceTokens(flat, pos, end);
      pos = end;
      // The pieces from here on are at most their bytes: at most `rest` tokens.
      const left = n - pos;
      const rest = left + (extra < 2 * left ? extra : 2 * left);
      if (total + rest <= limit) return total + rest;
      if (total > limit) return total;
    }
    return total;
  }
}

/**
 * The UTF-8 bytes of `text` beyond one per UTF-16 unit, or more: 1 for a
 * unit under U+0800, 2 for any other (a surrogate pair's 4 bytes, a lone
 * surrogate's 3 as U+FFFD, are within 2 per unit).
 */
function extraBytes(text: string): number {
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) extra += c < 0x800 ? 1 : 2;
  }
  return extra;
}
