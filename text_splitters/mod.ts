/**
 * Text splitting: cut long content into chunks that fit a model's context
 * window, measured by a length calculator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NaiveTextSplitterCalculator, RecursiveCharacterTextSplitter } from "./mod.ts";
 * const calc = new NaiveTextSplitterCalculator();
 * const splitter = new RecursiveCharacterTextSplitter({
 *   chunkSize: 50,
 *   lengthFunction: (text) => calc.getSplitterLength(text),
 * });
 * const chunks = splitter.splitText("A sentence of words. ".repeat(40));
 * assert.ok(chunks.every((chunk) => calc.getSplitterLength(chunk) <= 50));
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./recursive.ts";
export * from "./naive.ts";
export * from "./tiktoken.ts";
export * from "./dummy.ts";
