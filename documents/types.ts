/**
 * The public types of document runs: formats, progress events, answer caches
 * and the options a run takes.
 *
 * @module
 */
import type { CallMetadata } from "../chat.ts";

/**
 * How a document's text is read:
 *
 * - `"text"`: paragraphs separated by blank lines.
 * - `"html"`: block elements (`p`, `h1`-`h6`, `li`, `blockquote`, `td`...)
 *   with their inline markup; `pre`, `code`, `script`, `style` (and other
 *   elements whose content is not prose) are never sent.
 * - `"markdown"`: paragraphs, headings, list items and quotes, without their
 *   marks; code blocks, tables, HTML blocks and front matter are never sent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type DocumentFormat } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * const format: DocumentFormat = "html";
 * // The <pre> block is never sent: it stays as it is.
 * const text = await ai.processText({ prompt: "correction", text: "<pre>a  b</pre>", format })
 *   .text();
 * assert.equal(text, "<pre>a  b</pre>");
 * ```
 */
export type DocumentFormat = "text" | "html" | "markdown";

/**
 * Why a chunk kept its original text (see {@link DocumentEvent.kept}):
 *
 * - `"markup changed"`: the answer did not keep the chunk's tags (or Markdown
 *   marks) in the same order, or the same number of paragraphs.
 * - `"empty answer"`: the answer was empty.
 * - `"answer truncated"`: the output cap (`max_tokens`) cut the answer
 *   (`finish_reason` `"length"`, Anthropic's `stop_reason` `"max_tokens"`):
 *   it is not put in place of the chunk, nor cached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type KeptReason } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * // The echo backend's answer has no <b> tag: the chunk keeps its original.
 * const events = await Array.fromAsync(
 *   ai.processText({ prompt: "correction", text: "<p>Hi <b>there</b></p>", format: "html" }),
 * );
 * const kept: KeptReason | undefined = events[0].kept;
 * assert.equal(kept, "markup changed");
 * ```
 */
export type KeptReason = "markup changed" | "empty answer" | "answer truncated";

/**
 * The progress of one chunk, in document order: what was replaced and by
 * what. `text.slice(start, end) === original` in the document given, and the
 * new document is the given one with each chunk's `original` replaced by its
 * `replacement`. For an `append` prompt, the one event has `start === end`
 * (the insertion point), `original === ""` and `replacement` is what is
 * inserted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DocumentEvent } from "./types.ts";
 * const event: DocumentEvent = {
 *   index: 0,
 *   total: 1,
 *   start: 0,
 *   end: 12,
 *   original: "Teh cat sat.",
 *   replacement: "The cat sat.",
 *   cached: false,
 * };
 * assert.equal(event.kept, undefined);
 * ```
 */
export interface DocumentEvent {
  /** The chunk's position, from 0. */
  readonly index: number;
  /** How many chunks the document has. */
  readonly total: number;
  /** Where the chunk starts in the given text (UTF-16 offset). */
  readonly start: number;
  /** Where the chunk ends in the given text (exclusive). */
  readonly end: number;
  /** The chunk's text in the given document. */
  readonly original: string;
  /** What replaces it in the new document (`original` itself when kept). */
  readonly replacement: string;
  /** Whether the answer came from the cache (no request was sent). */
  readonly cached: boolean;
  /** Why the original was kept, when it was. */
  readonly kept?: KeptReason;
}

/**
 * Text of a chunk's answer as it arrives, before the answer is checked and
 * put back: what `DocumentResponse.stream()` yields between the
 * {@link DocumentEvent}s, so that a page can show a chunk being rewritten
 * while the model writes (a short document is often one chunk). Append the
 * `delta`s of one `index`, in order, for the answer so far; that chunk's
 * event then gives its `replacement`, which is what counts: it may differ
 * (an answer that broke the markup keeps the original, a Markdown answer goes
 * back under its marks). The text is the model's, as it came: show it as
 * text, or sanitize it; never insert it as trusted HTML.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DocumentDelta } from "./types.ts";
 * const deltas: DocumentDelta[] = [
 *   { index: 0, total: 1, start: 0, end: 12, delta: "The" },
 *   { index: 0, total: 1, start: 0, end: 12, delta: " cat" },
 * ];
 * assert.equal(deltas.map((delta) => delta.delta).join(""), "The cat");
 * ```
 */
