// Small validators for settings. Each throws ImproperlyConfigured with a
// message naming `where` (for example `CONFIG of backend "default"`) and the key.
import { ImproperlyConfigured } from "./errors.ts";
import { urlSecrets } from "./_redact.ts";

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The most names an error message lists. */
export const MAX_LISTED_NAMES = 20;

/**
 * Names for a message: "a, b, c", "none", or the first {@link MAX_LISTED_NAMES}
 * and how many more (settings may hold thousands of aliases).
 */
export function nameList(names: readonly string[]): string {
  if (names.length === 0) return "none";
  if (names.length <= MAX_LISTED_NAMES) return names.join(", ");
  return `${names.slice(0, MAX_LISTED_NAMES).join(", ")} and ${
    names.length - MAX_LISTED_NAMES
  } more`;
}

/**
 * A short, safe description of a value's type for messages (never the value
 * itself): "null", "an array", "NaN", "a string", "an object", or the class of
 * an object that is not plain ("a Date", "a Map").
 */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  let name: unknown;
  try {
    name = Object.getPrototypeOf(value)?.constructor?.name;
  } catch {
    name = undefined;
  }
  if (typeof name !== "string" || name === "" || name === "Object" || !/^\w+$/.test(name)) {
    return "an object";
  }
  return `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;
}

/** Whether `value` is a plain object (not an array, not null, not a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Requires a plain object whose keys are safe; returns it. */
export function requireObject(value: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new ImproperlyConfigured(`${where} must be an object, got ${describeType(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new ImproperlyConfigured(`${where} has a forbidden key "${key}"`);
    }
  }
  return value;
}

/** Rejects keys not in `allowed`. */
export function rejectUnknownKeys(
  object: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new ImproperlyConfigured(
        `${where} has an unknown key "${key}" (known keys: ${allowed.join(", ")})`,
      );
    }
  }
}

/** Requires a non-empty string. */
export function requireString(value: unknown, key: string, where: string): string {
  if (value === undefined || value === null) {
    throw new ImproperlyConfigured(`${where} is missing ${key}`);
  }
  if (typeof value !== "string") {
    throw new ImproperlyConfigured(
      `${key} in ${where} must be a string, got ${describeType(value)}`,
    );
  }
  if (value.trim() === "") {
    throw new ImproperlyConfigured(`${key} in ${where} must not be empty`);
  }
  return value;
}

/** An optional non-empty string. */
export function optionalString(value: unknown, key: string, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return requireString(value, key, where);
}

/**
 * Whether a secret setting holds a placeholder instead of a secret: only
 * asterisks (`***`, how printed settings mask keys) or a `TODO` note (what the
 * `migrate` command prints in place of a hidden key).
 */
export function isSecretPlaceholder(value: string): boolean {
  const text = value.trim();
  return /^\*+$/.test(text) || /^TODO\b/.test(text);
}

/**
 * Refuses a placeholder (see {@link isSecretPlaceholder}) as the value of a
 * key or header; the message quotes a mask, never another value.
 */
export function rejectSecretPlaceholder(value: unknown, key: string, where: string): void {
  if (typeof value !== "string" || !isSecretPlaceholder(value)) return;
  const text = value.trim();
  const shown = text.startsWith("*") ? `"${text}"` : "a TODO note";
  throw new ImproperlyConfigured(
    `${key} in ${where} is a placeholder (${shown}), not a key: set the real value ` +
      '(printed settings and the "migrate" output hide keys; "migrate -o FILE" writes them)',
  );
}

/** An optional non-empty string holding a secret: a placeholder is refused. */
export function optionalSecret(value: unknown, key: string, where: string): string | undefined {
  const text = optionalString(value, key, where);
  rejectSecretPlaceholder(text, key, where);
  return text;
}

/** An optional integer within [min, max]. */
export function optionalInteger(
  value: unknown,
  key: string,
  where: string,
  range: { min: number; max?: number },
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (typeof value !== "number" || !Number.isInteger(value) || value < range.min || value > max) {
    const shape = typeof value === "number" ? String(value) : describeType(value);
    const bounds = range.max === undefined
      ? range.min === 1 ? "a positive integer" : `an integer of at least ${range.min}`
      : `an integer from ${range.min} to ${range.max}`;
    throw new ImproperlyConfigured(`${key} in ${where} must be ${bounds}, got ${shape}`);
  }
  return value;
}

/** An optional finite number within [min, max]. */
export function optionalNumber(
  value: unknown,
  key: string,
  where: string,
  range: { min: number; max: number },
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (
    typeof value !== "number" || !Number.isFinite(value) || value < range.min || value > range.max
  ) {
    const shape = typeof value === "number" ? String(value) : describeType(value);
    throw new ImproperlyConfigured(
      `${key} in ${where} must be a number from ${range.min} to ${range.max}, got ${shape}`,
    );
  }
  return value;
}

/** An optional object of string values (for headers). */
export function optionalStringRecord(
  value: unknown,
  key: string,
  where: string,
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const object = requireObject(value, `${key} in ${where}`);
  const out: Record<string, string> = {};
  for (const [name, item] of Object.entries(object)) {
    if (typeof item !== "string") {
      throw new ImproperlyConfigured(
        `${key}.${name} in ${where} must be a string, got ${describeType(item)}`,
      );
    }
    out[name] = item;
  }
  return out;
}

/**
 * An optional http(s) URL; returned trimmed (as `new URL` reads it: a trailing
 * newline from a YAML block or an env file must not reach the request URL) and
 * without a trailing slash.
 */
export function optionalUrl(value: unknown, key: string, where: string): string | undefined {
  const text = optionalString(value, key, where)?.trim();
  if (text === undefined) return undefined;
  if (/^TODO\b/.test(text)) {
    throw new ImproperlyConfigured(
      `${key} in ${where} is a placeholder (a TODO note), not a URL: set the real value ` +
        '("migrate" prints URLs with credentials hidden; "migrate -o FILE" writes them)',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ImproperlyConfigured(`${key} in ${where} must be an http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImproperlyConfigured(`${key} in ${where} must be an http(s) URL`);
  }
  // Printed settings mask URL credentials as "***": such a URL saved back would send the mask.
  if (urlSecrets(text).some((secret) => isSecretPlaceholder(secret))) {
    throw new ImproperlyConfigured(
      `${key} in ${where} holds a placeholder ("***") where a credential was masked: set the ` +
        "real URL (printed settings mask URL credentials)",
    );
  }
  return text.replace(/\/+$/, "");
}

/**
 * Whether `new value()` can work: a class or function, not an arrow function
 * or method (checked without calling it).
 */
export function isConstructor(value: unknown): boolean {
  if (typeof value !== "function") return false;
  try {
    Reflect.construct(Object, [], value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A setting that must be one of `choices` when given.
 *
 * @throws {ImproperlyConfigured} naming the key and the choices.
 */
export function optionalChoice<C extends string>(
  value: unknown,
  key: string,
  where: string,
  choices: readonly C[],
): C | undefined {
  const text = optionalString(value, key, where);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new ImproperlyConfigured(
      `${key} in ${where} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got "${text}"`,
    );
  }
  return text as C;
}
