/**
 * The types of structured output: the schema a caller gives (a JSON Schema
 * object, or a Standard Schema that gives one), the arguments of
 * `Provider.completeObject()` and what it answers, and the strategies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompleteObjectOptions, ObjectCompletion } from "./structured.ts";
 * const ask: CompleteObjectOptions<{ title: string }> = {
 *   messages: [{ role: "user", content: "A title for: spring in the park" }],
 *   schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
 * };
 * const answer: ObjectCompletion<{ title: string }> = {
 *   object: { title: "Spring in the park" },
 *   usage: undefined,
 *   strategy: "prompt",
 * };
 * assert.equal(typeof ask.schema, "object");
 * assert.equal(answer.object.title, "Spring in the park");
 * ```
 *
 * @module
 */
import type { CallMetadata, ChatMessage, ChatOptions, TokenUsage } from "./chat.ts";

/**
 * A JSON Schema as a plain object (draft 2020-12 unless its `$schema` says
 * draft-07 or another draft), for example
 * `{type: "object", properties: {title: {type: "string"}}, required: ["title"]}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { JSONSchema } from "./structured.ts";
 * const schema: JSONSchema = { type: "array", items: { type: "string" }, maxItems: 5 };
 * assert.equal(schema.type, "array");
 * ```
 */
export type JSONSchema = { [keyword: string]: unknown };

/**
 * One problem a Standard Schema reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StandardSchemaIssue } from "./structured.ts";
 * const issue: StandardSchemaIssue = { message: "Too long", path: ["title"] };
 * assert.equal(issue.path?.[0], "title");
 * ```
 */
export interface StandardSchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where: keys, or `{key}` segments. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * What a Standard Schema's `validate()` returns: the (possibly transformed)
 * value, or issues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StandardSchemaResult } from "./structured.ts";
 * const result: StandardSchemaResult<number> = { value: 1 };
 * assert.ok(!result.issues);
 * ```
 */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * A Standard Schema value (<https://standardschema.dev>: zod 4, valibot,
 * ArkType...). `completeObject()` takes one when it can give JSON Schema:
 * through the Standard JSON Schema interface (`~standard.jsonSchema.input()`,
 * zod 4.2 and later: the schema of what the model writes, before any
 * transform) or a `toJSONSchema()`/`toJsonSchema()` method. The answer is
 * then checked by both the JSON Schema and the schema's own `validate()`,
 * whose output (after its transforms) is the object returned.
 *
 * @example A hand-made Standard Schema
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StandardSchemaLike } from "./structured.ts";
 * const positive: StandardSchemaLike<number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" && value > 0 ? { value } : { issues: [{ message: "Not positive" }] },
 *     jsonSchema: { input: () => ({ type: "number", exclusiveMinimum: 0 }) },
 *   },
 * };
 * assert.deepEqual(positive["~standard"].validate(2), { value: 2 });
 * ```
 */
export interface StandardSchemaLike<Output = unknown> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** Always 1. */
    readonly version: 1;
    /** The library, for example `"zod"`. */
    readonly vendor: string;
    /** Checks a value. */
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    /** The Standard JSON Schema converter, when the library has it. */
    readonly jsonSchema?: {
      /** The JSON Schema of the input type: what the model must write. */
      readonly input: (options: { readonly target: string }) => Record<string, unknown>;
      /** The JSON Schema of the output type (after transforms). */
      readonly output?: (options: { readonly target: string }) => Record<string, unknown>;
    };
    /** The inferred types (type-level only). */
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/**
 * What `completeObject()` and `promptForObject()` take as `schema`: a JSON
 * Schema object, or a Standard Schema that can give one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ObjectSchema } from "./structured.ts";
 * const schema: ObjectSchema = { type: "object", properties: { ok: { type: "boolean" } } };
 * assert.ok(typeof schema === "object");
 * ```
 */
export type ObjectSchema<T = unknown> = JSONSchema | StandardSchemaLike<T>;

/**
 * How the answer was made to follow the schema:
 *
 * - `"json_schema"`: the service constrains the answer to the schema
 *   (OpenAI's `response_format: {type: "json_schema"}`, strict when the
 *   schema allows it; Anthropic's `output_config.format`).
 * - `"tool"`: a tool whose `input_schema` is the schema, which the model
 *   must call (Anthropic).
 * - `"json_object"`: JSON mode (the answer is JSON) and the schema in the prompt.
 * - `"prompt"`: the schema in the prompt only.
 *
 * Whatever the strategy, the answer is checked against the schema here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StructuredOutputStrategy } from "./structured.ts";
 * const strategy: StructuredOutputStrategy = "tool";
 * assert.equal(strategy, "tool");
 * ```
 */
export type StructuredOutputStrategy = "json_schema" | "tool" | "json_object" | "prompt";

/**
 * The strategies of a chat-completions (OpenAI-compatible) service: all but `"tool"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatStructuredOutputStrategy } from "./structured.ts";
 * const strategy: ChatStructuredOutputStrategy = "json_object";
 * assert.equal(strategy, "json_object");
 * ```
 */
export type ChatStructuredOutputStrategy = Exclude<StructuredOutputStrategy, "tool">;

/**
 * Arguments of `Provider.completeObject()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompleteObjectOptions } from "./structured.ts";
 * const options: CompleteObjectOptions = {
 *   messages: [{ role: "user", content: "Suggest a title for: cats in spring" }],
 *   schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
 *   name: "title",
 *   options: { temperature: 0 },
 * };
 * assert.equal(options.name, "title");
 * ```
 */
export interface CompleteObjectOptions<T = unknown> {
  /** The conversation: string content or content parts (`text`, `image_url`). */
  messages: ChatMessage[];
  /** The JSON Schema the answer must follow (or a Standard Schema that gives one). */
  schema: ObjectSchema<T>;
  /**
   * The schema's name, sent as the response format's or the tool's name:
   * letters, digits, `_` and `-`, up to 64 (default `"response"`).
   */
  name?: string;
  /** Ends the request (and the repair request) when aborted. */
  signal?: AbortSignal;
  /** The model for this call only (default: the provider's `model`). */
  model?: string;
  /** Chat options sent with each request (`temperature`, `max_tokens`...). */
  options?: ChatOptions;
  /** Who and what the call is for, carried by its usage events (never sent): see {@link CallMetadata}. */
  metadata?: CallMetadata;
}

/**
 * What `completeObject()` and `promptForObject()` resolve to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ObjectCompletion } from "./structured.ts";
 * const answer: ObjectCompletion<{ title: string }> = {
 *   object: { title: "Cats in spring" },
 *   usage: { inputTokens: 40, outputTokens: 8, totalTokens: 48 },
 *   strategy: "json_schema",
 * };
 * assert.equal(answer.object.title, "Cats in spring");
 * ```
 */
export interface ObjectCompletion<T = unknown> {
  /** The answer, parsed and checked against the schema. */
  object: T;
  /** Token counts of every request made (the repair included), when the service reported them. */
  usage: TokenUsage | undefined;
  /** How the answer was made to follow the schema. */
  strategy: StructuredOutputStrategy;
}
