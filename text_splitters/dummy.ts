/**
 * Splitter and calculator that do nothing clever: for tests and for content
 * known to be short.
 *
 * @module
 */
import type {
  LengthCalculator,
  LengthCalculatorOptions,
  TextSplitter,
  TextSplitterOptions,
} from "./types.ts";

/**
 * A splitter that never splits: the whole text is one chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DummyTextSplitter } from "./dummy.ts";
 * const splitter = new DummyTextSplitter({ chunkSize: 1, lengthFunction: (t) => t.length });
 * assert.ok(splitter.splitText("long text").length === 1);
 * ```
 */
export class DummyTextSplitter implements TextSplitter {
  /** Builds the splitter; the options are accepted and ignored. */
  constructor(_options?: TextSplitterOptions) {}
  /**
   * Returns `[text]`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DummyTextSplitter } from "./dummy.ts";
   * const splitter = new DummyTextSplitter();
   * assert.deepEqual(splitter.splitText("a\n\nb"), ["a\n\nb"]);
   * ```
   */
  splitText(text: string): string[] {
    return [text];
  }
}

/**
 * A calculator that counts UTF-16 code units (`text.length`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DummyLengthCalculator } from "./dummy.ts";
 * assert.ok(new DummyLengthCalculator().getSplitterLength("abcd") === 4);
 * ```
 */
export class DummyLengthCalculator implements LengthCalculator {
  /** Builds the calculator; the options are accepted and ignored. */
  constructor(_options?: LengthCalculatorOptions) {}
  /**
   * Returns `text.length`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DummyLengthCalculator } from "./dummy.ts";
   * assert.equal(new DummyLengthCalculator().getSplitterLength("héllo"), 5);
   * ```
   */
  getSplitterLength(text: string): number {
    return text.length;
  }
}
