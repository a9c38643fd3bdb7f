/**
 * Private tokenizer: exact BPE token counts and tokens for the `cl100k_base`
 * and `o200k_base` encodings, identical to OpenAI's `tiktoken` (the service's
 * own count) encoding with no special tokens (special-token strings are plain
 * text). Rank data is loaded lazily on first use from `js-tiktoken`'s rank
 * modules; unlike `js-tiktoken`, U+0085 is whitespace and U+FEFF is not, as in
 * tiktoken's Rust regex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEncoding } from "./mod.ts";
 * const enc = await loadEncoding("o200k_base");
 * assert.equal(enc.count("Hello, world!"), 4);
 * ```
 *
 * @module
 */
export type { Encoding, EncodingName } from "./_encoding.ts";
export type { CacheStats } from "./_load.ts";
export {
  clearTokenizerCaches,
  loadedEncoding,
  loadEncoding,
  tokenizerCacheStats,
} from "./_load.ts";
