/**
 * An exact token counter for splitting, using the model's encoding.
 *
 * @module
 */
import { getTokenCounter, type TokenCounter } from "../tokens.ts";
import type { LengthCalculator, LengthCalculatorOptions } from "./types.ts";

/**
 * Counts tokens exactly with the model's tokenizer encoding (`cl100k_base` or
 * `o200k_base`); models without a known encoding get the naive estimate.
 *
 * The encoding is loaded by {@link TiktokenLengthCalculator.load}, which a
 * backend awaits before handing the calculator out. Call it yourself when you
 * build the calculator directly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TiktokenLengthCalculator } from "./tiktoken.ts";
 * const calc = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
 * await calc.load();
 * assert.ok(calc.getSplitterLength("Hello, world!") === 4);
 * ```
 */
export class TiktokenLengthCalculator implements LengthCalculator {
  /** The model whose encoding counts. */
  readonly modelId: string;
  #count: TokenCounter | undefined;

  /** Builds a calculator for `options.modelId` (default `gpt-4o`). */
  constructor(options: LengthCalculatorOptions = {}) {
    this.modelId = options.modelId ?? "gpt-4o";
  }

  /**
   * Loads the model's encoding (shared by all calculators).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TiktokenLengthCalculator } from "./tiktoken.ts";
   * const calculator = new TiktokenLengthCalculator({ modelId: "gpt-4" });
   * assert.throws(() => calculator.getSplitterLength("hi"), /not loaded/);
   * await calculator.load();
   * assert.equal(calculator.getSplitterLength("hi"), 1);
   * ```
   */
  async load(): Promise<void> {
    this.#count ??= await getTokenCounter(this.modelId);
  }

  /**
   * The exact token count of `text`.
   *
   * @throws {Error} when {@link TiktokenLengthCalculator.load} has not completed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TiktokenLengthCalculator } from "./tiktoken.ts";
   * const calculator = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
   * await calculator.load();
   * assert.equal(calculator.getSplitterLength("Hello, world!"), 4);
   * ```
   */
  getSplitterLength(text: string): number {
    if (!this.#count) {
      throw new Error(
        `TiktokenLengthCalculator for "${this.modelId}" is not loaded: await calculator.load() first`,
      );
    }
    return this.#count(text);
  }
}
