/**
 * Lazy, shared loading of encodings. Importing this module loads neither rank
 * data nor the tokenizer's code: on an encoding's first use its ranks and the
 * implementation are imported, the rank table is built once, and every caller
 * shares it.
 *
 * @module
 */
import { ImproperlyConfigured } from "../errors.ts";
import type { BpeEncoding, Encoding, EncodingName } from "./_encoding.ts";
import { MEMO_ENTRIES, MEMO_UNITS } from "./_joins.ts";
import type { RankData } from "./_ranks.ts";

const loaded = new Map<EncodingName, BpeEncoding>();
const loading = new Map<EncodingName, Promise<Encoding>>();

function importRanks(name: EncodingName): Promise<RankData> {
  let ranks: Promise<{ default: RankData }>;
  switch (name) {
    case "cl100k_base":
      ranks = import("js-tiktoken/ranks/cl100k_base");
      break;
    case "o200k_base":
      ranks = import("js-tiktoken/ranks/o200k_base");
      break;
    default:
      return Promise.reject(new RangeError(`Unknown encoding "${String(name)}"`));
  }
  return ranks.then((module) => module.default, (error) => {
    // An application whose import map or node_modules lacks the package: say which.
    throw new ImproperlyConfigured(
      `Cannot load the "js-tiktoken" package (npm:js-tiktoken@^1) for the ${name} ranks, ` +
        `which exact token counts need: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  });
}

/**
 * Loads the encoding `name` once and returns it; concurrent calls share one
 * load, later calls get the same object.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEncoding } from "./mod.ts";
 * const [a, b] = await Promise.all([loadEncoding("o200k_base"), loadEncoding("o200k_base")]);
 * assert.ok(a === b);
 * assert.equal(a.count("Hello, world!"), 4);
 * ```
 */
export function loadEncoding(name: EncodingName): Promise<Encoding> {
  const done = loaded.get(name);
  if (done) return Promise.resolve(done);
  let pending = loading.get(name);
  if (!pending) {
    pending = Promise.all([import("./_encoding.ts"), importRanks(name)]).then(([impl, data]) => {
      const encoding = new impl.BpeEncoding(name, data);
      loaded.set(name, encoding);
      loading.delete(name);
      return encoding;
    }, (error) => {
      loading.delete(name);
      throw error;
    });
    loading.set(name, pending);
  }
  return pending;
}

/**
 * The encoding `name` when it is already loaded, else `undefined` (never
 * starts a load).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadedEncoding, loadEncoding } from "./mod.ts";
 * await loadEncoding("cl100k_base");
 * assert.equal(loadedEncoding("cl100k_base")?.count("hi"), 1);
 * ```
 */
export function loadedEncoding(name: EncodingName): Encoding | undefined {
  return loaded.get(name);
}

/**
 * Empties the piece caches of the loaded encodings (for benchmarks that must
 * count text with a cold cache, and for tests).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clearTokenizerCaches, loadEncoding } from "./mod.ts";
 * const enc = await loadEncoding("cl100k_base");
 * clearTokenizerCaches();
 * assert.equal(enc.count("Hello again"), 2);
 * ```
 */
export function clearTokenizerCaches(): void {
  for (const encoding of loaded.values()) {
    encoding.cache.clear();
    encoding.joins.clear();
  }
}

/**
 * How many pieces each loaded encoding's cache holds, and its bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenizerCacheStats } from "./mod.ts";
 * for (const stats of tokenizerCacheStats()) assert.ok(stats.size <= stats.max);
 * ```
 */
export function tokenizerCacheStats(): CacheStats[] {
  return [...loaded.values()].map((e) => ({
    name: e.name,
    size: e.cache.size,
    max: e.cache.slots,
    joinEntries: e.joins.size,
    maxJoinEntries: MEMO_ENTRIES,
    joinUnits: e.joins.units,
    maxJoinUnits: MEMO_UNITS,
  }));
}

/** What {@link tokenizerCacheStats} reports for one loaded encoding. */
export interface CacheStats {
  /** The encoding. */
  name: EncodingName;
  /** Pieces in the piece cache. */
  size: number;
  /** The piece cache's bound. */
  max: number;
  /** Texts in the join memo. */
  joinEntries: number;
  /** The join memo's bound on texts. */
  maxJoinEntries: number;
  /** UTF-16 units held by the join memo. */
  joinUnits: number;
  /** The join memo's bound on units. */
  maxJoinUnits: number;
}
