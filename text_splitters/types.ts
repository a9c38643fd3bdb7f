/**
 * The interfaces shared by text splitters and length calculators.
 *
 * @module
 */

/**
 * Measures text in the unit a splitter counts (tokens, estimated tokens or
 * characters).
 *
 * @example A custom calculator counting words
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LengthCalculator } from "./types.ts";
 * const words: LengthCalculator = {
 *   getSplitterLength: (text) => text.split(/\s+/).filter(Boolean).length,
 * };
 * assert.ok(words.getSplitterLength("one two three") === 3);
 * ```
 */
export interface LengthCalculator {
  /** The length of `text`. */
  getSplitterLength(text: string): number;
  /**
   * Loads what the calculator needs (for example a tokenizer). A backend
   * awaits it before handing the calculator out; optional.
   */
  load?(): Promise<void>;
}

/**
 * What a backend passes to a length calculator's constructor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LengthCalculatorOptions } from "./types.ts";
 * import { TiktokenLengthCalculator } from "./tiktoken.ts";
 * const options: LengthCalculatorOptions = { modelId: "gpt-4" };
 * assert.equal(new TiktokenLengthCalculator(options).modelId, "gpt-4");
 * ```
 */
export interface LengthCalculatorOptions {
  /** The backend's model id, for calculators that depend on the model. */
  modelId?: string;
}

/**
 * A length calculator class, as named by `SPLITTER_LENGTH_CALCULATOR_CLASS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LengthCalculatorClass } from "./types.ts";
 * import { DummyLengthCalculator } from "./dummy.ts";
 * const cls: LengthCalculatorClass = DummyLengthCalculator;
 * assert.ok(new cls({}).getSplitterLength("abc") === 3);
 * ```
 */
export interface LengthCalculatorClass {
  /** Builds a calculator for a model. */
  new (options?: LengthCalculatorOptions): LengthCalculator;
}

/**
 * Splits text into chunks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TextSplitter } from "./types.ts";
 * const lines: TextSplitter = { splitText: (text) => text.split("\n") };
 * assert.ok(lines.splitText("a\nb").length === 2);
 * ```
 */
export interface TextSplitter {
  /** Splits `text` into chunks. */
  splitText(text: string): string[];
}

/**
 * What a backend passes to a text splitter's constructor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TextSplitterOptions } from "./types.ts";
 * import { RecursiveCharacterTextSplitter } from "./recursive.ts";
 * const options: TextSplitterOptions = {
 *   chunkSize: 12,
 *   lengthFunction: (text) => text.length,
 *   chunkOverlap: 0,
 * };
 * const chunks = new RecursiveCharacterTextSplitter(options).splitText("one two three four five");
 * assert.ok(chunks.every((chunk) => chunk.length <= 12));
 * ```
 */
export interface TextSplitterOptions {
  /** The largest chunk, in the unit of `lengthFunction`. */
  chunkSize: number;
  /** Measures a piece of text. */
  lengthFunction: (text: string) => number;
  /** How much of the previous chunk to repeat at the start of the next. */
  chunkOverlap?: number;
  /** The backend's model id, for splitters that depend on the model. */
  modelId?: string;
}

/**
 * A text splitter class, as named by `SPLITTER_CLASS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TextSplitterClass } from "./types.ts";
 * import { DummyTextSplitter } from "./dummy.ts";
 * const cls: TextSplitterClass = DummyTextSplitter;
 * const splitter = new cls({ chunkSize: 10, lengthFunction: (t) => t.length });
 * assert.ok(splitter.splitText("hello").length === 1);
 * ```
 */
export interface TextSplitterClass {
  /** Builds a splitter. */
  new (options: TextSplitterOptions): TextSplitter;
}
