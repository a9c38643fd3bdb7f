// Checking an answer against its JSON Schema with @cfworker/json-schema (all
// drafts from 4 to 2020-12, no eval, runs on Deno, Node and edge runtimes),
// loaded on first use, and against a Standard Schema's own validate().
// No type of the package leaves this file.
import { ImproperlyConfigured, type ValidationIssue } from "../errors.ts";
import type { JSONSchema, StandardSchemaIssue, StandardSchemaLike } from "../structured.ts";

type ValidatorModule = typeof import("@cfworker/json-schema");
type Draft = "4" | "7" | "2019-09" | "2020-12";

let modulePromise: Promise<ValidatorModule> | undefined;

function loadValidator(): Promise<ValidatorModule> {
  modulePromise ??= import("@cfworker/json-schema").catch((error) => {
    modulePromise = undefined;
    throw new ImproperlyConfigured(
      `Cannot load the "@cfworker/json-schema" package (npm:@cfworker/json-schema@^4), which ` +
        `structured output needs: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  });
  return modulePromise;
}

/** Loads the validator now rather than at the first structured answer. */
export async function preloadValidator(): Promise<void> {
  await loadValidator();
}

/** The draft a schema's `$schema` names (default 2020-12). */
function draftOf(schema: JSONSchema): Draft {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (/draft-04/.test(uri)) return "4";
  if (/draft-0[67]/.test(uri)) return "7";
  if (/2019-09/.test(uri)) return "2019-09";
  return "2020-12";
}

// Errors that only say "something below failed": left out when the errors below are there.
const CONTAINERS = new Set([
  "properties",
  "patternProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "$ref",
  "$dynamicRef",
  "$recursiveRef",
  "allOf",
  "dependentSchemas",
  "then",
  "else",
  "false",
]);

/** The most issues kept (a long list does not help the model or the reader). */
export const MAX_ISSUES = 20;

/**
 * Checks `value` against `schema`; the issues, most specific first, or none.
 *
 * @throws {ImproperlyConfigured} when the validator package cannot be loaded.
 * @throws {TypeError} when the schema itself cannot be used (a bad `$ref`...).
 */
export async function validateJSON(schema: JSONSchema, value: unknown): Promise<ValidationIssue[]> {
  const { Validator } = await loadValidator();
  let result: {
    valid: boolean;
    errors: { instanceLocation: string; keyword: string; error: string }[];
  };
  try {
    // deno-lint-ignore no-explicit-any
    result = new Validator(schema as any, draftOf(schema), false).validate(value);
  } catch (error) {
    throw new TypeError(
      `schema cannot be used to check answers: ${error instanceof Error ? error.message : error}`,
    );
  }
  if (result.valid) return [];
  const all = result.errors.map((error) => ({
    keyword: error.keyword,
    issue: { path: error.instanceLocation.replace(/^#/, ""), message: error.error },
  }));
  const specific = all.filter((error) => !CONTAINERS.has(error.keyword));
  return (specific.length > 0 ? specific : all).slice(0, MAX_ISSUES).map((error) => error.issue);
}

function pointer(path: StandardSchemaIssue["path"]): string {
  if (!path || path.length === 0) return "";
  return path.map((segment) => {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    return "/" + String(key).replace(/~/g, "~0").replace(/\//g, "~1");
  }).join("");
}

/**
 * Runs a Standard Schema's `validate()`: its output value, or its issues as
 * ours. A `validate()` that throws is an issue too (the answer is refused).
 */
export async function validateStandard(
  schema: StandardSchemaLike,
  value: unknown,
): Promise<{ value: unknown } | { issues: ValidationIssue[] }> {
  let result;
  try {
    result = await schema["~standard"].validate(value);
  } catch (error) {
    return {
      issues: [{
        path: "",
        message: `The schema's validate() failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      }],
    };
  }
  if (result.issues) {
    return {
      issues: result.issues.slice(0, MAX_ISSUES).map((issue) => ({
        path: pointer(issue.path),
        message: String(issue.message),
      })),
    };
  }
  return { value: result.value };
}
