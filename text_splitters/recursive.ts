/**
 * The recursive character text splitter: cuts at paragraph breaks first, then
 * line breaks, then spaces, then between characters, and merges small pieces
 * back into chunks that fit.
 *
 * @module
 */
import type { TextSplitter, TextSplitterOptions } from "./types.ts";

/**
 * The separators tried in order, from the coarsest cut to the finest.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_SEPARATORS } from "./recursive.ts";
 * assert.deepEqual(DEFAULT_SEPARATORS, ["\n\n", "\n", " ", ""]);
 * ```
 */
export const DEFAULT_SEPARATORS: readonly string[] = ["\n\n", "\n", " ", ""];

/**
 * The default overlap between neighbouring chunks, in length units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CHUNK_OVERLAP } from "./recursive.ts";
 * assert.equal(DEFAULT_CHUNK_OVERLAP, 200);
 * ```
 */
export const DEFAULT_CHUNK_OVERLAP = 200;

interface Piece {
  text: string;
  length: number;
}

/**
 * Splits text into chunks no longer than `chunkSize` (as measured by
 * `lengthFunction`) wherever a cut at a separator makes that possible.
 *
 * - Separators are tried in order: `"\n\n"`, `"\n"`, `" "`, `""`. A piece
 *   that is still too long is cut again at the next separator.
 * - A separator stays with the piece that follows it, so no text is lost.
 * - Neighbouring chunks share up to `chunkOverlap` units (default 200, at
 *   most half the chunk size unless given explicitly).
 * - Chunks are trimmed; whitespace-only chunks are dropped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecursiveCharacterTextSplitter } from "./recursive.ts";
 * const splitter = new RecursiveCharacterTextSplitter({
 *   chunkSize: 14,
 *   chunkOverlap: 0,
 *   lengthFunction: (text) => text.length,
 * });
 * const chunks = splitter.splitText("First part.\n\nSecond part.");
 * assert.ok(chunks.length === 2 && chunks[0] === "First part.");
 * ```
 */
export class RecursiveCharacterTextSplitter implements TextSplitter {
  /** The largest chunk, in length units. */
  readonly chunkSize: number;
  /** The overlap between neighbouring chunks, in length units. */
  readonly chunkOverlap: number;
  /** The separators, coarsest first. */
  readonly separators: readonly string[];
  readonly #length: (text: string) => number;

  /**
   * Builds a splitter.
   *
   * @throws {RangeError} when `chunkSize` is not a positive integer, or
   * `chunkOverlap` is negative or not smaller than `chunkSize`.
   */
  constructor(options: TextSplitterOptions & { separators?: readonly string[] }) {
    const { chunkSize, lengthFunction } = options;
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
      throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
    }
    if (typeof lengthFunction !== "function") {
      throw new TypeError("lengthFunction must be a function");
    }
    let overlap = options.chunkOverlap;
    if (overlap === undefined) {
      overlap = Math.min(DEFAULT_CHUNK_OVERLAP, Math.floor(chunkSize / 2));
    } else if (!Number.isInteger(overlap) || overlap < 0 || overlap >= chunkSize) {
      throw new RangeError(
        `chunkOverlap must be an integer from 0 to chunkSize - 1 (${chunkSize - 1}), got ${
          String(overlap)
        }`,
      );
    }
    this.chunkSize = chunkSize;
    this.chunkOverlap = overlap;
    this.separators = options.separators ?? DEFAULT_SEPARATORS;
    this.#length = lengthFunction;
  }

  /**
   * Splits `text` into trimmed, non-empty chunks.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RecursiveCharacterTextSplitter } from "./recursive.ts";
   * const splitter = new RecursiveCharacterTextSplitter({
   *   chunkSize: 12,
   *   chunkOverlap: 0,
   *   lengthFunction: (text) => text.length,
   * });
   * assert.deepEqual(splitter.splitText("First part.\n\nSecond."), ["First part.", "Second."]);
   * ```
   */
  splitText(text: string): string[] {
    const out: string[] = [];
    this.#split(text, 0, out);
    return out;
  }

  // Pieces are merged as they are measured (a streaming form of merging the
  // run of fitting pieces at once, with the same result), so each chunk is
  // measured right after its pieces: a length function that remembers recent
  // text (the exact token counter does) then measures the chunk cheaply.
  #split(text: string, separatorIndex: number, out: string[]): void {
    let index = separatorIndex;
    while (index < this.separators.length - 1 && !text.includes(this.separators[index])) index++;
    const separator = this.separators[index] ?? "";
    const canCutFurther = index < this.separators.length - 1;
    // A single piece that fits only with its surrounding whitespace (a token
    // count can grow when a leading space is trimmed) is cut again.
    const overflow = (part: string) => {
      if (canCutFurther) this.#split(part, index + 1, out);
      else pushChunk(out, part);
    };
    const merger = new Merger(this.chunkSize, this.chunkOverlap, this.#length, out, overflow);
    for (const part of splitKeepingSeparator(text, separator)) {
      const length = this.#length(part);
      if (length <= this.chunkSize) {
        merger.push({ text: part, length });
        continue;
      }
      merger.flush();
      if (canCutFurther) this.#split(part, index + 1, out);
      else pushChunk(out, part);
    }
    merger.flush();
  }
}

