/**
 * A fast token estimate that works for every model.
 *
 * @module
 */
import type { LengthCalculator, LengthCalculatorOptions } from "./types.ts";

// Python's `[^\w\s]|\w+` on str: \w is letters, digits and "_"; \s is Python's
// whitespace (JavaScript's \s differs: it has U+FEFF and lacks \x1c-\x1f, U+0085).
const WORD_PATTERN =
  // deno-lint-ignore no-control-regex
  /[^\p{L}\p{N}_\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\p{L}\p{N}_]+/gu;

// Characters as Python counts them: code points (a surrogate pair is one).
const SURROGATE_PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;

function codePoints(text: string): number {
  let pairs = 0;
  SURROGATE_PAIR.lastIndex = 0;
  while (SURROGATE_PAIR.exec(text) !== null) pairs++;
  return text.length - pairs;
}

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

  /**
   * The estimated token count of `text`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { NaiveTextSplitterCalculator } from "./naive.ts";
   * const calculator = new NaiveTextSplitterCalculator();
   * // max(ceil(13 characters / 4), ceil(4 words * 0.75)) = max(4, 3)
   * assert.equal(calculator.getSplitterLength("Hello, world!"), 4);
   * ```
   */
  getSplitterLength(text: string): number {
    let words = 0;
    WORD_PATTERN.lastIndex = 0;
    while (WORD_PATTERN.exec(text) !== null) words++;
    const byChars = Math.ceil(codePoints(text) / this.charactersPerToken);
    const byWords = Math.ceil(words * this.tokensPerWord);
    return Math.max(byChars, byWords);
  }
}
