// Chat messages shared by the OpenAI and provider backends (the OpenAI backend's shapes), and
// the checks of the chat options sent with them (CONFIG.OPTIONS and per-call `options`).
import type {
  ChatCompletionUsage,
  ChatMessage,
  ChatOptions,
  CompletionUsage,
  ContentPart,
  TokenUsage,
} from "../chat.ts";
import { describeType, isPlainObject } from "../_validate.ts";
import { readImage, toDataUrl } from "../_image.ts";
import type { DescribeImageOptions, PromptWithContextOptions } from "./types.ts";

/** system(prePrompt), user(context) and, when given, system(postPrompt), as text parts. */
export function promptMessages(options: PromptWithContextOptions): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: [{ type: "text", text: options.prePrompt }] },
    { role: "user", content: [{ type: "text", text: options.context }] },
  ];
  if (options.postPrompt !== undefined) {
    messages.push({ role: "system", content: [{ type: "text", text: options.postPrompt }] });
  }
  return messages;
}

/**
 * The token counts of a completion's usage, without `raw`. A provider of
 * one's own written before `completion()` gave our shape may still return
 * the wire shape (`prompt_tokens`...): it is read too.
 */
export function completionUsage(
  usage: ChatCompletionUsage | CompletionUsage | undefined,
): TokenUsage | undefined {
  if (usage === undefined || usage === null) return undefined;
  if (typeof usage.inputTokens === "number") {
    const { inputTokens, outputTokens, totalTokens } = usage as ChatCompletionUsage;
    return { inputTokens, outputTokens, totalTokens };
  }
  const wire = usage as CompletionUsage;
  if (typeof wire.prompt_tokens !== "number") return undefined;
  return {
    inputTokens: wire.prompt_tokens,
    outputTokens: wire.completion_tokens,
    totalTokens: wire.total_tokens,
  };
}

/** Reads and checks the image, then one user message: the prompt and the image as a data URL. */
export async function imageMessage(
  options: DescribeImageOptions,
  maxBytes: number,
): Promise<ChatMessage> {
  const { image, fileName, prompt } = options;
  const checked = await readImage(
    image,
    fileName === undefined ? { maxBytes } : { fileName, maxBytes },
  );
  const content: ContentPart[] = [
    { type: "text", text: prompt },
    { type: "image_url", image_url: { url: toDataUrl(checked) } },
  ];
  return { role: "user", content };
}

/** How {@link checkChatOptions} reports: the label, the refused keys and the error class. */
export interface ChatOptionsCheck {
  /** Names the options in messages: `OPTIONS in CONFIG of backend "default"`. */
  where: string;
  /** Keys that must not be set, with a hint for each (`""` for none). */
  reserved: Readonly<Record<string, string>>;
  /** The error thrown (ImproperlyConfigured for settings, TypeError for arguments). */
  error: new (message: string) => Error;
}

const FORBIDDEN_KEYS = ["__proto__", "constructor", "prototype"];

/** Keys a per-call `options` must not set, with why. */
export const CALL_RESERVED_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  messages: " (the backend builds the messages)",
  model: " (the backend asks its MODEL_ID: configure another backend for another model)",
  stream: " (iterate the response to stream it, or read text())",
  stream_options: " (iterate the response to stream it, or read text())",
  n: " (a backend answers with one choice)",
  signal: " (pass signal beside options)",
});

/** The per-call answer caps, checked as positive integers. */
const CAP_KEYS = ["max_tokens", "max_completion_tokens"];

/**
 * Checks chat options (a plain object of JSON data without reserved or
 * prototype keys) and returns a deep copy, without `undefined` values.
 *
 * @throws {Error} of `check.error`'s class, naming the key.
 */
export function checkChatOptions(value: unknown, check: ChatOptionsCheck): ChatOptions {
  const { where, reserved, error: Fail } = check;
  if (!isPlainObject(value)) {
    throw new Fail(`${where} must be an object, got ${kind(value)}`);
  }
  const out: ChatOptions = {};
  const seen = new Set<object>([value]);
  const budget = { values: MAX_VALUES };
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.includes(key)) throw new Fail(`${where} has a forbidden key "${key}"`);
    if (Object.hasOwn(reserved, key)) {
      throw new Fail(`${where} must not set "${key}"${reserved[key]}`);
    }
    const item = value[key];
    // undefined and null (an empty YAML value) are unset: the configured value stays.
    if (item === undefined || item === null) continue;
    if (
      CAP_KEYS.includes(key) && item !== null &&
      !(Number.isSafeInteger(item) && (item as number) > 0)
    ) {
      throw new Fail(
        `${keyWhere(where, key)} must be a positive integer, got ${
          typeof item === "number" ? String(item) : describeType(item)
        }`,
      );
    }
    out[key] = jsonCopy(item, [key], seen, check, budget);
  }
  return out;
}

/** A value's type for messages: `describeType`, or the class of an object that is not plain. */
function kind(value: unknown): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return describeType(value);
  }
  const name = Object.getPrototypeOf(value)?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
}

/** `OPTIONS.temperature in CONFIG...`, `options.temperature of promptWithContext()`. */
function keyWhere(where: string, path: string): string {
  const space = where.indexOf(" ");
  return space < 0 ? `${where}.${path}` : `${where.slice(0, space)}.${path}${where.slice(space)}`;
}

// Limits on options data: nesting (as for YAML) and the number of values copied
// (an object reused at every level would otherwise be copied exponentially often).
const MAX_DEPTH = 64;
const MAX_VALUES = 100_000;

function jsonCopy(
  value: unknown,
  path: string[],
  seen: Set<object>,
  check: ChatOptionsCheck,
  budget: { values: number },
): unknown {
  const fail = (got: string): never => {
    throw new check.error(`${keyWhere(check.where, path.join("."))} must be JSON data, got ${got}`);
  };
  if (--budget.values < 0) {
    throw new check.error(`${check.where} is too large (over ${MAX_VALUES} values)`);
  }
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (path.length > MAX_DEPTH) return fail(`data nested more than ${MAX_DEPTH} levels`);
  if (typeof value !== "object" || !(Array.isArray(value) || isPlainObject(value))) {
    return fail(kind(value));
  }
  if (seen.has(value)) return fail("a circular reference");
  seen.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    copy = value.map((item, index) =>
      jsonCopy(item, [...path, String(index)], seen, check, budget)
    );
  } else {
    const object: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Defined as data, so a "__proto__" key stays a key and never a prototype.
      if (item !== undefined) {
        Object.defineProperty(object, key, {
          value: jsonCopy(item, [...path, key], seen, check, budget),
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

/**
 * Checks per-call `options` (when given) and returns a copy, fixed from then on.
 *
 * @throws {TypeError} naming the key.
 */
export function checkCallOptions(
  value: unknown,
  method: "promptWithContext" | "describeImage" | "promptForObject",
): ChatOptions | undefined {
  if (value === undefined) return undefined;
  return checkChatOptions(value, {
    where: `options of ${method}()`,
    reserved: CALL_RESERVED_OPTIONS,
    error: TypeError,
  });
}
