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

/** The encodings this module knows. */
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
  /** The tokens of `text`; special-token strings are plain text. */
  encode(text: string): number[];
  /** The text of `tokens` (bytes that are not valid UTF-8 become U+FFFD). */
  decode(tokens: number[]): string;
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
  readonly joins: JoinMemo = new JoinMemo((text, from, to) => this.#countPieces(text, from, to));
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
    if (this.#buf.length < need) this.#buf = new Uint8Array(need * 2);
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
    if (text.length >= JOIN_MIN_TEXT) {
      const joined = this.joins.countJoin(text);
      if (joined >= 0) return joined;
    }
    const total = this.#countPieces(text, 0, text.length);
    this.joins.remember(text, total);
    return total;
  }

  // Counts the pieces from `from` to `to`, where `to` ends a piece.
  #countPieces(text: string, from: number, to: number): number {
    const scan = this.#scan;
    const cache = this.cache;
    let total = 0;
    let pos = from;
    while (pos < to) {
      const end = scan(text, pos);
      const len = end - pos;
      if (len === 1 && text.charCodeAt(pos) < 128) {
        total++;
      } else if (len <= MAX_CACHED_PIECE) {
        const h = hashUnits(text, pos, end);
        let value = cache.get(text, pos, end, h);
        if (value < 0) {
          value = this.#countPiece(text, pos, end);
          cache.set(text, pos, end, h, value);
        }
        total += value;
      } else {
        total += this.#countPiece(text, pos, end);
      }
      pos = end;
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
}
