// JSON data given at a call: checked and copied, so what a caller passes (per-call model options,
// per-call metadata) is plain data that cannot change afterwards, hold a prototype key, a cycle or
// a class instance, or be exponentially large.
import { describeType, isPlainObject } from "./_validate.ts";

/** How {@link copyJsonData} reports: the label and the error class. */
export interface JsonCheck {
  /** Names the value in messages: `options of promptWithContext()`. */
  where: string;
  /** The error thrown (ImproperlyConfigured for settings, TypeError for arguments). */
  error: new (message: string) => Error;
  /** The most values copied (default 100,000). */
  maxValues?: number;
}

/** Keys an object of JSON data must not have. */
export const FORBIDDEN_JSON_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];

// Limits on the data: nesting (as for YAML) and the number of values copied
// (an object reused at every level would otherwise be copied exponentially often).
const MAX_DEPTH = 64;
const MAX_VALUES = 100_000;

/** A value's type for messages: `describeType`, or the class of an object that is not plain. */
export function kindOf(value: unknown): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return describeType(value);
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
}

/** `OPTIONS.temperature in CONFIG...`, `options.temperature of promptWithContext()`. */
export function keyWhere(where: string, path: string): string {
  const space = where.indexOf(" ");
  return space < 0 ? `${where}.${path}` : `${where.slice(0, space)}.${path}${where.slice(space)}`;
}

/** A budget of values shared by the copies of one check. */
export interface JsonBudget {
  /** Values left. */
  values: number;
}

/** A fresh budget for `check`. */
export function jsonBudget(check: JsonCheck): JsonBudget {
  return { values: check.maxValues ?? MAX_VALUES };
}

/**
 * A deep copy of `value` as JSON data (`undefined` object values left out), or
 * a `check.error` naming the path at fault. `path` is the key path of `value`,
 * `seen` the objects above it (for cycles).
 */
export function copyJsonData(
  value: unknown,
  path: string[],
  check: JsonCheck,
  budget: JsonBudget = jsonBudget(check),
  seen: Set<object> = new Set(),
): unknown {
  const fail = (got: string): never => {
    throw new check.error(`${keyWhere(check.where, path.join("."))} must be JSON data, got ${got}`);
  };
  if (--budget.values < 0) {
    throw new check.error(
      `${check.where} is too large (over ${check.maxValues ?? MAX_VALUES} values)`,
    );
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (path.length > MAX_DEPTH) return fail(`data nested more than ${MAX_DEPTH} levels`);
  if (typeof value !== "object" || !(Array.isArray(value) || isPlainObject(value))) {
    return fail(kindOf(value));
  }
  if (seen.has(value)) return fail("a circular reference");
  seen.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item, index) =>
      copyJsonData(item, [...path, String(index)], check, budget, seen)
    );
  } else {
    const object: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Defined as data, so a "__proto__" key stays a key and never a prototype.
      if (item !== undefined) {
        Object.defineProperty(object, key, {
          value: copyJsonData(item, [...path, key], check, budget, seen),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    copy = object;
  }
  seen.delete(value);
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/** JSON data (as `JsonValue` of providers/types.ts). */
export type JsonData = string | number | boolean | null | JsonData[] | { [key: string]: JsonData };

/** The most values a per-call `metadata` object may hold. */
export const MAX_METADATA_VALUES = 1_000;

/**
 * Checks a per-call `metadata` option (a plain object of JSON data, at most
 * {@link MAX_METADATA_VALUES} values) and returns a frozen copy; `undefined`
 * and `null` are no metadata.
 *
 * @throws {TypeError} naming the method and the key at fault.
 */
export function checkCallMetadata(
  value: unknown,
  method: string,
): Readonly<Record<string, JsonData>> | undefined {
  if (value === undefined || value === null) return undefined;
  const where = `metadata of ${method}()`;
  if (!isPlainObject(value)) {
    throw new TypeError(`${where} must be an object of JSON data, got ${kindOf(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_JSON_KEYS.includes(key)) {
      throw new TypeError(`${where} has a forbidden key "${key}"`);
    }
  }
  const copy = copyJsonData(value, [], {
    where,
    error: TypeError,
    maxValues: MAX_METADATA_VALUES,
  }) as Record<string, JsonData>;
  return deepFreeze(copy);
}
