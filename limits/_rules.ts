// The LIMITS setting, checked: each rule's key, limits, features and aliases, and
// on_store_error. Every error names the rule (LIMITS[2], with its name when it has one).
import type { LimitType } from "../errors.ts";
import { ImproperlyConfigured } from "../errors.ts";
import { BackendFeature } from "../backends/types.ts";
import {
  describeType,
  isPlainObject,
  nameList,
  rejectUnknownKeys,
  requireObject,
} from "../_validate.ts";
import type { OnStoreError } from "./types.ts";

/** One limit of a rule, in store units (tokens, requests, or billionths of a dollar). */
export interface RuleLimit {
  readonly type: LimitType;
  /** The limit in store units. */
  readonly maximum: number;
  /** The window in ms. */
  readonly windowMs: number;
  /** The counter's name without the key's value: `tpm|<scope>|user=`. */
  readonly counter: string;
}

/** A checked rule. */
export interface LimitRule {
  /** For messages: `LIMITS[0]` or `LIMITS[0] ("editors")`. */
  readonly label: string;
  /** The metadata field counted, or `"global"`. */
  readonly key: string;
  /** The features it applies to, or undefined for all. */
  readonly features: readonly string[] | undefined;
  /** The aliases it applies to, or undefined for all. */
  readonly aliases: readonly string[] | undefined;
  /** Its limits, in the order of {@link LIMIT_TYPES}. */
  readonly limits: readonly RuleLimit[];
  /** Whether it limits tokens or cost (else requests only). */
  readonly countsTokens: boolean;
}

/** The checked `LIMITS`. */
export interface ParsedLimits {
  readonly rules: readonly LimitRule[];
  readonly onStoreError: OnStoreError;
}

/** The limit kinds, their window and their short name in counter keys. */
export const LIMIT_TYPES: readonly {
  readonly type: LimitType;
  readonly windowMs: number;
  readonly tag: string;
}[] = [
  { type: "requests_per_minute", windowMs: 60_000, tag: "rpm" },
  { type: "tokens_per_minute", windowMs: 60_000, tag: "tpm" },
  { type: "tokens_per_day", windowMs: 86_400_000, tag: "tpd" },
  { type: "cost_per_day", windowMs: 86_400_000, tag: "cpd" },
];

/** Billionths of a dollar: the store counts cost in whole units. */
export const COST_UNITS_PER_DOLLAR = 1e9;
/** The largest `cost_per_day`, in dollars (its units stay exact integers). */
const MAX_COST_PER_DAY = 1_000_000;

/** The features a rule may name. */
export const LIMIT_FEATURES: readonly string[] = Object.values(BackendFeature);

const RULE_KEYS = [
  "key",
  ...LIMIT_TYPES.map((limit) => limit.type),
  "features",
  "aliases",
  "name",
];

/** The value `key: "global"` counts under. */
export const GLOBAL_VALUE = "*";
/** The value of a call whose metadata lacks the key's field. */
export const NO_VALUE = "(none)";

/** The key's value in a call's metadata, as counted. */
export function valueOf(
  rule: { readonly key: string },
  metadata: Readonly<Record<string, unknown>>,
): string {
  return rule.key === "global" ? GLOBAL_VALUE : countedValue(metadata[rule.key]);
}

/**
 * A metadata value as counted: text as it is, a number or boolean as text,
 * other JSON data as its JSON text; none (or `""`, `null`) is `"(none)"`.
 */
export function countedValue(value: unknown): string {
  if (value === undefined || value === null || value === "") return NO_VALUE;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

function quoted(value: unknown): string {
  return typeof value === "string" ? `"${value}"` : describeType(value);
}

function namesIn(
  value: unknown,
  field: string,
  where: string,
  known: readonly string[],
  what: readonly [plural: string, singular: string],
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new ImproperlyConfigured(
      `${field} in ${where} must be a non-empty list of ${what[0]}, got ${
        Array.isArray(value) ? "an empty list" : describeType(value)
      }`,
    );
  }
  return value.map((item, index) => {
    if (typeof item !== "string" || !known.includes(item)) {
      throw new ImproperlyConfigured(
        `${field}[${index}] in ${where} names ${
          typeof item === "string" ? `no ${what[1]} ${quoted(item)}` : describeType(item)
        } (known: ${nameList(known)})`,
      );
    }
    return item;
  });
}

