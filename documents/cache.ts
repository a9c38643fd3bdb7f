/**
 * An in-memory answer cache for document runs.
 *
 * @module
 */
import type { AnswerCache } from "./types.ts";

/**
 * Options of {@link createMemoryCache}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryCache, type MemoryCacheOptions } from "./cache.ts";
 * const options: MemoryCacheOptions = { maxEntries: 100 };
 * assert.equal(createMemoryCache(options).maxEntries, 100);
 * ```
 */
export interface MemoryCacheOptions {
  /** The most answers kept (default 10,000); the least recently used goes first. */
  maxEntries?: number;
}

/**
 * An {@link AnswerCache} in memory, least recently used first out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryCache, type MemoryCache } from "./cache.ts";
 * const cache: MemoryCache = createMemoryCache();
 * cache.set("key", "answer");
 * assert.equal(cache.size, 1);
 * cache.clear();
 * assert.equal(cache.get("key"), undefined);
 * ```
 */
export interface MemoryCache extends AnswerCache {
  /** The answer under `key` (and marks it recently used), or `undefined`. */
  get(key: string): string | undefined;
  /** Stores `answer` under `key`, dropping the least recently used beyond `maxEntries`. */
  set(key: string, answer: string): void;
  /** How many answers are kept. */
  readonly size: number;
  /** The most answers kept. */
  readonly maxEntries: number;
  /** Forgets every answer. */
  clear(): void;
}

/**
 * The default `maxEntries` of {@link createMemoryCache}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryCache, DEFAULT_MAX_CACHE_ENTRIES } from "./cache.ts";
 * assert.equal(createMemoryCache().maxEntries, DEFAULT_MAX_CACHE_ENTRIES);
 * ```
 */
export const DEFAULT_MAX_CACHE_ENTRIES = 10_000;

/**
 * A cache of answers in memory, for `ai.processText({cache})`: run the same
 * prompt on an edited document again and only the chunks that changed are
 * sent. It keeps at most `maxEntries` answers (default 10,000), dropping the
 * least recently used.
 *
 * @throws {RangeError} when `maxEntries` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryCache } from "./cache.ts";
 * const cache = createMemoryCache({ maxEntries: 2 });
 * cache.set("a", "1");
 * cache.set("b", "2");
 * cache.get("a"); // "a" is now the most recently used
 * cache.set("c", "3"); // drops "b"
 * assert.equal(cache.get("b"), undefined);
 * assert.equal(cache.get("a"), "1");
 * assert.equal(cache.size, 2);
 * ```
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): MemoryCache {
  if (options === null || typeof options !== "object") {
    throw new TypeError("createMemoryCache() options must be an object");
  }
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }
  const entries = new Map<string, string>();
  return {
    maxEntries,
    get size(): number {
      return entries.size;
    },
    get(key: string): string | undefined {
      const answer = entries.get(key);
      if (answer !== undefined) {
        entries.delete(key);
        entries.set(key, answer);
      }
      return answer;
    },
    set(key: string, answer: string): void {
      if (typeof key !== "string" || typeof answer !== "string") {
        throw new TypeError("a memory cache stores string answers under string keys");
      }
      entries.delete(key);
      entries.set(key, answer);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    clear(): void {
      entries.clear();
    },
  };
}
