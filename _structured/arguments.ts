// The arguments of completeObject() (and, through it, promptForObject()),
// checked before any request: the schema, its name, the signal, a model
// override and the chat options. The messages are the provider's to check.
import type { ChatOptions } from "../chat.ts";
import { describeType, isPlainObject } from "../_validate.ts";
import { checkCallMetadata } from "../_json.ts";
import { checkSchemaName, type ResolvedSchema, resolveSchema } from "./schema.ts";

/** Checked arguments of a structured call. */
export interface ObjectArguments {
  /** The messages, as given (the provider checks them). */
  messages: unknown;
  /** The checked schema. */
  schema: ResolvedSchema;
  /** The schema's name. */
  name: string;
  /** The abort signal, when given. */
  signal: AbortSignal | undefined;
  /** The model override, when given. */
  model: string | undefined;
  /** The chat options (a copy; empty when none). */
  options: ChatOptions;
}

// Options the structured call sets itself, with why.
const RESERVED: Readonly<Record<string, string>> = {
  messages: " (pass messages beside options)",
  signal: " (pass signal beside options)",
  model: " (pass model beside options)",
  stream: " (a structured answer is read whole)",
  stream_options: " (a structured answer is read whole)",
  response_format: " (completeObject() sets it from the schema)",
  tool_choice: " (completeObject() sets it from the schema)",
  n: " (one answer per request)",
};

/**
 * Checks the arguments of `method` (`completeObject`).
 *
 * @throws {TypeError} naming the argument at fault.
 */
export function checkObjectArguments(value: unknown, method: string): ObjectArguments {
  if (!isPlainObject(value)) {
    throw new TypeError(`${method}() takes an options object with messages and schema`);
  }
  const { messages, schema, name, signal, model, options, metadata, ...unknown } = value;
  // metadata is for usage events: checked here, never sent.
  checkCallMetadata(metadata, method);
  const extra = Object.keys(unknown);
  if (extra.length > 0) {
    throw new TypeError(
      `${method}() does not take "${extra[0]}" (chat options such as temperature go in options)`,
    );
  }
  if (!("schema" in value) || schema === undefined) {
    throw new TypeError(`${method}() needs a schema (a JSON Schema object)`);
  }
  const resolved = resolveSchema(schema);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal when given");
  }
  if (model !== undefined && (typeof model !== "string" || model.trim() === "")) {
    throw new TypeError("model must be a non-empty string when given");
  }
  if (options !== undefined && !isPlainObject(options)) {
    throw new TypeError(`options of ${method}() must be an object, got ${describeType(options)}`);
  }
  const chatOptions: ChatOptions = {};
  for (const [key, item] of Object.entries(options ?? {})) {
    if (Object.hasOwn(RESERVED, key)) {
      throw new TypeError(`options of ${method}() must not set "${key}"${RESERVED[key]}`);
    }
    if (item !== undefined) chatOptions[key] = item;
  }
  return {
    messages,
    schema: resolved,
    name: checkSchemaName(name),
    signal: signal as AbortSignal | undefined,
    model: model as string | undefined,
    options: chatOptions,
  };
}
