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
 * // The echo backend answers both paragraphs (one chunk) in one.
 * const first = await ai.processText({ prompt: "correction", text, cache }).text();
 * assert.equal(first, "This is an echo backend: First paragraph. Second paragraph.");
 * // Again: from the cache.
 * const events = await Array.fromAsync(ai.processText({ prompt: "correction", text, cache }));
 * assert.ok(events.length === 1 && events[0].cached);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./cache.ts";
export * from "./response.ts";
