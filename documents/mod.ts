/**
 * Documents: run a prompt over a whole document (`ai.processText()`), with
 * its markup kept and unchanged chunks answered from a cache.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, createMemoryCache } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * const cache = createMemoryCache();
 * const text = "First paragraph.\n\nSecond paragraph.";
 * const response = ai.processText({ prompt: "correction", text, cache });
 * assert.equal(
 *   await response.text(),
 *   "This is an echo backend: First paragraph.\n\nThis is an echo backend: Second paragraph.",
 * );
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./cache.ts";
export * from "./response.ts";
