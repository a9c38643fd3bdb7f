/**
 * A fast token estimate that works for every model.
 *
 * @module
 */
import type { LengthCalculator, LengthCalculatorOptions } from "./types.ts";

const WORD_PATTERN = /[^\p{L}\p{N}_\s]|[\p{L}\p{N}_]+/gu;

/**
 * Estimates tokens without a tokenizer: the larger of one token per four
 * characters and one token per three quarters of a word, where a word is a
 * run of letters, digits and underscores or a single other non-space
 * character. It over-estimates English slightly, which keeps chunks safely
 * within a model's window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NaiveTextSplitterCalculator } from "./naive.ts";
 * const calc = new NaiveTextSplitterCalculator();
 * assert.ok(calc.getSplitterLength("Hello, world!") === 4);
 * ```
 */
export class NaiveTextSplitterCalculator implements LengthCalculator {
  /** Characters per token. */
  readonly charactersPerToken: number = 4;
  /** Tokens per word. */
  readonly tokensPerWord: number = 0.75;

  /** Builds the calculator; the model id is not needed. */
  constructor(_options?: LengthCalculatorOptions) {}

  /** The estimated token count of `text`. */
  getSplitterLength(text: string): number {
    let words = 0;
    WORD_PATTERN.lastIndex = 0;
    while (WORD_PATTERN.exec(text) !== null) words++;
    const byChars = Math.ceil(text.length / this.charactersPerToken);
    const byWords = Math.ceil(words * this.tokensPerWord);
    return Math.max(byChars, byWords);
  }
}
