// The schema as a service's constrained decoding takes it. OpenAI's strict
// json_schema and Anthropic's output_config.format accept a subset of JSON
// Schema: every object closed (`additionalProperties: false`), no length or
// (for Anthropic) range keywords, and OpenAI needs every property required.
// The wire schema only ever narrows or drops keywords: what it drops is
// written into the `description` for the model and checked here afterwards
// against the caller's full schema, so the answer still has to meet it.
// Only a strict send is narrowed (a service without strict decoding gets the
// caller's schema as it is), and only where narrowing keeps the caller's
// meaning: an object with declared properties is closed (the model answers
// those; an extra one the caller's schema allows is still accepted), but a
// free-form object (`{type: "object"}`: a map of anything) or an explicitly
// open one is not, since closed it could only be `{}`: the schema then goes
// as it is, not strict. Answers are always checked against the caller's schema.
import type { JSONSchema } from "../structured.ts";

/** Whose subset. */
export type SchemaDialect = "openai" | "anthropic";

/** A schema for the wire, and whether the service can enforce it (strict). */
export interface WireSchema {
  /** The schema to send. */
  schema: JSONSchema;
  /** Whether the schema is within the dialect's subset (else it is the caller's, unchanged). */
  strict: boolean;
}

// Keywords each subset leaves out; they move into the description.
const DROPPED: Readonly<Record<SchemaDialect, ReadonlySet<string>>> = {
  openai: new Set([
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "contentEncoding",
    "contentMediaType",
  ]),
  anthropic: new Set([
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
    "contentEncoding",
    "contentMediaType",
  ]),
};

// Keywords neither subset takes and that cannot be dropped without changing what
// the answer may be: the schema is then sent as it is, not strict.
const UNSUPPORTED = new Set([
  "not",
  "if",
  "then",
  "else",
  "oneOf",
  "patternProperties",
  "propertyNames",
  "dependentRequired",
  "dependentSchemas",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
  "minContains",
  "maxContains",
  "$dynamicRef",
  "$recursiveRef",
]);

// Keywords whose values are schemas, and those whose values are lists or maps of schemas.
const SCHEMA_VALUED = ["items", "additionalItems", "not"];
const SCHEMA_LISTS = ["anyOf", "allOf", "prefixItems"];
const SCHEMA_MAPS = ["properties", "$defs", "definitions"];

class NotStrict extends Error {}

function describeDropped(dropped: [string, unknown][]): string {
  return dropped.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(", ");
}

function narrow(node: unknown, dialect: SchemaDialect): unknown {
  if (typeof node !== "object" || node === null || Array.isArray(node)) {
    if (typeof node === "boolean") throw new NotStrict();
    return node;
  }
  const schema = node as JSONSchema;
  const out: JSONSchema = {};
  const dropped: [string, unknown][] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "$id") continue;
    if (UNSUPPORTED.has(key)) throw new NotStrict();
    if (DROPPED[dialect].has(key)) {
      dropped.push([key, value]);
      continue;
    }
    if (key === "minItems" && dialect === "anthropic" && typeof value === "number" && value > 1) {
      dropped.push([key, value]);
      continue;
    }
    if (SCHEMA_VALUED.includes(key)) out[key] = narrow(value, dialect);
    else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((item) => narrow(item, dialect));
    } else if (SCHEMA_MAPS.includes(key) && typeof value === "object" && value !== null) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, item]) => [name, narrow(item, dialect)]),
      );
    } else out[key] = value;
  }
  const isObject = out.type === "object" ||
    (Array.isArray(out.type) && out.type.includes("object")) || "properties" in out;
  if (isObject) {
    if (out.additionalProperties !== undefined && out.additionalProperties !== false) {
      throw new NotStrict();
    }
    // A free-form object (no properties, extra ones allowed): closed, it could only be {}.
    const declared = typeof out.properties === "object" && out.properties !== null &&
      Object.keys(out.properties).length > 0;
    if (out.additionalProperties === undefined && !declared) throw new NotStrict();
    out.additionalProperties = false;
    if (dialect === "openai") {
      const names = Object.keys((out.properties as object | undefined) ?? {});
      const required = Array.isArray(out.required) ? out.required : [];
      if (!names.every((name) => required.includes(name))) throw new NotStrict();
      if (out.required === undefined) out.required = [];
    }
  }
  if (dropped.length > 0) {
    const note = `(${describeDropped(dropped)})`;
    out.description = typeof out.description === "string" && out.description !== ""
      ? `${out.description} ${note}`
      : note;
  }
  return out;
}

/**
 * The schema in a dialect's subset, `strict`; or, when that would change
 * which answers are allowed (optional properties for OpenAI, open objects,
 * `oneOf`, `not`, conditionals...), the caller's schema as it is, not strict.
 */
export function wireSchema(schema: JSONSchema, dialect: SchemaDialect): WireSchema {
  try {
    return { schema: narrow(schema, dialect) as JSONSchema, strict: true };
  } catch (error) {
    if (error instanceof NotStrict) return { schema, strict: false };
    throw error;
  }
}
