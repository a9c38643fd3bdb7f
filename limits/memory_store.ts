/**
 * The default {@link LimitStore}: limit counts and fallback cooldowns in this
 * process's memory. Each `createAI()` without a `limitStore` has its own.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryLimitStore } from "./memory_store.ts";
 * let now = 0;
 * const store = new MemoryLimitStore({ now: () => now });
 * const charge = { key: "tpm|*|user=42", amount: 600, limit: 1000, windowMs: 60_000 };
 * assert.equal(store.reserve([charge]).granted, true);
 * assert.deepEqual(store.reserve([charge]), {
 *   granted: false,
 *   index: 0,
 *   used: 600,
 *   retryAfterMs: 60_000,
 * });
 * now += 60_000; // a new minute
 * assert.equal(store.reserve([charge]).granted, true);
 * ```
 *
 * @module
 */
import { MemoryCooldownStore } from "../operations/cooldown.ts";
import type {
  CounterState,
  LimitCharge,
  LimitSettlement,
  LimitStore,
  ReserveResult,
} from "./types.ts";

/**
 * Options of {@link MemoryLimitStore}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryLimitStore, type MemoryLimitStoreOptions } from "./memory_store.ts";
 * const options: MemoryLimitStoreOptions = { now: () => 0 };
 * assert.equal(new MemoryLimitStore(options).read([{ key: "k", windowMs: 60_000 }])[0].resetMs, 60_000);
 * ```
 */
export interface MemoryLimitStoreOptions {
  /** The clock in milliseconds (default `Date.now`), for tests. */
  now?: () => number;
}

/** A counter: its value in the window that ends at `end`. */
interface Counter {
  end: number;
  value: number;
}

/** The end of the fixed window of `windowMs` that holds `now`. */
function windowEnd(now: number, windowMs: number): number {
  return now - (now % windowMs) + windowMs;
}

// Counters whose window has ended are dropped when the map has doubled since the last sweep
// (no timer: a sweep costs one pass, at most once per doubling).
const FIRST_SWEEP = 1024;

/**
 * Limit counts in memory, and the cooldowns of {@link MemoryCooldownStore}.
 * Its answers are immediate (never promises); expiry is by timestamps,
 * without timers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryLimitStore } from "./memory_store.ts";
 * const store = new MemoryLimitStore();
 * store.recordFailure("provider:primary", { threshold: 1, seconds: 30 });
 * assert.equal(store.isCoolingDown("provider:primary"), true);
 * store.recordSuccess("provider:primary");
 * assert.equal(store.isCoolingDown("provider:primary"), false);
 * ```
 */
export class MemoryLimitStore extends MemoryCooldownStore implements LimitStore {
  readonly #counters = new Map<string, Counter>();
  readonly #now: () => number;
  #sweepAt = FIRST_SWEEP;

  /** Makes an empty store. */
  constructor(options: MemoryLimitStoreOptions = {}) {
    super(options);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Adds every charge, or none (see {@link LimitStore.reserve}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryLimitStore } from "./memory_store.ts";
   * const store = new MemoryLimitStore({ now: () => 0 });
   * const charge = { key: "user:7:requests", amount: 1, limit: 2, windowMs: 60_000 };
   * assert.equal(store.reserve([charge]).granted, true);
   * assert.equal(store.reserve([charge]).granted, true);
   * assert.deepEqual(store.reserve([charge]), {
   *   granted: false,
   *   index: 0,
   *   used: 2,
   *   retryAfterMs: 60_000,
   * });
   * ```
   */
  reserve(charges: readonly LimitCharge[]): ReserveResult {
    const now = this.#now();
    const counters = this.#counters;
    let refused = -1;
    let refusedUsed = 0;
    let refusedEnd = 0;
    for (let index = 0; index < charges.length; index++) {
      const { key, amount, limit, windowMs } = charges[index];
      const end = windowEnd(now, windowMs);
      const counter = counters.get(key);
      const used = counter !== undefined && counter.end === end ? counter.value : 0;
      if (used + amount > limit && (refused < 0 || end > refusedEnd)) {
        refused = index;
        refusedUsed = used;
        refusedEnd = end;
      }
    }
    if (refused >= 0) {
      return { granted: false, index: refused, used: refusedUsed, retryAfterMs: refusedEnd - now };
    }
    for (const { key, amount, windowMs } of charges) {
      const end = windowEnd(now, windowMs);
      const counter = counters.get(key);
      if (counter === undefined) counters.set(key, { end, value: amount });
      else if (counter.end === end) counter.value += amount;
      else {
        counter.end = end;
        counter.value = amount;
      }
    }
    if (counters.size >= this.#sweepAt) this.#sweep(now);
    return { granted: true, at: now };
  }

  /**
   * Corrects a reservation's counters (see {@link LimitStore.settle}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryLimitStore } from "./memory_store.ts";
   * const store = new MemoryLimitStore({ now: () => 0 });
   * const tokens = { key: "user:7:tokens", windowMs: 60_000 };
   * const reserved = store.reserve([{ ...tokens, amount: 500, limit: 10_000 }]);
   * assert.ok(reserved.granted);
   * store.settle([{ ...tokens, delta: -380 }], reserved.at); // the answer used 120 tokens, not 500
   * assert.equal(store.read([tokens])[0].used, 120);
   * ```
   */
  settle(settlements: readonly LimitSettlement[], at: number): void {
    for (const { key, delta, windowMs } of settlements) {
      const counter = this.#counters.get(key);
      if (counter === undefined || counter.end !== windowEnd(at, windowMs)) continue;
      counter.value = Math.max(0, counter.value + delta);
    }
  }

  /**
   * The counters in their current windows (see {@link LimitStore.read}).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemoryLimitStore } from "./memory_store.ts";
   * let now = 0;
   * const store = new MemoryLimitStore({ now: () => now });
   * store.reserve([{ key: "site:requests", amount: 3, limit: 100, windowMs: 60_000 }]);
   * now = 15_000;
   * assert.deepEqual(store.read([{ key: "site:requests", windowMs: 60_000 }]), [{
   *   used: 3,
   *   resetMs: 45_000,
   * }]);
   * assert.deepEqual(store.read([{ key: "unknown", windowMs: 60_000 }]), [{
   *   used: 0,
   *   resetMs: 45_000,
   * }]);
   * ```
   */
  read(counters: readonly { readonly key: string; readonly windowMs: number }[]): CounterState[] {
    const now = this.#now();
    return counters.map(({ key, windowMs }) => {
      const end = windowEnd(now, windowMs);
      const counter = this.#counters.get(key);
      return {
        used: counter !== undefined && counter.end === end ? counter.value : 0,
        resetMs: end - now,
      };
    });
  }

  #sweep(now: number): void {
    for (const [key, counter] of this.#counters) {
      if (counter.end <= now) this.#counters.delete(key);
    }
    this.#sweepAt = Math.max(FIRST_SWEEP, this.#counters.size * 2);
  }
}
