// The settings the operations layer reads: the fallback keys of a PROVIDERS entry
// (fallbacks, fallback_on, cooldown_failures, cooldown_seconds, context_window) and of a
// backend's CONFIG (FALLBACKS, FALLBACK_ON, COOLDOWN_FAILURES, COOLDOWN_SECONDS), split
// off before the provider factory or the backend class checks the rest; and PRICES.
import { ImproperlyConfigured } from "../errors.ts";
import {
  describeType,
  optionalInteger,
  optionalNumber,
  rejectUnknownKeys,
  requireObject,
} from "../_validate.ts";
import type { ModelPrice } from "./types.ts";
import type { TokenUsage } from "../chat.ts";

/** When a chain fails over: on retryable errors only, or on any error. */
export type FallbackOn = "retryable" | "any";

/** The fallback settings of one alias. */
export interface AliasOperations {
  /** The aliases to fail over to, in order (as written). */
  readonly fallbacks: readonly string[];
  /** `fallback_on`, when set. */
  readonly fallbackOn: FallbackOn | undefined;
  /** Failures in a row before a cooldown (0: never). */
  readonly cooldownFailures: number;
  /** Seconds of a cooldown. */
  readonly cooldownSeconds: number;
  /** `context_window` of a provider, when set. */
  readonly contextWindow: number | undefined;
}

/** The default `cooldown_failures`. */
export const DEFAULT_COOLDOWN_FAILURES = 3;
/** The default `cooldown_seconds`. */
export const DEFAULT_COOLDOWN_SECONDS = 30;

/** The fallback keys of a `PROVIDERS` entry. */
export const PROVIDER_OPERATION_KEYS: readonly string[] = [
  "fallbacks",
  "fallback_on",
  "cooldown_failures",
  "cooldown_seconds",
  "context_window",
];

/** The fallback keys of a backend's `CONFIG`. */
export const BACKEND_OPERATION_KEYS: readonly string[] = [
  "FALLBACKS",
  "FALLBACK_ON",
  "COOLDOWN_FAILURES",
  "COOLDOWN_SECONDS",
];

function aliasList(value: unknown, key: string, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new ImproperlyConfigured(
      `${key} in ${where} must be a list of aliases, got ${describeType(value)}`,
    );
  }
  return value.map((item, index) => {
    if (typeof item !== "string" || item.trim() === "") {
      throw new ImproperlyConfigured(
        `${key}[${index}] in ${where} must be a non-empty alias, got ${
          typeof item === "string" ? '""' : describeType(item)
        }`,
      );
    }
    return item;
  });
}

function fallbackOn(value: unknown, key: string, where: string): FallbackOn | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === "retryable" || value === "any") return value;
  throw new ImproperlyConfigured(
    `${key} in ${where} must be "retryable" or "any", got ${
      typeof value === "string" ? `"${value}"` : describeType(value)
    }`,
  );
}

function parse(
  object: Record<string, unknown>,
  keys: readonly string[],
  where: string,
): AliasOperations {
  const [fallbacks, on, failures, seconds, window] = keys;
  return {
    fallbacks: aliasList(object[fallbacks], fallbacks, where),
    fallbackOn: fallbackOn(object[on], on, where),
    cooldownFailures: optionalInteger(object[failures], failures, where, { min: 0, max: 1000 }) ??
      DEFAULT_COOLDOWN_FAILURES,
    cooldownSeconds: optionalNumber(object[seconds], seconds, where, { min: 0, max: 86_400 }) ??
      DEFAULT_COOLDOWN_SECONDS,
    contextWindow: window === undefined
      ? undefined
      : optionalInteger(object[window], window, where, { min: 1 }),
  };
}

function without(
  object: Record<string, unknown>,
  keys: readonly string[],
): Record<string, unknown> {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (!keys.includes(key)) rest[key] = value;
  return rest;
}

/**
 * Splits the fallback keys off a `PROVIDERS` entry (`where`: `PROVIDERS["a"]`).
 *
 * @throws {ImproperlyConfigured} naming the key.
 */
export function splitProviderOperations<T extends Record<string, unknown>>(
  entry: T,
  where: string,
): { operations: AliasOperations; settings: T } {
  return {
    operations: parse(entry, PROVIDER_OPERATION_KEYS, where),
    settings: without(entry, PROVIDER_OPERATION_KEYS) as T,
  };
}

/**
 * Splits the fallback keys off a backend's `CONFIG` (`where`: `CONFIG of backend "a"`).
 *
 * @throws {ImproperlyConfigured} naming the key.
 */
export function splitBackendOperations(
  config: Record<string, unknown>,
  where: string,
): { operations: AliasOperations; config: Record<string, unknown> } {
  return {
    operations: parse(config, BACKEND_OPERATION_KEYS, where),
    config: without(config, BACKEND_OPERATION_KEYS),
  };
}

/**
 * Checks `PRICES` (`{model: {input, output, cached_input?, cache_write_input?}}`, dollars per
 * million tokens) and returns it as a map by model id.
 *
 * @throws {ImproperlyConfigured} naming `PRICES["model"]` and the key.
 */
export function parsePrices(value: unknown): ReadonlyMap<string, ModelPrice> {
  const prices = new Map<string, ModelPrice>();
  if (value === undefined || value === null) return prices;
  const object = requireObject(value, "PRICES");
  for (const [model, raw] of Object.entries(object)) {
    const where = `PRICES["${model}"]`;
    const entry = requireObject(raw, where);
    rejectUnknownKeys(entry, ["input", "output", "cached_input", "cache_write_input"], where);
    const range = { min: 0, max: 1_000_000 };
    const input = optionalNumber(entry.input, "input", where, range);
    const output = optionalNumber(entry.output, "output", where, range);
    if (input === undefined) throw new ImproperlyConfigured(`${where} is missing input`);
    if (output === undefined) throw new ImproperlyConfigured(`${where} is missing output`);
    const price: ModelPrice = { input, output };
    const cached = optionalNumber(entry.cached_input, "cached_input", where, range);
    if (cached !== undefined) price.cached_input = cached;
    const written = optionalNumber(entry.cache_write_input, "cache_write_input", where, range);
    if (written !== undefined) price.cache_write_input = written;
    prices.set(model, price);
  }
  return prices;
}

/**
 * The prompt's price in dollars per million tokens times tokens: the
 * uncached tokens at `input`, those read from the prompt cache at
 * `cached_input`, those written to it at `cache_write_input` (each
 * defaulting to `input`). Divide by 1e6 for dollars.
 */
export function promptPriceUnits(price: ModelPrice, usage: TokenUsage): number {
  const read = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const written = Math.min(usage.cacheWriteInputTokens ?? 0, usage.inputTokens - read);
  return (usage.inputTokens - read - written) * price.input +
    read * (price.cached_input ?? price.input) +
    written * (price.cache_write_input ?? price.input);
}
