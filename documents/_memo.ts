// Lengths and cache keys remembered between runs, so that running a prompt
// again over an edited document measures and hashes only what changed. Both
// are bounded, and hold their own flat copies of texts (never a slice that
// would keep a caller's whole document alive).
import type { LengthCalculator } from "../text_splitters/types.ts";

/** Texts shorter than this are measured again rather than remembered. */
const MIN_TEXT = 16;

/** A bounded map from texts to values, the least recently used out first. */
class TextMemo<V> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #maxUnits: number;
  #units = 0;

  constructor(maxEntries: number, maxUnits: number) {
    this.#maxEntries = maxEntries;
    this.#maxUnits = maxUnits;
  }

  get(text: string): V | undefined {
    return this.#entries.get(text);
  }

  clear(): void {
    this.#entries.clear();
    this.#units = 0;
  }

  set(text: string, value: V): void {
    if (text.length > this.#maxUnits / 4) return;
    if (this.#entries.delete(text)) this.#units -= text.length;
    // A flat copy of its own: no slice of the caller's string.
    this.#entries.set((" " + text).slice(1), value);
    this.#units += text.length;
    while (this.#entries.size > this.#maxEntries || this.#units > this.#maxUnits) {
      const oldest = this.#entries.keys().next().value!;
      this.#entries.delete(oldest);
      this.#units -= oldest.length;
    }
  }
}

// Per calculator class, per model: a length calculator measures a text the
// same way every time (it is a function of the text and the model).
const lengths = new WeakMap<object, Map<string, TextMemo<number>>>();
const memos = new Set<TextMemo<unknown>>();

/** A measuring function over `calculator` that remembers the lengths of recent texts. */
export function rememberedLength(
  calculator: LengthCalculator,
  modelId: string,
): (text: string) => number {
  const byModel = lengths.get(calculator.constructor) ??
    lengths.set(calculator.constructor, new Map()).get(calculator.constructor)!;
  let memo = byModel.get(modelId);
  if (!memo) {
    memo = new TextMemo<number>(32_768, 4 << 20);
    byModel.set(modelId, memo);
    memos.add(memo as TextMemo<unknown>);
  }
  const remembered = memo;
  return (text: string): number => {
    if (text.length < MIN_TEXT) return calculator.getSplitterLength(text);
    const known = remembered.get(text);
    if (known !== undefined) return known;
    const length = calculator.getSplitterLength(text);
    remembered.set(text, length);
    return length;
  };
}

const KEY_VERSION = "cms-ai/document-answer/1";
const keys = new TextMemo<string>(8_192, 4 << 20);
memos.add(keys as TextMemo<unknown>);
const encoder = new TextEncoder();

/**
 * The cache key of an answer: the SHA-256 (hex) of the model, the prompt and
 * the text sent. Recent keys are remembered by their exact input.
 */
export async function answerKey(modelId: string, prompt: string, sent: string): Promise<string> {
  const input = JSON.stringify([KEY_VERSION, modelId, prompt, sent]);
  const known = keys.get(input);
  if (known !== undefined) return known;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  keys.set(input, hex);
  return hex;
}

// The replacement a cached answer made of a chunk, by the chunk's original
// text: the same answer (key) on the same original makes the same replacement.
const replacements = new TextMemo<{ key: string; replacement: string }>(4_096, 4 << 20);
memos.add(replacements as TextMemo<unknown>);

/** The replacement that the answer under `key` made of `original`, when it is remembered. */
export function rememberedReplacement(key: string, original: string): string | undefined {
  const known = replacements.get(original);
  return known !== undefined && known.key === key ? known.replacement : undefined;
}

/** Remembers the replacement that the answer under `key` made of `original`. */
export function rememberReplacement(key: string, original: string, replacement: string): void {
  replacements.set(original, { key, replacement: (" " + replacement).slice(1) });
}

/** Forgets every remembered length and key (for benches that must start cold). */
export function clearDocumentMemos(): void {
  for (const memo of memos) memo.clear();
}
