// The schema argument of completeObject() and promptForObject(): a JSON
// Schema object (checked and copied) or a Standard Schema that can give one,
// checked at the call.
import { describeType, isPlainObject } from "../_validate.ts";
import type { JSONSchema, StandardSchemaLike } from "../structured.ts";

/** A checked schema: its JSON Schema (a copy) and the Standard Schema it came from, if any. */
export interface ResolvedSchema {
  /** The JSON Schema, deep-copied from the caller's. */
  readonly json: JSONSchema;
  /** The Standard Schema, whose `validate()` also checks the answer. */
  readonly standard: StandardSchemaLike | undefined;
}

/** The default schema name (of the response format or the tool). */
export const DEFAULT_SCHEMA_NAME = "response";
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const MAX_DEPTH = 64;
const MAX_VALUES = 100_000;

/** A deep copy of JSON data, or a TypeError naming where it is not JSON data. */
function copyJSON(value: unknown, path: string, budget: { left: number }, depth: number): unknown {
  if (--budget.left < 0) throw new TypeError(`schema is too large (over ${MAX_VALUES} values)`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new TypeError(`schema${path} must be JSON data, got ${String(value)}`);
  }
  if (depth > MAX_DEPTH) throw new TypeError(`schema is nested more than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    return value.map((item, index) => copyJSON(item, `${path}[${index}]`, budget, depth + 1));
  }
  if (!isPlainObject(value)) {
    throw new TypeError(`schema${path} must be JSON data, got ${describeType(value)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    // Defined as data, so a "__proto__" key stays a key.
    Object.defineProperty(out, key, {
      value: copyJSON(item, `${path}.${key}`, budget, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function isStandardSchema(value: unknown): value is StandardSchemaLike {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const standard = (value as { "~standard"?: unknown })["~standard"];
  return typeof standard === "object" && standard !== null &&
    typeof (standard as { validate?: unknown }).validate === "function";
}

/** The JSON Schema a Standard Schema gives, or a TypeError saying why it gives none. */
function jsonSchemaOf(schema: StandardSchemaLike): unknown {
  const standard = schema["~standard"];
  const vendor = typeof standard.vendor === "string" ? standard.vendor : "unknown";
  const methods = schema as unknown as {
    toJSONSchema?: (options?: unknown) => unknown;
    toJsonSchema?: (options?: unknown) => unknown;
  };
  try {
    // The model writes the schema's input; validate() turns it into the output.
    if (typeof standard.jsonSchema?.input === "function") {
      return standard.jsonSchema.input({ target: "draft-2020-12" });
    }
    if (typeof standard.jsonSchema?.output === "function") {
      return standard.jsonSchema.output({ target: "draft-2020-12" });
    }
    if (typeof methods.toJSONSchema === "function") return methods.toJSONSchema();
    if (typeof methods.toJsonSchema === "function") return methods.toJsonSchema();
  } catch (error) {
    throw new TypeError(
      `schema (a Standard Schema of "${vendor}") cannot be turned into JSON Schema: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  throw new TypeError(
    `schema is a Standard Schema of "${vendor}" that cannot give JSON Schema (it has no ` +
      "~standard.jsonSchema, toJSONSchema() or toJsonSchema()): pass its JSON Schema instead",
  );
}

/**
 * Checks and copies the `schema` argument.
 *
 * @throws {TypeError} when it is not a JSON Schema object (an array, a
 * string, `null`, a boolean schema...) or a Standard Schema that gives one.
 */
export function resolveSchema(value: unknown): ResolvedSchema {
  let standard: StandardSchemaLike | undefined;
  let json: unknown = value;
  if (isStandardSchema(value)) {
    standard = value;
    json = jsonSchemaOf(value);
  }
  if (!isPlainObject(json)) {
    throw new TypeError(
      `schema must be a JSON Schema object (or a Standard Schema that gives one), got ${
        describeType(json)
      }`,
    );
  }
  const copy = copyJSON(json, "", { left: MAX_VALUES }, 0) as JSONSchema;
  if ("type" in copy && typeof copy.type !== "string" && !Array.isArray(copy.type)) {
    throw new TypeError(`schema.type must be a string or an array of strings`);
  }
  return { json: copy, standard };
}

/**
 * Checks a schema name (default {@link DEFAULT_SCHEMA_NAME}).
 *
 * @throws {TypeError} unless it is 1 to 64 letters, digits, `_` or `-`.
 */
export function checkSchemaName(name: unknown): string {
  if (name === undefined) return DEFAULT_SCHEMA_NAME;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new TypeError(
      `name must be 1 to 64 letters, digits, "_" or "-" when given, got ${
        typeof name === "string" ? `"${name.slice(0, 80)}"` : describeType(name)
      }`,
    );
  }
  return name;
}

/** Whether the schema's root is an object schema (what tools and response formats need). */
export function hasObjectRoot(schema: JSONSchema): boolean {
  return schema.type === "object";
}

/** The property a schema without an object root is wrapped under. */
export const WRAPPED_KEY = "value";

/** An object schema holding `schema` under {@link WRAPPED_KEY}. */
export function wrapRoot(schema: JSONSchema): JSONSchema {
  const { $schema, $defs, definitions, ...inner } = schema;
  const wrapped: JSONSchema = {
    type: "object",
    properties: { [WRAPPED_KEY]: inner },
    required: [WRAPPED_KEY],
    additionalProperties: false,
  };
  if ($schema !== undefined) wrapped.$schema = $schema;
  if ($defs !== undefined) wrapped.$defs = $defs;
  if (definitions !== undefined) wrapped.definitions = definitions;
  return wrapped;
}