function limitValue(value: unknown, type: LimitType, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const shape = typeof value === "number" ? String(value) : describeType(value);
  if (type === "cost_per_day") {
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_COST_PER_DAY
    ) {
      throw new ImproperlyConfigured(
        `cost_per_day in ${where} must be a number of US dollars from 0 to ${MAX_COST_PER_DAY}, got ${shape}`,
      );
    }
    return Math.round(value * COST_UNITS_PER_DOLLAR);
  }
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
    value > Number.MAX_SAFE_INTEGER
  ) {
    throw new ImproperlyConfigured(
      `${type} in ${where} must be a non-negative integer, got ${shape}`,
    );
  }
  return value;
}

/** A part of a counter's name, so that no two rules' names run together. */
function part(text: string): string {
  return encodeURIComponent(text);
}

function parseRule(raw: unknown, index: number, aliases: readonly string[]): LimitRule {
  let where = `LIMITS[${index}]`;
  const rule = requireObject(raw, where);
  if (typeof rule.name === "string" && rule.name.trim() !== "") where += ` ("${rule.name}")`;
  else if (rule.name !== undefined && rule.name !== null) {
    throw new ImproperlyConfigured(
      `name in ${where} must be a non-empty string, got ${describeType(rule.name)}`,
    );
  }
  rejectUnknownKeys(rule, RULE_KEYS, where);
  const key = rule.key;
  if (key === undefined || key === null) {
    throw new ImproperlyConfigured(
      `${where} is missing key (the metadata field it counts: "user", "site", another field, or "global")`,
    );
  }
  if (typeof key !== "string" || key.trim() === "") {
    throw new ImproperlyConfigured(
      `key in ${where} must name a metadata field ("user", "site", another field, or "global"), got ${
        typeof key === "string" ? '""' : describeType(key)
      }`,
    );
  }
  const features = namesIn(rule.features, "features", where, LIMIT_FEATURES, [
    "features",
    "feature",
  ]);
  const only = namesIn(rule.aliases, "aliases", where, aliases, ["aliases", "alias"]);
  const scope = [
    features === undefined ? "" : `f=${[...features].sort().map(part).join(",")}`,
    only === undefined ? "" : `a=${[...only].sort().map(part).join(",")}`,
  ].filter((text) => text !== "").join(";") || "*";
  const limits: RuleLimit[] = [];
  for (const { type, windowMs, tag } of LIMIT_TYPES) {
    const maximum = limitValue(rule[type], type, where);
    if (maximum === undefined) continue;
    limits.push({ type, maximum, windowMs, counter: `${tag}|${scope}|${part(key)}=` });
  }
  if (limits.length === 0) {
    throw new ImproperlyConfigured(
      `${where} sets no limit: give it one or more of ${
        LIMIT_TYPES.map((limit) => limit.type).join(", ")
      }`,
    );
  }
  return {
    label: where,
    key,
    features: features && Object.freeze(features),
    aliases: only && Object.freeze(only),
    limits,
    countsTokens: limits.some((limit) => limit.type !== "requests_per_minute"),
  };
}

/**
 * Checks `LIMITS`: a list of rules, or `{rules, on_store_error}`. `aliases`
 * are the `BACKENDS` and `PROVIDERS` aliases a rule may name.
 *
 * @throws {ImproperlyConfigured} naming the rule and the key at fault.
 */
export function parseLimits(value: unknown, aliases: readonly string[]): ParsedLimits {
  if (value === undefined || value === null) return { rules: [], onStoreError: "deny" };
  let rules: unknown = value;
  let onStoreError: OnStoreError = "deny";
  if (!Array.isArray(value)) {
    if (!isPlainObject(value)) {
      throw new ImproperlyConfigured(
        `LIMITS must be a list of rules or {rules, on_store_error}, got ${describeType(value)}`,
      );
    }
    const object = requireObject(value, "LIMITS");
    rejectUnknownKeys(object, ["rules", "on_store_error"], "LIMITS");
    rules = object.rules ?? [];
    const choice = object.on_store_error;
    if (choice !== undefined && choice !== null) {
      if (choice !== "deny" && choice !== "allow") {
        throw new ImproperlyConfigured(
          `on_store_error in LIMITS must be "deny" or "allow", got ${quoted(choice)}`,
        );
      }
      onStoreError = choice;
    }
  }
  if (!Array.isArray(rules)) {
    throw new ImproperlyConfigured(
      `rules in LIMITS must be a list of rules, got ${describeType(rules)}`,
    );
  }
  return {
    rules: rules.map((rule, index) => parseRule(rule, index, aliases)),
    onStoreError,
  };
}
