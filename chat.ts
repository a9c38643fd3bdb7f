/**
 * Chat message and completion types shared by backends and providers.
 *
 * They follow the OpenAI chat-completion wire format, so that any
 * OpenAI-compatible service can be addressed with them, and they are plain
 * TypeScript types: no npm package's types appear here.
 *
 * @example Build a text message and an image message
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ChatMessage, imagePart, messageText, textPart } from "./chat.ts";
 *
 * const messages: ChatMessage[] = [
 *   { role: "system", content: "You describe images for alt text." },
 *   {
 *     role: "user",
 *     content: [textPart("Describe this image"), imagePart("data:image/png;base64,iVBORw0KGgo=")],
 *   },
 * ];
 * assert.equal(messageText(messages[1]), "Describe this image");
 * ```
 *
 * @module
 */

/**
 * Who wrote a chat message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatRole } from "./chat.ts";
 * const role: ChatRole = "user";
 * assert.equal(role, "user");
 * ```
 */
export type ChatRole = "system" | "user" | "assistant";

/**
 * A text part of a message's content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TextPart } from "./chat.ts";
 * const part: TextPart = { type: "text", text: "Hello" };
 * assert.equal(part.text, "Hello");
 * ```
 */
export interface TextPart {
  /** Always `"text"`. */
  type: "text";
  /** The text. */
  text: string;
}

/**
 * An image part of a message's content: an `https:` URL or a `data:` URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ImageUrlPart } from "./chat.ts";
 * const part: ImageUrlPart = {
 *   type: "image_url",
 *   image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
 * };
 * assert.equal(part.image_url.detail, "low");
 * ```
 */
export interface ImageUrlPart {
  /** Always `"image_url"`. */
  type: "image_url";
  /** The image's URL and the level of detail the model should look at. */
  image_url: {
    /** An `https:` URL or a `data:<mime>;base64,<bytes>` URL. */
    url: string;
    /** How closely the model looks at the image (default `"auto"`). */
    detail?: "auto" | "low" | "high";
  };
}

/**
 * One part of a message's content.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ContentPart } from "./chat.ts";
 * const parts: ContentPart[] = [{ type: "text", text: "Hi" }];
 * assert.equal(parts.length, 1);
 * ```
 */
export type ContentPart = TextPart | ImageUrlPart;

/**
 * A chat message: a role and its content, as a string or as parts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatMessage } from "./chat.ts";
 * const message: ChatMessage = { role: "user", content: [{ type: "text", text: "Hi" }] };
 * assert.equal(message.role, "user");
 * ```
 */
export interface ChatMessage {
  /** Who wrote the message. */
  role: ChatRole;
  /** The message: plain text, or text and image parts. */
  content: string | ContentPart[];
}

/**
 * Token counts of one request, in this module's camelCase form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TokenUsage } from "./chat.ts";
 * const usage: TokenUsage = { inputTokens: 12, outputTokens: 3, totalTokens: 15 };
 * assert.equal(usage.totalTokens, 15);
 * ```
 */
export interface TokenUsage {
  /** Tokens of the prompt (all messages). */
  inputTokens: number;
  /** Tokens of the answer. */
  outputTokens: number;
  /** Their sum, as the service reports it. */
  totalTokens: number;
}

/**
 * Token counts in the OpenAI wire format (`usage` of a chat completion).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CompletionUsage } from "./chat.ts";
 * const usage: CompletionUsage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
 * assert.equal(usage.total_tokens, 3);
 * ```
 */
export interface CompletionUsage {
  /** Tokens of the prompt. */
  prompt_tokens: number;
  /** Tokens of the answer. */
  completion_tokens: number;
  /** Their sum. */
  total_tokens: number;
}

/**
 * One choice of a chat completion.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatCompletionChoice } from "./chat.ts";
 * const choice: ChatCompletionChoice = {
 *   index: 0,
 *   message: { role: "assistant", content: "Hi" },
 *   finish_reason: "stop",
 * };
 * assert.equal(choice.message.content, "Hi");
 * ```
 */
