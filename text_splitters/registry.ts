/**
 * The `TEXT_SPLITTING` registries: upstream dotted names, short names, and
 * names added with {@link registerTextSplitterClass} and
 * {@link registerLengthCalculatorClass}.
 *
 * @module
 */
import { DummyLengthCalculator, DummyTextSplitter } from "./dummy.ts";
import { NaiveTextSplitterCalculator } from "./naive.ts";
import { RecursiveCharacterTextSplitter } from "./recursive.ts";
import { TiktokenLengthCalculator } from "./tiktoken.ts";
import type { LengthCalculatorClass, TextSplitterClass } from "./types.ts";
import { isConstructor } from "../_validate.ts";

/** The text splitter classes by name (built-in and registered). */
export const splitterClasses: Map<string, TextSplitterClass> = new Map<string, TextSplitterClass>([
  [
    "wagtail_ai.text_splitters.langchain.LangchainRecursiveCharacterTextSplitter",
    RecursiveCharacterTextSplitter,
  ],
  ["wagtail_ai.text_splitters.dummy.DummyTextSplitter", DummyTextSplitter],
  ["recursive", RecursiveCharacterTextSplitter],
  ["RecursiveCharacterTextSplitter", RecursiveCharacterTextSplitter],
  ["dummy", DummyTextSplitter],
  ["DummyTextSplitter", DummyTextSplitter],
]);

/** The length calculator classes by name (built-in and registered). */
export const calculatorClasses: Map<string, LengthCalculatorClass> = new Map<
  string,
  LengthCalculatorClass
>([
  ["wagtail_ai.text_splitters.length.NaiveTextSplitterCalculator", NaiveTextSplitterCalculator],
  ["wagtail_ai.text_splitters.dummy.DummyLengthCalculator", DummyLengthCalculator],
  ["wagtail_ai.text_splitters.length.TiktokenLengthCalculator", TiktokenLengthCalculator],
  ["naive", NaiveTextSplitterCalculator],
  ["NaiveTextSplitterCalculator", NaiveTextSplitterCalculator],
  ["tiktoken", TiktokenLengthCalculator],
  ["TiktokenLengthCalculator", TiktokenLengthCalculator],
  ["dummy", DummyLengthCalculator],
  ["DummyLengthCalculator", DummyLengthCalculator],
]);

function checkRegistration(fn: string, name: unknown, cls: unknown, what: string): void {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(`${fn}() needs a non-empty name`);
  }
  if (!isConstructor(cls)) throw new TypeError(`${fn}("${name}") needs ${what}`);
}

/**
 * Adds a text splitter class under a name usable as
 * `TEXT_SPLITTING.SPLITTER_CLASS`. A backend builds it as
 * `new Splitter({chunkSize, lengthFunction, modelId})`.
 *
 * @throws {TypeError} for an empty name or when `cls` is not a class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, registerTextSplitterClass, type TextSplitterOptions } from "../mod.ts";
 * class LineSplitter {
 *   constructor(_options: TextSplitterOptions) {}
 *   splitText(text: string): string[] {
 *     return text.split("\n");
 *   }
 * }
 * registerTextSplitterClass("lines", LineSplitter);
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "echo",
 *       CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 },
 *       TEXT_SPLITTING: { SPLITTER_CLASS: "lines" },
 *     },
 *   },
 * });
 * const splitter = await ai.getBackend().getTextSplitter();
 * assert.deepEqual(splitter.splitText("a\nb"), ["a", "b"]);
 * ```
 */
export function registerTextSplitterClass(name: string, cls: TextSplitterClass): void {
  checkRegistration("registerTextSplitterClass", name, cls, "a text splitter class");
  splitterClasses.set(name, cls);
}

/**
 * Adds a length calculator class under a name usable as
 * `TEXT_SPLITTING.SPLITTER_LENGTH_CALCULATOR_CLASS`. A backend builds it as
 * `new Calculator({modelId})`.
 *
 * @throws {TypeError} for an empty name or when `cls` is not a class.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type LengthCalculatorOptions, registerLengthCalculatorClass } from "../mod.ts";
 * class CharCount {
 *   constructor(_options?: LengthCalculatorOptions) {}
 *   getSplitterLength(text: string): number {
 *     return text.length;
 *   }
 * }
 * registerLengthCalculatorClass("chars", CharCount);
 * const ai = createAI({
 *   BACKENDS: {
 *     default: {
 *       CLASS: "echo",
 *       CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 5 },
 *       TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "chars" },
 *     },
 *   },
 * });
 * const calculator = await ai.getBackend().getSplitterLengthCalculator();
 * assert.equal(calculator.getSplitterLength("hello"), 5);
 * ```
 */
export function registerLengthCalculatorClass(name: string, cls: LengthCalculatorClass): void {
  checkRegistration("registerLengthCalculatorClass", name, cls, "a length calculator class");
  calculatorClasses.set(name, cls);
}
