/**
 * Fallback cooldowns: an alias that failed over `cooldown_failures` times in
 * a row is skipped for `cooldown_seconds`, then the first request after that
 * tries it again. The state sits behind {@link CooldownStore}, in memory by
 * default ({@link MemoryCooldownStore}); a store shared by several processes
 * (Redis) passes as `createAI(settings, {cooldownStore})`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryCooldownStore } from "./cooldown.ts";
 * let now = 0;
 * const store = new MemoryCooldownStore({ now: () => now });
 * for (let i = 0; i < 3; i++) {
 *   store.recordFailure("provider:primary", { threshold: 3, seconds: 30 });
 * }
 * assert.equal(store.isCoolingDown("provider:primary"), true);
 * now += 30_000;
 * assert.equal(store.isCoolingDown("provider:primary"), false); // this caller tries it again
 * assert.equal(store.isCoolingDown("provider:primary"), true); // the others wait for its result
 * store.recordSuccess("provider:primary");
 * assert.equal(store.isCoolingDown("provider:primary"), false);
 * ```
 *
 * @module
 */

/**
 * Where fallback cooldowns are kept, keyed by `"provider:<alias>"` or
 * `"backend:<alias>"`. Each method may answer at once or with a promise (a
 * shared store's network round trip); each must be atomic for its key.
 *
 * @example A store of your own (here over a Map, as a shared one would be over Redis)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CooldownStore } from "./cooldown.ts";
 * const until = new Map<string, number>();
 * const failures = new Map<string, number>();
 * const store: CooldownStore = {
 *   isCoolingDown: (key) => Promise.resolve((until.get(key) ?? 0) > Date.now()),
 *   recordFailure(key, { threshold, seconds }) {
 *     const count = (failures.get(key) ?? 0) + 1;
 *     failures.set(key, count);
 *     if (threshold > 0 && count >= threshold) until.set(key, Date.now() + seconds * 1000);
 *   },
 *   recordSuccess(key) {
 *     failures.delete(key);
 *     until.delete(key);
 *   },
 * };
 * store.recordFailure("provider:a", { threshold: 1, seconds: 30 });
 * assert.equal(await store.isCoolingDown("provider:a"), true);
 * ```
 */
export interface CooldownStore {
  /**
   * Whether `key` is cooling down now, so it is skipped. When its cooldown
   * has just ended, the first caller gets `false` (it tries the alias again)
   * and the others keep getting `true` until that try is recorded (or for
   * another cooldown, if it never is).
   */
  isCoolingDown(key: string): boolean | Promise<boolean>;
  /**
   * Records a failure of `key` (a retryable error, or a fail-over). After
   * `options.threshold` failures in a row (0: never) it cools down for
   * `options.seconds`.
   */
  recordFailure(key: string, options: RecordFailureOptions): void | Promise<void>;
  /** Records that `key` answered: its count of failures in a row starts again. */
  recordSuccess(key: string): void | Promise<void>;
}

/**
 * What {@link CooldownStore.recordFailure} is told besides the key: the
 * alias's `cooldown_failures` and `cooldown_seconds`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryCooldownStore, type RecordFailureOptions } from "./cooldown.ts";
 * const options: RecordFailureOptions = { threshold: 1, seconds: 60 };
 * const store = new MemoryCooldownStore();
 * store.recordFailure("provider:a", options);
 * assert.equal(store.isCoolingDown("provider:a"), true);
 * ```
 */
export interface RecordFailureOptions {
  /** The failures in a row after which the key cools down (0: never). */
  readonly threshold: number;
  /** How long the cooldown lasts, in seconds. */
  readonly seconds: number;
}

interface CooldownState {
  failures: number;
  until: number;
  seconds: number;
}

/**
 * Options of {@link MemoryCooldownStore}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryCooldownStore, type MemoryCooldownStoreOptions } from "./cooldown.ts";
 * const options: MemoryCooldownStoreOptions = { now: () => 0 };
 * assert.ok(new MemoryCooldownStore(options) instanceof MemoryCooldownStore);
 * ```
 */
export interface MemoryCooldownStoreOptions {
  /** The clock in milliseconds (default `Date.now`), for tests. */
  now?: () => number;
}

/**
 * The default {@link CooldownStore}: in this process's memory (each
 * `createAI()` has its own). Its answers are immediate (never promises).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryCooldownStore } from "./cooldown.ts";
 * const store = new MemoryCooldownStore();
 * store.recordFailure("backend:default", { threshold: 2, seconds: 10 });
 * assert.equal(store.isCoolingDown("backend:default"), false); // one failure of two
 * store.recordFailure("backend:default", { threshold: 2, seconds: 10 });
 * assert.equal(store.isCoolingDown("backend:default"), true);
 * ```
 */
export class MemoryCooldownStore implements CooldownStore {
  readonly #states = new Map<string, CooldownState>();
  readonly #now: () => number;

  /** Makes an empty store. */
  constructor(options: MemoryCooldownStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether `key` is cooling down (see {@link CooldownStore.isCoolingDown}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryCooldownStore } from "./cooldown.ts";
   * let now = 0;
   * const store = new MemoryCooldownStore({ now: () => now });
   * store.recordFailure("provider:a", { threshold: 1, seconds: 10 });
   * assert.equal(store.isCoolingDown("provider:a"), true);
   * now = 10_000;
   * assert.equal(store.isCoolingDown("provider:a"), false); // this caller tries it again
   * assert.equal(store.isCoolingDown("provider:a"), true); // the others wait for that try
   * ```
   */
  isCoolingDown(key: string): boolean {
    const state = this.#states.get(key);
    if (state === undefined || state.until === 0) return false;
    const now = this.#now();
    if (now < state.until) return true;
    // The cooldown is over: this caller tries the alias; the others wait for its result.
    state.until = now + state.seconds * 1000;
    return false;
  }

  /**
   * Records a failure (see {@link CooldownStore.recordFailure}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryCooldownStore } from "./cooldown.ts";
   * const store = new MemoryCooldownStore();
   * store.recordFailure("backend:x", { threshold: 0, seconds: 10 }); // threshold 0: never cools down
   * assert.equal(store.isCoolingDown("backend:x"), false);
   * store.recordFailure("backend:y", { threshold: 1, seconds: 10 });
   * assert.equal(store.isCoolingDown("backend:y"), true);
   * ```
   */
  recordFailure(key: string, options: RecordFailureOptions): void {
    const { threshold, seconds } = options;
    let state = this.#states.get(key);
    if (state === undefined) {
      state = { failures: 0, until: 0, seconds };
      this.#states.set(key, state);
    }
    state.failures++;
    state.seconds = seconds;
    if (threshold > 0 && state.failures >= threshold) state.until = this.#now() + seconds * 1000;
  }

  /**
   * Records an answer (see {@link CooldownStore.recordSuccess}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryCooldownStore } from "./cooldown.ts";
   * const store = new MemoryCooldownStore();
   * store.recordFailure("provider:a", { threshold: 2, seconds: 10 });
   * store.recordSuccess("provider:a"); // the count of failures in a row starts again
   * store.recordFailure("provider:a", { threshold: 2, seconds: 10 });
   * assert.equal(store.isCoolingDown("provider:a"), false);
   * ```
   */
  recordSuccess(key: string): void {
    this.#states.delete(key);
  }
}