export interface ChatCompletionChoice {
  /** Position of the choice (0 for the first). */
  index: number;
  /** The answer. */
  message: {
    /** Always `"assistant"`. */
    role: "assistant";
    /** The answer's text (`""` when the service gave none). */
    content: string;
  };
  /** Why the model stopped (`"stop"`, `"length"`, ...), or `null` when unknown. */
  finish_reason: string | null;
}

/**
 * A chat completion in the OpenAI wire format.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ChatCompletion, completionText } from "./chat.ts";
 * const completion: ChatCompletion = {
 *   id: "chatcmpl-1",
 *   object: "chat.completion",
 *   created: 0,
 *   model: "gpt-4o-mini",
 *   choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }],
 * };
 * assert.equal(completionText(completion), "Hi");
 * ```
 */
export interface ChatCompletion {
  /** The service's id of the completion. */
  id: string;
  /** Always `"chat.completion"`. */
  object: "chat.completion";
  /** Unix time (seconds) of creation. */
  created: number;
  /** The model that answered. */
  model: string;
  /** The answers (usually one). */
  choices: ChatCompletionChoice[];
  /** Token counts, when the service gave them. */
  usage?: CompletionUsage;
}

/**
 * Options of a chat request. Known options are typed; any other key is passed
 * to the service as it is (for example `response_format` or `user`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatOptions } from "./chat.ts";
 * const options: ChatOptions = { temperature: 0.2, max_tokens: 256, stop: ["\n\n"] };
 * assert.equal(options.max_tokens, 256);
 * ```
 */
export interface ChatOptions {
  /** Sampling temperature (0 to 2). */
  temperature?: number;
  /** Maximum tokens of the answer (older models and most compatible servers). */
  max_tokens?: number;
  /** Maximum tokens of the answer, reasoning included (newer OpenAI models). */
  max_completion_tokens?: number;
  /** Nucleus sampling probability mass. */
  top_p?: number;
  /** Up to four sequences where the model stops. */
  stop?: string | string[];
  /** Seed for best-effort deterministic sampling. */
  seed?: number;
  /** Penalty for tokens by their frequency so far (-2 to 2). */
  frequency_penalty?: number;
  /** Penalty for tokens that already appeared (-2 to 2). */
  presence_penalty?: number;
  /** Any other option, passed through unchanged. */
  [option: string]: unknown;
}

/**
 * Builds a text part.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textPart } from "./chat.ts";
 * assert.deepEqual(textPart("Hi"), { type: "text", text: "Hi" });
 * ```
 */
export function textPart(text: string): TextPart {
  return { type: "text", text };
}

/**
 * Builds an image part from a URL (an `https:` URL or a `data:` URL).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { imagePart } from "./chat.ts";
 * const part = imagePart("https://example.com/cat.png", { detail: "high" });
 * assert.equal(part.image_url.detail, "high");
 * ```
 */
export function imagePart(
  url: string,
  options: { detail?: "auto" | "low" | "high" } = {},
): ImageUrlPart {
  return {
    type: "image_url",
    image_url: options.detail === undefined ? { url } : { url, detail: options.detail },
  };
}

/**
 * The text of a message: its string content, or its text parts joined with a
 * space (image parts are left out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { messageText } from "./chat.ts";
 * const text = messageText({
 *   role: "user",
 *   content: [{ type: "text", text: "a" }, { type: "text", text: "b" }],
 * });
 * assert.equal(text, "a b");
 * ```
 */
export function messageText(message: ChatMessage): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .filter((part): part is TextPart => part.type === "text")
    .map((part) => part.text)
    .join(" ");
}

/**
 * The text of a completion's first choice (`""` when it has none).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completionText } from "./chat.ts";
 * assert.equal(
 *   completionText({ id: "x", object: "chat.completion", created: 0, model: "m", choices: [] }),
 *   "",
 * );
 * ```
 */
export function completionText(completion: ChatCompletion): string {
  return completion.choices[0]?.message.content ?? "";
}

/**
 * Converts wire-format usage to {@link TokenUsage}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toTokenUsage } from "./chat.ts";
 * assert.deepEqual(toTokenUsage({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }), {
 *   inputTokens: 2,
 *   outputTokens: 3,
 *   totalTokens: 5,
 * });
 * ```
 */
export function toTokenUsage(usage: CompletionUsage): TokenUsage {
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
  };
}
