// The limits of one createAI(): which rules a request attempt falls under, its reservation
// (one request, its exact prompt count plus its answer cap, their cost) taken from the store
// before anything is sent, and the settlement with what the attempt used once it ends.
import { ImproperlyConfigured, LimitExceededError, type LimitType } from "../errors.ts";
import type { TokenUsage } from "../chat.ts";
import type { AttemptGate, GatePass, GateRequest, GateUse } from "../operations/_gate.ts";
import type { ModelPrice } from "../operations/types.ts";
import { promptPriceUnits } from "../operations/_settings.ts";
import {
  COST_UNITS_PER_DOLLAR,
  countedValue,
  GLOBAL_VALUE,
  type LimitRule,
  type ParsedLimits,
  type RuleLimit,
  valueOf,
} from "./_rules.ts";
import type {
  LimitCharge,
  LimitSettlement,
  LimitStore,
  LimitUsage,
  OnStoreError,
  ReserveResult,
  RuleUsage,
} from "./types.ts";

/** The `PRICES` and warnings a limiter needs. */
export interface LimiterOptions {
  /** The price of a model, when `PRICES` has one. */
  price(model: string): ModelPrice | undefined;
  /** Reports a store that cannot be reached (on_store_error "allow", a failed settlement). */
  warn(warning: Error): void;
}

interface Charged {
  readonly rule: LimitRule;
  readonly limit: RuleLimit;
  readonly value: string;
}

const SETTLED: Promise<void> = Promise.resolve();

/** A counter's key for a rule's limit and the key's value. */
function counterKey(limit: RuleLimit, value: string): string {
  return limit.counter + encodeURIComponent(value);
}

/** Cost in store units (billionths of a dollar), rounded up: a reservation never falls short. */
function costUnits(price: ModelPrice, usage: TokenUsage): number {
  const dollarsPerMillion = promptPriceUnits(price, usage) + usage.outputTokens * price.output;
  return Math.ceil(dollarsPerMillion * (COST_UNITS_PER_DOLLAR / 1e6));
}

function amountIn(type: LimitType, units: number): string {
  if (type === "cost_per_day") return `$${dollars(units)}`;
  const count = units.toLocaleString("en-US");
  return type === "requests_per_minute"
    ? `${count} request${units === 1 ? "" : "s"}`
    : `${count} tokens`;
}

function dollars(units: number): number {
  return Math.round(units / COST_UNITS_PER_DOLLAR * 1e6) / 1e6;
}

/** A value for a message: metadata is the application's, but kept short. */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}

/** The limits of one `createAI()`: the attempt gate of its operations. */
export class Limiter implements AttemptGate {
  readonly #rules: readonly LimitRule[];
  readonly #onStoreError: OnStoreError;
  readonly #store: LimitStore;
  readonly #options: LimiterOptions;
  /** Settlements not yet done, so that getUsage() sees them. */
  readonly #pending = new Set<Promise<void>>();
  /** Refusals by a rule with aliases: the next alias may pass. */
  readonly #aliasOnly = new WeakSet<object>();

  constructor(limits: ParsedLimits, store: LimitStore, options: LimiterOptions) {
    this.#rules = limits.rules;
    this.#onStoreError = limits.onStoreError;
    this.#store = store;
    this.#options = options;
  }

