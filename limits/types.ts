/**
 * The types of the limits layer: the `LIMITS` settings, the {@link LimitStore}
 * that keeps the counts (in memory, or on Redis for several processes) and
 * what `ai.getUsage()` reports. See docs/operations.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitsSettings } from "./types.ts";
 * const limits: LimitsSettings = {
 *   rules: [
 *     { key: "user", tokens_per_minute: 20_000, tokens_per_day: 200_000 },
 *     { key: "site", cost_per_day: 5 },
 *   ],
 *   on_store_error: "deny",
 * };
 * assert.equal(limits.rules.length, 2);
 * ```
 *
 * @module
 */
import type { LimitType } from "../errors.ts";
import type { CooldownStore } from "../operations/cooldown.ts";

/**
 * One `LIMITS` rule: a key whose value in the per-call `metadata` is counted
 * (`"user"`, `"site"`, any other metadata field, or `"global"` for one count
 * for every call), the limits on that count, and optionally the features and
 * aliases it applies to (default: all). A call without the key's field is
 * counted under `"(none)"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitRuleSettings } from "./types.ts";
 * const rule: LimitRuleSettings = {
 *   name: "image descriptions per user",
 *   key: "user",
 *   requests_per_minute: 10,
 *   features: ["IMAGE_DESCRIPTION"],
 * };
 * assert.equal(rule.key, "user");
 * ```
 */
export interface LimitRuleSettings {
  /** The metadata field counted: `"user"`, `"site"`, another field, or `"global"`. */
  key: string;
  /** Requests in the current minute (a non-negative integer). */
  requests_per_minute?: number;
  /** Tokens (prompt and answer) in the current minute (a non-negative integer). */
  tokens_per_minute?: number;
  /** Tokens (prompt and answer) in the current day, UTC (a non-negative integer). */
  tokens_per_day?: number;
  /** US dollars in the current day, UTC, from `PRICES` (a non-negative number). */
  cost_per_day?: number;
  /** The features it applies to (`"TEXT_COMPLETION"`, `"IMAGE_DESCRIPTION"`; default all). */
  features?: string[];
  /** The `BACKENDS` or `PROVIDERS` aliases it applies to (default all). */
  aliases?: string[];
  /** A name for errors and `getUsage()` (default: its place, `LIMITS[0]`). */
  name?: string;
}

/**
 * What to do when the limit store cannot be reached: `"deny"` (the default)
 * refuses the request with a `LimitExceededError` whose `storeUnreachable` is
 * `true`; `"allow"` lets it through uncounted and reports a warning through
 * `onWarning`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OnStoreError } from "./types.ts";
 * const choice: OnStoreError = "allow";
 * assert.equal(choice, "allow");
 * ```
 */
export type OnStoreError = "deny" | "allow";

/**
 * The `LIMITS` setting: a list of rules, or an object with the rules and
 * `on_store_error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitsSettings } from "./types.ts";
 * const short: LimitsSettings = [{ key: "user", requests_per_minute: 30 }];
 * const long: LimitsSettings = { rules: short, on_store_error: "allow" };
 * assert.equal(long.rules, short);
 * ```
 */
export type LimitsSettings = LimitRuleSettings[] | {
  /** The rules. */
  rules: LimitRuleSettings[];
  /** When the store cannot be reached (default `"deny"`). */
  on_store_error?: OnStoreError;
};

/**
 * One counter a reservation adds to. The store keeps each counter for fixed
 * windows of `windowMs` (aligned on the store's clock: whole minutes, whole
 * UTC days): a counter starts again at 0 when its window ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitCharge } from "./types.ts";
 * const charge: LimitCharge = { key: "tpm|*|user=42", amount: 350, limit: 20_000, windowMs: 60_000 };
 * assert.ok(charge.amount <= charge.limit);
 * ```
 */
export interface LimitCharge {
  /** The counter (the store adds its own prefix). */
  readonly key: string;
  /** What to add (a non-negative integer). */
  readonly amount: number;
  /** The most the counter may hold in its window (a non-negative integer). */
  readonly limit: number;
  /** The window's length in milliseconds (60,000 or 86,400,000). */
  readonly windowMs: number;
}

/**
 * What {@link LimitStore.reserve} answers: granted (every charge was added,
 * at the store's time `at`), or refused (nothing was added) with the charge
 * that did not fit (of those that did not, the one whose window ends last),
 * its count and the milliseconds until its window ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReserveResult } from "./types.ts";
 * const refused: ReserveResult = { granted: false, index: 0, used: 20_000, retryAfterMs: 12_500 };
 * assert.equal(refused.granted, false);
 * ```
 */
export type ReserveResult =
  | {
    /** Every charge was added. */
    readonly granted: true;
    /** The store's time of the reservation (ms since the epoch): settle in its windows. */
    readonly at: number;
  }
  | {
    /** Nothing was added. */
    readonly granted: false;
    /** The index of the charge that did not fit. */
    readonly index: number;
    /** Its counter's value in the current window. */
    readonly used: number;
    /** Milliseconds until its window ends. */
    readonly retryAfterMs: number;
  };

