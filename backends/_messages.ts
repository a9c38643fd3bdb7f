// Chat messages shared by the OpenAI and provider backends (the OpenAI backend's shapes), and
// the checks of the chat options sent with them (CONFIG.OPTIONS and per-call `options`).
import {
  type ChatCompletion,
  type ChatCompletionUsage,
  type ChatMessage,
  type ChatOptions,
  type CompletionUsage,
  type ContentPart,
  type TokenUsage,
  toTokenUsage,
} from "../chat.ts";
import { describeType, isPlainObject } from "../_validate.ts";
import { copyJsonData, FORBIDDEN_JSON_KEYS, jsonBudget, keyWhere, kindOf } from "../_json.ts";
import { readImage, toDataUrl } from "../_image.ts";
import type { DescribeImageOptions, PromptWithContextOptions } from "./types.ts";
import type { CompleteAnswer } from "./response.ts";

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
    const { inputTokens, outputTokens, totalTokens, cachedInputTokens, cacheWriteInputTokens } =
      usage as ChatCompletionUsage;
    const tokens: TokenUsage = { inputTokens, outputTokens, totalTokens };
    // Prompt-cache reads and writes, priced apart by PRICES' cached_input and cache_write_input.
    if (typeof cachedInputTokens === "number") tokens.cachedInputTokens = cachedInputTokens;
    if (typeof cacheWriteInputTokens === "number") {
      tokens.cacheWriteInputTokens = cacheWriteInputTokens;
    }
    return tokens;
  }
  const wire = usage as CompletionUsage;
  if (typeof wire.prompt_tokens !== "number") return undefined;
  return toTokenUsage(wire);
}

/** A whole answer of a completion: its first choice's text, finish reason and usage. */
export function completeAnswerOf(completion: ChatCompletion): CompleteAnswer {
  const answer: CompleteAnswer = { text: completion.choices[0]?.message.content ?? "" };
  const reason = completion.choices[0]?.finish_reason;
  if (typeof reason === "string") answer.finishReason = reason;
  const usage = completionUsage(completion.usage);
  if (usage) answer.usage = usage;
  return answer;
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
    throw new Fail(`${where} must be an object, got ${kindOf(value)}`);
  }
  const out: ChatOptions = {};
  const seen = new Set<object>([value]);
  const budget = jsonBudget(check);
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_JSON_KEYS.includes(key)) throw new Fail(`${where} has a forbidden key "${key}"`);
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
    out[key] = copyJsonData(item, [key], check, budget, seen);
  }
  return out;
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