  /** Reports a warning; a receiver that throws never breaks a request (the warning is dropped). */
  #warn(warning: Error): void {
    try {
      this.#options.warn(warning);
    } catch {
      // dropped
    }
  }

  /** The store the limits (and cooldowns) are kept in. */
  get store(): LimitStore {
    return this.#store;
  }

  /** Whether any rule applies to an attempt of `feature` under `aliases` (else nothing is counted). */
  applies(feature: string, aliases: readonly string[]): boolean {
    for (const rule of this.#rules) if (this.#matches(rule, feature, aliases)) return true;
    return false;
  }

  /** Whether a rule with a token or cost limit applies to such an attempt. */
  countsTokens(feature: string, aliases: readonly string[]): boolean {
    for (const rule of this.#rules) {
      if (rule.countsTokens && this.#matches(rule, feature, aliases)) return true;
    }
    return false;
  }

  #matches(rule: LimitRule, feature: string, aliases: readonly string[]): boolean {
    if (rule.features !== undefined && !rule.features.includes(feature)) return false;
    return rule.aliases === undefined || aliases.some((alias) => rule.aliases!.includes(alias));
  }

  /**
   * Reserves an attempt before it is sent. Resolves to its ticket (settle it
   * once when the attempt ends), or to undefined when no rule applies (or
   * the store cannot be reached and on_store_error is "allow").
   *
   * @throws {LimitExceededError} when a limit refuses it (or the store cannot
   * be reached and on_store_error is "deny").
   * @throws {ImproperlyConfigured} when a `cost_per_day` rule applies to a
   * model without a price.
   */
  admit(request: GateRequest): LimitTicket | undefined | Promise<LimitTicket | undefined> {
    const charges: LimitCharge[] = [];
    const owners: Charged[] = [];
    const tokens = request.promptTokens + request.outputTokens;
    let price: ModelPrice | undefined;
    let cost: number | undefined;
    for (const rule of this.#rules) {
      if (!this.#matches(rule, request.feature, request.aliases)) continue;
      const value = valueOf(rule, request.metadata);
      const encoded = encodeURIComponent(value);
      for (const limit of rule.limits) {
        let amount: number;
        if (limit.type === "requests_per_minute") amount = 1;
        else if (limit.type === "cost_per_day") {
          if (cost === undefined) {
            price = this.#options.price(request.model);
            if (price === undefined) {
              throw new ImproperlyConfigured(
                `cost_per_day of ${rule.label} needs the price of model "${request.model}": ` +
                  `add PRICES["${request.model}"] = {input, output} (US dollars per million tokens)`,
              );
            }
            cost = costUnits(price, {
              inputTokens: request.promptTokens,
              outputTokens: request.outputTokens,
              totalTokens: tokens,
            });
          }
          amount = cost;
        } else amount = tokens;
        if (amount > limit.maximum) {
          throw this.#refusal(rule, this.#neverFits(rule, limit, value, amount, request));
        }
        const key = limit.counter + encoded;
        let same = -1;
        for (let index = 0; index < charges.length && same < 0; index++) {
          if (charges[index].key === key) same = index;
        }
        const charge: LimitCharge = { key, amount, limit: limit.maximum, windowMs: limit.windowMs };
        if (same < 0) {
          charges.push(charge);
          owners.push({ rule, limit, value });
        } else if (limit.maximum < charges[same].limit) {
          // Two rules count the same thing: the smaller limit holds.
          charges[same] = charge;
          owners[same] = { rule, limit, value };
        }
      }
    }
    if (charges.length === 0) return undefined;
    let reserved: ReserveResult | Promise<ReserveResult>;
    try {
      reserved = this.#store.reserve(charges);
    } catch (error) {
      return this.#unreachable(error);
    }
    // A store that answers at once (in memory) is answered at once: no promise.
    if (!(reserved instanceof Promise)) {
      return this.#granted(reserved, charges, owners, price, request);
    }
    return reserved.then(
      (result) => this.#granted(result, charges, owners, price, request),
      (error) => this.#unreachable(error),
    );
  }

  /** When the store cannot be reached: on_store_error decides. */
  #unreachable(error: unknown): undefined {
    if (this.#onStoreError === "allow") {
      this.#warn(
        new Error(
          'The limit store cannot be reached: a request went through uncounted (LIMITS on_store_error is "allow")',
          { cause: error },
        ),
      );
      return undefined;
    }
    throw new LimitExceededError(
      'The limit store cannot be reached, so the request was refused (LIMITS on_store_error is "deny"): try again shortly',
      { storeUnreachable: true, cause: error },
    );
  }

  /** The ticket of a granted reservation, or the refusal. */
  #granted(
    result: ReserveResult,
    charges: readonly LimitCharge[],
    owners: readonly Charged[],
    price: ModelPrice | undefined,
    request: GateRequest,
  ): LimitTicket {
    if (!result.granted) {
      const { rule, limit, value } = owners[result.index];
      const charge = charges[result.index];
      const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      const cents = limit.type === "cost_per_day";
      throw this.#refusal(
        rule,
        new LimitExceededError(
          `${rule.label} (key "${rule.key}"): ${shown(value)} has used ${
            amountIn(limit.type, result.used)
          } of its ${limit.type} of ${
            amountIn(limit.type, limit.maximum)
          }, and this request needs ${amountIn(limit.type, charge.amount)}${
            limit.type === "requests_per_minute" ? "" : " (its prompt and its answer cap)"
          }: try again in ${retryAfterSeconds} s`,
          {
            rule: rule.label,
            limit: limit.type,
            key: rule.key,
            value,
            maximum: cents ? dollars(limit.maximum) : limit.maximum,
            used: cents ? dollars(result.used) : result.used,
            requested: cents ? dollars(charge.amount) : charge.amount,
            retryAfterSeconds,
          },
        ),
      );
    }
    return new LimitTicket(this, charges, owners, result.at, price, request);
  }

  /** `error`, noted as about the refused alias only when its rule names aliases. */
  #refusal(rule: LimitRule, error: LimitExceededError): LimitExceededError {
    if (rule.aliases !== undefined) this.#aliasOnly.add(error);
    return error;
  }

  /** Whether a refusal concerns the refused alias only (its rule names aliases). */
  refusesAliasOnly(error: unknown): boolean {
    return typeof error === "object" && error !== null && this.#aliasOnly.has(error);
  }

  #neverFits(
    rule: LimitRule,
    limit: RuleLimit,
    value: string,
    amount: number,
    request: GateRequest,
  ): LimitExceededError {
    const cents = limit.type === "cost_per_day";
    const why = limit.maximum === 0
      ? `${limit.type} is 0: no request is allowed`
      : `this request needs ${amountIn(limit.type, amount)} (${request.promptTokens} tokens of ` +
        `prompt and ${request.outputTokens} of answer cap), more than its ${limit.type} of ` +
        `${amountIn(limit.type, limit.maximum)}: lower the answer cap (MAX_OUTPUT_TOKENS, or ` +
        `max_tokens for the call), shorten the prompt or raise the limit`;
    return new LimitExceededError(
      `${rule.label} (key "${rule.key}"), for ${shown(value)}: ${why}`,
      {
        rule: rule.label,
        limit: limit.type,
        key: rule.key,
        value,
        maximum: cents ? dollars(limit.maximum) : limit.maximum,
        requested: cents ? dollars(amount) : amount,
        retryable: false,
      },
    );
  }

  /**
   * Runs a settlement (once its amounts are known); what fails is a warning
   * (the reservation stays counted). getUsage() waits for those in flight; a
   * store that settles at once (in memory) is not tracked at all.
   */
  settle(settlements: LimitSettlement[] | Promise<LimitSettlement[]>, at: number): Promise<void> {
    if (settlements instanceof Promise) {
      return this.#track(
        settlements.then((list) => list.length === 0 ? undefined : this.#store.settle(list, at)),
      );
    }
    if (settlements.length === 0) return SETTLED;
    let done: void | Promise<void>;
    try {
      done = this.#store.settle(settlements, at);
    } catch (error) {
      this.#unsettled(error);
      return SETTLED;
    }
    return done instanceof Promise ? this.#track(done) : SETTLED;
  }

  #track(done: Promise<void>): Promise<void> {
    const tracked: Promise<void> = done.catch((error) => this.#unsettled(error))
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    return tracked;
  }

  #unsettled(error: unknown): void {
    this.#warn(
      new Error(
        "The limit store cannot be reached: an answer's usage was not settled (its reservation stays counted)",
        { cause: error },
      ),
    );
  }

  /**
   * The counts of every rule with `key`, for `value`.
   *
   * @throws {TypeError} when no rule has that key.
   */
  async usage(key: string, value: unknown): Promise<LimitUsage> {
    const rules = this.#rules.filter((rule) => rule.key === key);
    if (rules.length === 0) {
      const keys = [...new Set(this.#rules.map((rule) => rule.key))];
      throw new TypeError(
        `No LIMITS rule has key "${key}" (keys: ${keys.length === 0 ? "none" : keys.join(", ")})`,
      );
    }
    const counted = key === "global" ? GLOBAL_VALUE : countedValue(value);
    if (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    const counters = rules.flatMap((rule) =>
      rule.limits.map((limit) => ({ key: counterKey(limit, counted), windowMs: limit.windowMs }))
    );
    const states = await this.#store.read(counters);
    let index = 0;
    const out: RuleUsage[] = rules.map((rule) => {
      const counts: Record<string, unknown> = {};
      for (const limit of rule.limits) {
        const { used, resetMs } = states[index++];
        const cents = limit.type === "cost_per_day";
        const scale = (units: number) => cents ? dollars(units) : units;
        counts[limit.type] = {
          used: scale(used),
          limit: scale(limit.maximum),
          remaining: scale(Math.max(0, limit.maximum - used)),
          resetSeconds: Math.ceil(resetMs / 1000),
        };
      }
      const usage: Record<string, unknown> = { rule: rule.label };
      if (rule.features !== undefined) usage.features = rule.features;
      if (rule.aliases !== undefined) usage.aliases = rule.aliases;
      usage.counts = counts;
      return usage as unknown as RuleUsage;
    });
    return { key, value: counted, rules: out };
  }
}

/** One granted reservation: settled once, with what the attempt used. */
export class LimitTicket implements GatePass {
  readonly #limiter: Limiter;
  readonly #charges: readonly LimitCharge[];
  readonly #owners: readonly Charged[];
  readonly #at: number;
  readonly #price: ModelPrice | undefined;
  readonly #request: GateRequest;
  #settled = false;

  constructor(
    limiter: Limiter,
    charges: readonly LimitCharge[],
    owners: readonly Charged[],
    at: number,
    price: ModelPrice | undefined,
    request: GateRequest,
  ) {
    this.#limiter = limiter;
    this.#charges = charges;
    this.#owners = owners;
    this.#at = at;
    this.#price = price;
    this.#request = request;
  }

  /** What the attempt reserved. */
  get request(): GateRequest {
    return this.#request;
  }

  /**
   * Settles the reservation with what the attempt used (once: later calls do
   * nothing). Resolves when the store has it; never rejects (a use that
   * cannot be counted leaves the reservation as it was).
   */
  settle(use: GateUse | Promise<GateUse>): Promise<void> {
    if (this.#settled) return Promise.resolve();
    this.#settled = true;
    if (use instanceof Promise) {
      return this.#limiter.settle(
        use.then((known) => this.#settlements(known), () => []),
        this.#at,
      );
    }
    return this.#limiter.settle(this.#settlements(use), this.#at);
  }

  #settlements(use: GateUse): LimitSettlement[] {
    const usage = use.usage;
    const tokens = usage.inputTokens + usage.outputTokens;
    const settlements: LimitSettlement[] = [];
    for (let index = 0; index < this.#charges.length; index++) {
      const charge = this.#charges[index];
      const type = this.#owners[index].limit.type;
      let used: number;
      if (type === "requests_per_minute") used = use.sent ? 1 : 0;
      else if (type === "cost_per_day") {
        used = this.#price === undefined ? 0 : costUnits(this.#price, usage);
      } else used = tokens;
      const delta = used - charge.amount;
      if (delta !== 0) settlements.push({ key: charge.key, delta, windowMs: charge.windowMs });
    }
    return settlements;
  }
}