/**
 * A correction of a reserved counter once the answer ended: `delta` (what
 * was used less what was reserved; negative gives back) is added to the
 * counter in the window of the reservation, unless that window has ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitSettlement } from "./types.ts";
 * const settlement: LimitSettlement = { key: "tpm|*|user=42", delta: -180, windowMs: 60_000 };
 * assert.ok(settlement.delta < 0);
 * ```
 */
export interface LimitSettlement {
  /** The counter. */
  readonly key: string;
  /** What to add (an integer; the counter never goes below 0). */
  readonly delta: number;
  /** Its window's length in milliseconds. */
  readonly windowMs: number;
}

/**
 * A counter as {@link LimitStore.read} gives it: its value in the current
 * window and the milliseconds until that window ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CounterState } from "./types.ts";
 * const state: CounterState = { used: 1200, resetMs: 40_000 };
 * assert.ok(state.resetMs <= 60_000);
 * ```
 */
export interface CounterState {
  /** The value in the current window (0 when the counter is unknown). */
  readonly used: number;
  /** Milliseconds until the current window ends. */
  readonly resetMs: number;
}

/**
 * Where limit counts and fallback cooldowns are kept. Each method must be
 * atomic (two processes sharing the store can never both take the last
 * tokens) and may answer at once or with a promise; a store that cannot be
 * reached rejects (or throws), and `LIMITS.on_store_error` decides.
 *
 * The package has two: {@link MemoryLimitStore} (this process only, the
 * default) and the Redis store of `@cms-ai/backends/redis` (`createRedisStore()`),
 * passed as `createAI(settings, {limitStore})`. It is a `CooldownStore` too,
 * so the fallback cooldowns live in the same store.
 *
 * @example A store's contract, on the in-memory one
 * ```ts
 * import assert from "node:assert/strict";
 * import { type LimitStore, MemoryLimitStore } from "./mod.ts";
 * const store: LimitStore = new MemoryLimitStore();
 * const charge = { key: "rpm|*|user=42", amount: 1, limit: 1, windowMs: 60_000 };
 * const first = await store.reserve([charge]);
 * assert.equal(first.granted, true);
 * const second = await store.reserve([charge]);
 * assert.equal(second.granted, false);
 * if (first.granted) await store.settle([{ key: charge.key, delta: -1, windowMs: 60_000 }], first.at);
 * assert.equal((await store.read([charge]))[0].used, 0);
 * ```
 */
export interface LimitStore extends CooldownStore {
  /** Adds every charge if each fits its limit in its current window; else adds none. */
  reserve(charges: readonly LimitCharge[]): ReserveResult | Promise<ReserveResult>;
  /** Corrects the counters of a reservation made at `at` (see {@link LimitSettlement}). */
  settle(settlements: readonly LimitSettlement[], at: number): void | Promise<void>;
  /** The counters' values in their current windows. */
  read(
    counters: readonly { readonly key: string; readonly windowMs: number }[],
  ): readonly CounterState[] | Promise<readonly CounterState[]>;
}

/**
 * One limit's count as `ai.getUsage()` gives it. Counts include the
 * reservations of answers still in flight; `cost_per_day` is in US dollars.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitCount } from "./types.ts";
 * const count: LimitCount = { used: 1200, limit: 20_000, remaining: 18_800, resetSeconds: 41 };
 * assert.equal(count.used + count.remaining, count.limit);
 * ```
 */
export interface LimitCount {
  /** Used in the current window. */
  readonly used: number;
  /** The limit. */
  readonly limit: number;
  /** What is left (0 when over). */
  readonly remaining: number;
  /** Seconds until the window ends and the count starts again. */
  readonly resetSeconds: number;
}

/**
 * The counts of one rule for one value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RuleUsage } from "./types.ts";
 * const usage: RuleUsage = {
 *   rule: "LIMITS[0]",
 *   counts: { requests_per_minute: { used: 3, limit: 30, remaining: 27, resetSeconds: 20 } },
 * };
 * assert.equal(usage.counts.requests_per_minute?.used, 3);
 * ```
 */
export interface RuleUsage {
  /** The rule: `LIMITS[0]`, with its name when it has one. */
  readonly rule: string;
  /** The features it applies to, when it names some. */
  readonly features?: readonly string[];
  /** The aliases it applies to, when it names some. */
  readonly aliases?: readonly string[];
  /** Each limit the rule sets, with its count. */
  readonly counts: { readonly [type in LimitType]?: LimitCount };
}

/**
 * What `ai.getUsage({key, value})` gives: the counts of every rule with that
 * key, for that value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   LIMITS: [{ key: "user", requests_per_minute: 30 }],
 * });
 * await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "7" } })
 *   .text();
 * const usage = await ai.getUsage({ key: "user", value: "7" });
 * assert.equal(usage.rules[0].counts.requests_per_minute?.used, 1);
 * ```
 */
export interface LimitUsage {
  /** The key asked for. */
  readonly key: string;
  /** The value asked for (`"(none)"` for calls without it, `"*"` for `"global"`). */
  readonly value: string;
  /** One entry per rule with that key, in `LIMITS` order. */
  readonly rules: readonly RuleUsage[];
}