// Merges a run of fitting pieces into chunks: a window of pieces grows until
// the next piece would overflow it, is emitted, and keeps up to the overlap.
class Merger {
  readonly #chunkSize: number;
  readonly #chunkOverlap: number;
  readonly #length: (text: string) => number;
  readonly #out: string[];
  readonly #overflow: (text: string) => void;
  #window: Piece[] = [];
  #total = 0;

  constructor(
    chunkSize: number,
    chunkOverlap: number,
    length: (text: string) => number,
    out: string[],
    overflow: (text: string) => void,
  ) {
    this.#chunkSize = chunkSize;
    this.#chunkOverlap = chunkOverlap;
    this.#length = length;
    this.#out = out;
    this.#overflow = overflow;
  }

  push(piece: Piece): void {
    const chunkSize = this.#chunkSize;
    const chunkOverlap = this.#chunkOverlap;
    if (this.#window.length > 0 && this.#total + piece.length > chunkSize) {
      this.#window = this.#emit(this.#window);
      this.#total = sum(this.#window);
      while (
        this.#window.length > 0 &&
        (this.#total > chunkOverlap || this.#total + piece.length > chunkSize)
      ) {
        this.#total -= this.#window.shift()!.length;
      }
    }
    this.#window.push(piece);
    this.#total += piece.length;
  }

  flush(): void {
    if (this.#window.length > 0) this.#emit(this.#window);
    this.#window = [];
    this.#total = 0;
  }

  // Emits the window as one chunk, or as several when its measured length is
  // over the chunk size (lengths need not add up exactly, as with tokens).
  // Returns the pieces of the last emitted chunk, for the overlap.
  #emit(window: Piece[]): Piece[] {
    let start = 0;
    let last: Piece[] = window;
    while (start < window.length) {
      let end = window.length;
      let text = joinPieces(window, start, end).trim();
      while (end - start > 1 && this.#length(text) > this.#chunkSize) {
        end--;
        text = joinPieces(window, start, end).trim();
      }
      // One piece: its own length fits, but its trimmed text may not.
      if (
        end - start === 1 && text !== window[start].text && text !== "" &&
        this.#length(text) > this.#chunkSize
      ) {
        this.#overflow(window[start].text);
      } else {
        pushChunk(this.#out, text);
      }
      last = window.slice(start, end);
      start = end;
    }
    return last;
  }
}

function sum(pieces: Piece[]): number {
  let total = 0;
  for (const piece of pieces) total += piece.length;
  return total;
}

function joinPieces(pieces: Piece[], start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += pieces[i].text;
  return text;
}

function pushChunk(out: string[], text: string): void {
  const trimmed = text.trim();
  if (trimmed !== "") out.push(trimmed);
}

function splitKeepingSeparator(text: string, separator: string): string[] {
  if (separator === "") return Array.from(text);
  const parts: string[] = [];
  let from = 0;
  let at = text.indexOf(separator, separator.length > 0 ? 1 : 0);
  while (at !== -1) {
    parts.push(text.slice(from, at));
    from = at;
    at = text.indexOf(separator, at + separator.length);
  }
  parts.push(text.slice(from));
  return parts.filter((part) => part !== "");
}
