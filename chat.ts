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
import {
  checkImageArgument,
  checkImageSize,
  DEFAULT_MAX_IMAGE_BYTES,
  readImage,
  toDataUrl,
} from "./_image.ts";

/**
 * An image: a `Blob` (a `File` carries its name), or raw bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type ImageInput } from "./mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * });
 * const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
 * const images: ImageInput[] = [bytes, new Blob([bytes]), new File([bytes], "leaf.png")];
 * for (const image of images) {
 *   const answer = ai.getBackend().describeImage({
 *     image,
 *     prompt: "Alt text",
 *     fileName: "leaf.png",
 *   });
 *   assert.equal(await answer.text(), "This is an echo backend: leaf.png");
 * }
 * ```
 */
export type ImageInput = Blob | Uint8Array;

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
 * JSON data: what a per-call `metadata` option may hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { JsonValue } from "./chat.ts";
 * const value: JsonValue = { user: "42", tags: ["blog", 1, true, null] };
 * assert.equal(JSON.parse(JSON.stringify(value)).user, "42");
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * The per-call `metadata` option: who and what a request is for
 * (`{user: "42", site: "blog"}`), a plain object of JSON data. It is never
 * sent to the AI service: it is carried, as given, by every usage event of
 * the call (`createAI(settings, {onEvent})`), so an application can attribute
 * every token. Checked at the call (a `TypeError` for anything that is not
 * JSON data, or for more than 1,000 values).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CallMetadata } from "./chat.ts";
 * const metadata: CallMetadata = { user: "42", site: "blog" };
 * assert.equal(metadata.site, "blog");
 * ```
 */
export type CallMetadata = Readonly<Record<string, JsonValue>>;

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
  /**
   * Of `inputTokens`, those the service read from its prompt cache (billed at
   * the `cached_input` price of `PRICES`), when it reports them.
   */
  cachedInputTokens?: number;
  /**
   * Of `inputTokens`, those the service wrote to its prompt cache (billed at
   * the `cache_write_input` price of `PRICES`), when it reports them
   * (Anthropic's `cache_creation_input_tokens`).
   */
  cacheWriteInputTokens?: number;
}

/**
 * Token counts in the OpenAI wire format, as the service sends them (the
 * `raw` of {@link ChatCompletionUsage}).
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
  /** Details of the prompt's tokens: `cached_tokens` read from the service's prompt cache. */
  prompt_tokens_details?: {
    /** Prompt tokens read from the cache. */
    cached_tokens?: number;
  };
  /** Any other field the service sent (`prompt_tokens_details`...). */
  [field: string]: unknown;
}

/**
 * The `usage` of a chat completion: the token counts in this module's shape
 * (as `stream()`'s usage event and `AIResponse.usage()` give them), and the
 * service's own usage object under `raw`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ChatCompletionUsage } from "./chat.ts";
 * const usage: ChatCompletionUsage = {
 *   inputTokens: 1,
 *   outputTokens: 2,
 *   totalTokens: 3,
 *   raw: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
 * };
 * assert.equal(usage.totalTokens, usage.raw?.total_tokens);
 * ```
 */
export interface ChatCompletionUsage extends TokenUsage {
  /** The usage as the service sent it, in the OpenAI wire format. */
  raw?: CompletionUsage;
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
 * A chat completion in the OpenAI shape (`choices[0].message.content`), with
 * `usage` in this module's shape ({@link ChatCompletionUsage}).
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
  /**
   * Token counts, when the service gave them: `inputTokens`, `outputTokens`,
   * `totalTokens`, and the service's usage object as `raw`.
   */
  usage?: ChatCompletionUsage;
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
 * Options of {@link imagePartFromBytes}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ImagePartFromBytesOptions } from "./chat.ts";
 * const options: ImagePartFromBytesOptions = { fileName: "cat.png", maxBytes: 5_000_000 };
 * assert.equal(options.fileName, "cat.png");
 * ```
 */
export interface ImagePartFromBytesOptions {
  /**
   * The file name, when the image is not a `File`: it names the image in
   * errors (the type comes from the bytes, never from the name).
   */
  fileName?: string;
  /** The largest image accepted, in bytes (default 20 MB, as the backends' `MAX_IMAGE_BYTES`). */
  maxBytes?: number;
  /** How closely the model looks at the image (left out by default: the service's `"auto"`). */
  detail?: "auto" | "low" | "high";
}

const DETAILS: readonly string[] = ["auto", "low", "high"];

/**
 * Builds an image part from the image itself (a `Blob`, a `File` or bytes):
 * the image is checked and encoded as a `data:` URL, as `describeImage()`
 * does, ready for a provider's `completion()` or `stream()`.
 *
 * The type comes from the bytes: PNG, JPEG, GIF or WebP. Bytes of anything
 * else (text, a PDF, a TIFF...) are refused whatever the file name or the
 * Blob's `type` says. Large images are fine: the encoding is one linear pass.
 *
 * @param image The image: a `Blob`, a `File` (which carries its name) or a `Uint8Array`.
 * @param options The file name, the size limit and the level of detail.
 * @returns A promise of the image part. It rejects with `InvalidImageError` (a
 * `TypeError`) for an image that is not a Blob, File or Uint8Array, empty,
 * over `maxBytes`, or not a PNG, JPEG, GIF or WebP image by its bytes (the
 * message names the file and what its bytes are); and with a `TypeError` for
 * bad options.
 *
 * @example Ask a provider about an uploaded image
 * ```ts
 * import assert from "node:assert/strict";
 * import { imagePartFromBytes, textPart } from "./chat.ts";
 *
 * const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
 * const part = await imagePartFromBytes(new File([png], "cat.png"), { detail: "low" });
 * assert.deepEqual(part, {
 *   type: "image_url",
 *   image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" },
 * });
 * const content = [textPart("Describe this image for alt text."), part];
 * assert.equal(content.length, 2); // send as the content of a user message
 *
 * // The bytes decide the type: text named like an image is refused.
 * const notes = new File(["hello world"], "notes.webp", { type: "image/webp" });
 * await assert.rejects(imagePartFromBytes(notes), {
 *   name: "InvalidImageError",
 *   message: /"notes\.webp" is not a PNG, JPEG, GIF or WebP image: its bytes are text/,
 * });
 *
 * // So is an empty image:
 * await assert.rejects(imagePartFromBytes(new Uint8Array()), { name: "InvalidImageError" });
 * ```
 */
export async function imagePartFromBytes(
  image: ImageInput,
  options: ImagePartFromBytesOptions = {},
): Promise<ImageUrlPart> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("imagePartFromBytes() options must be an object when given");
  }
  const { fileName, maxBytes, detail } = options;
  if (fileName !== undefined && typeof fileName !== "string") {
    throw new TypeError("fileName must be a string when given");
  }
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new TypeError("maxBytes must be a positive integer when given");
  }
  if (detail !== undefined && !DETAILS.includes(detail)) {
    throw new TypeError('detail must be "auto", "low" or "high" when given');
  }
  checkImageArgument(image);
  // The size first, so an oversize upload is refused before it is read.
  checkImageSize(image, maxBytes ?? DEFAULT_MAX_IMAGE_BYTES, fileName);
  const checked = await readImage(image, { fileName, maxBytes });
  return imagePart(toDataUrl(checked), detail === undefined ? {} : { detail });
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
  const tokens: TokenUsage = {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    totalTokens: usage.total_tokens,
  };
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached === "number" && cached > 0) tokens.cachedInputTokens = cached;
  return tokens;
}