export interface DocumentDelta {
  /** The chunk's position, from 0. */
  readonly index: number;
  /** How many chunks the document has. */
  readonly total: number;
  /** Where the chunk starts in the given text (UTF-16 offset). */
  readonly start: number;
  /** Where the chunk ends in the given text (exclusive; `start` for an append). */
  readonly end: number;
  /** The text that arrived, after the chunk's earlier deltas. */
  readonly delta: string;
}

/**
 * A store of answers, keyed by a SHA-256 hash (64 hex digits) of the method
 * (`replace` or `append`), the format, the prompt text, the backend (its
 * alias, class and settings: model, `PROMPT_KWARGS`... never a key) and the
 * chunk as sent, so that two prompts, methods or backends never share
 * answers. A `get` or `set` that has not settled when the run's signal
 * aborts no longer holds the run. `get` and `set` may be synchronous
 * or return promises (a shared store such as Redis); an error from either
 * fails the run. Only answers that were used are stored.
 *
 * @example A cache over a `Map`
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AnswerCache } from "./types.ts";
 * const map = new Map<string, string>();
 * const cache: AnswerCache = {
 *   get: (key) => map.get(key),
 *   set: (key, answer) => void map.set(key, answer),
 * };
 * cache.set("k", "answer");
 * assert.equal(cache.get("k"), "answer");
 * ```
 */
export interface AnswerCache {
  /** The answer stored under `key`, or `undefined`. */
  get(key: string): string | undefined | Promise<string | undefined>;
  /** Stores `answer` under `key`. */
  set(key: string, answer: string): void | Promise<void>;
}

/**
 * The most chunks a run sends at once: a larger `concurrency` is a `RangeError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, MAX_CONCURRENCY } from "../mod.ts";
 * const ai = createAI();
 * assert.throws(
 *   () => ai.processText({ prompt: "correction", text: "Hi", concurrency: MAX_CONCURRENCY + 1 }),
 *   RangeError,
 * );
 * ```
 */
export const MAX_CONCURRENCY = 64;

/**
 * How many chunks a run sends at once unless told otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from "../mod.ts";
 * assert.ok(DEFAULT_CONCURRENCY === 4 && DEFAULT_CONCURRENCY <= MAX_CONCURRENCY);
 * ```
 */
export const DEFAULT_CONCURRENCY = 4;

/**
 * The largest chunk unless told otherwise, in the backend's length units:
 * chunks of a few pages are answered in seconds, several at once, and an edit
 * sends only a little again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CHUNK_SIZE } from "../mod.ts";
 * assert.equal(DEFAULT_CHUNK_SIZE, 4096);
 * ```
 */
export const DEFAULT_CHUNK_SIZE = 4096;

/**
 * Options of a document run, besides the prompt and the text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, createMemoryCache, type DocumentOptions } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * const options: DocumentOptions = { format: "markdown", concurrency: 2, cache: createMemoryCache() };
 * const text = await ai.processText({ prompt: "correction", text: "# Title", ...options }).text();
 * assert.equal(text, "# This is an echo backend: Title");
 * ```
 */
export interface DocumentOptions {
  /** How the text is read (default `"text"`). */
  format?: DocumentFormat;
  /** Aborts the run: every request in flight ends and the run rejects with the reason. */
  signal?: AbortSignal;
  /** How many chunks are sent at once, 1 to 64 (default 4). */
  concurrency?: number;
  /** Where answers are kept between runs, so that unchanged chunks are not sent again. */
  cache?: AnswerCache;
  /**
   * The largest chunk, in the backend's length units (its
   * `SPLITTER_LENGTH_CALCULATOR_CLASS`; default 4,096). Chunks are never
   * larger than half of what the context window leaves after the prompt, nor
   * than three quarters of the backend's answer cap (the smallest of its
   * `MAX_OUTPUT_TOKENS`, the `max_tokens` of its `PROMPT_KWARGS` or
   * `INIT_KWARGS`, and the model's output limit), so that an answer as long
   * as its chunk fits. An answer the cap cuts all the same keeps the
   * original (`kept: "answer truncated"`).
   */
  chunkSize?: number;
  /**
   * Who and what the run is for (`{user: "42"}`): sent with every chunk's
   * request as its `metadata`, so each usage event of the run carries it.
   */
  metadata?: CallMetadata;
}
