// A length calculator's measure that stops as soon as it knows which side of
// a limit a text is on (for the document engine, which only needs to know
// whether a chunk fits).
import { getEncodingName } from "../tokens.ts";
import { loadedEncoding } from "../_tokenizer/mod.ts";
import { TiktokenLengthCalculator } from "./tiktoken.ts";
import type { LengthCalculator } from "./types.ts";

/**
 * Measures a text against a limit: a result at most `limit` is at least the
 * text's length (so the text provably fits), a result over `limit` is at most
 * its length (so it provably does not); the exact length where the bound
 * cannot tell sooner.
 */
export type MeasureWithin = (text: string, limit: number) => number;

/**
 * The {@link MeasureWithin} of `calculator`: the exact tokenizer's
 * `countWithin` for the built-in `TiktokenLengthCalculator` itself (not a
 * subclass, which may measure otherwise) of a model whose encoding is loaded;
 * else the calculator's own exact `getSplitterLength`.
 */
export function measureWithin(calculator: LengthCalculator): MeasureWithin {
  const exact = (text: string) => calculator.getSplitterLength(text);
  if (calculator.constructor !== TiktokenLengthCalculator) return exact;
  const name = getEncodingName((calculator as TiktokenLengthCalculator).modelId);
  const encoding = name === undefined ? undefined : loadedEncoding(name);
  if (encoding === undefined) return exact;
  try {
    exact(""); // one not loaded throws, as its exact measure would
  } catch {
    return exact;
  }
  return (text, limit) => encoding.countWithin(text, limit);
}
