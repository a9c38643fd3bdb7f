// The Anthropic wire format: our chat messages as `system` and user/assistant
// turns with text and image blocks, chat options under the API's names, and
// the usage and stop reasons back in ours.
import type { ChatMessage, ChatOptions, ContentPart, TokenUsage } from "../chat.ts";
import { sniffImageType } from "../_image.ts";
import type {
  AnthropicBlock,
  AnthropicMessage,
  AnthropicTextBlock,
  AnthropicTurn,
  AnthropicUsage,
} from "./types.ts";

/** The system prompt and the turns of a conversation. */
export interface AnthropicConversation {
  /** The leading system messages' text, joined by a blank line (undefined when none). */
  system: string | undefined;
  /** The other messages; a system message after the first turn becomes user text. */
  messages: AnthropicTurn[];
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*?);base64,/i;

/** The bytes a base64 text starts with (enough to sniff a type). */
function headBytes(base64: string, count = 16): Uint8Array {
  const head = base64.slice(0, Math.ceil(count / 3) * 4).replace(/[^A-Za-z0-9+/]/g, "");
  try {
    const binary = atob(head.slice(0, head.length - (head.length % 4)));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

/**
 * An image part as an Anthropic image block: a base64 `data:` URL becomes a
 * `base64` source whose media type is sniffed from the bytes (the declared
 * one when the bytes say nothing), any other URL a `url` source.
 *
 * @throws {TypeError} for a `data:` URL that is not base64.
 */
export function imageBlock(url: string): AnthropicBlock {
  if (!/^data:/i.test(url)) return { type: "image", source: { type: "url", url } };
  const match = DATA_URL.exec(url);
  if (!match) {
    throw new TypeError("An image_url data: URL must be base64 (data:<type>;base64,<bytes>)");
  }
  const data = url.slice(match[0].length);
  const declared = match[1].toLowerCase();
  const media_type = sniffImageType(headBytes(data)) ?? (declared || "image/jpeg");
  return { type: "image", source: { type: "base64", media_type, data } };
}

function blocksOf(content: string | ContentPart[]): string | AnthropicBlock[] {
  if (typeof content === "string") return content;
  return content.map((part): AnthropicBlock =>
    part.type === "text" ? { type: "text", text: part.text } : imageBlock(part.image_url.url)
  );
}

function textOf(content: string | ContentPart[]): string {
  if (typeof content === "string") return content;
  return content.filter((part) => part.type === "text").map((part) => part.text).join("\n");
}

/**
 * Splits messages into the `system` prompt (the system messages before the
 * first user or assistant message) and the turns. A later system message
 * (the OpenAI backend's postPrompt) becomes a user turn with its text, since
 * the API takes system text only at the top.
 */
export function toConversation(messages: readonly ChatMessage[]): AnthropicConversation {
  const system: string[] = [];
  const turns: AnthropicTurn[] = [];
  for (const message of messages) {
    if (message.role === "system") {
      const text = textOf(message.content);
      if (turns.length === 0) {
        if (text !== "") system.push(text);
      } else {
        turns.push({ role: "user", content: [{ type: "text", text }] });
      }
      continue;
    }
    turns.push({ role: message.role, content: blocksOf(message.content) });
  }
  return { system: system.length === 0 ? undefined : system.join("\n\n"), messages: turns };
}

// OpenAI options with no Anthropic meaning: refused at the call rather than sent
// (the API answers 400) or dropped without a word.
const OPENAI_ONLY: Readonly<Record<string, string>> = {
  seed: "",
  frequency_penalty: "",
  presence_penalty: "",
  logit_bias: "",
  logprobs: "",
  top_logprobs: "",
  n: " (one answer per request)",
  response_format: " (use completeObject() for JSON that follows a schema)",
  parallel_tool_calls: "",
  reasoning_effort: ' (use "thinking")',
};

/**
 * Chat options under the Messages API's names: `max_tokens` (the smaller of
 * `max_tokens` and `max_completion_tokens`), `stop` as `stop_sequences`,
 * `user` as `metadata.user_id` (the only metadata sent); `metadata` (the
 * call's, for usage events) dropped; `temperature`, `top_p`, `top_k` and any
 * other key (`thinking`, `tools`...) as they are.
 *
 * @throws {TypeError} for an OpenAI option the API does not take, naming it.
 */
export function toAnthropicOptions(
  options: ChatOptions,
  method: string,
): { maxTokens: number | undefined; rest: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  let maxTokens: number | undefined;
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue;
    if (Object.hasOwn(OPENAI_ONLY, name)) {
      throw new TypeError(
        `${method}() option "${name}" is not taken by the Anthropic Messages API${
          OPENAI_ONLY[name]
        }`,
      );
    }
    if (name === "max_tokens" || name === "max_completion_tokens") {
      if (!(Number.isSafeInteger(value) && (value as number) > 0)) {
        throw new TypeError(`${name} must be a positive integer, got ${String(value)}`);
      }
      maxTokens = maxTokens === undefined ? value as number : Math.min(maxTokens, value as number);
    } else if (name === "stop") {
      const stops = typeof value === "string" ? [value] : value;
      if (!Array.isArray(stops) || !stops.every((stop) => typeof stop === "string")) {
        throw new TypeError("stop must be a string or an array of strings");
      }
      rest.stop_sequences = stops;
    } else if (name === "user") {
      if (typeof value !== "string") throw new TypeError("user must be a string");
      rest.metadata = { ...(rest.metadata as object | undefined), user_id: value };
    } else if (name === "metadata") {
      // The call's metadata (for usage events) is never sent.
      continue;
    } else {
      rest[name] = value;
    }
  }
  return { maxTokens, rest };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The API's usage, checked (non-negative safe integers only), or undefined. */
export function checkUsage(value: unknown): AnthropicUsage | undefined {
  if (!value || typeof value !== "object") return undefined;
  const usage = value as Record<string, unknown>;
  return {
    input_tokens: count(usage.input_tokens),
    output_tokens: count(usage.output_tokens),
    cache_creation_input_tokens: count(usage.cache_creation_input_tokens),
    cache_read_input_tokens: count(usage.cache_read_input_tokens),
  };
}

/**
 * Usage in our shape: `inputTokens` counts the whole prompt (the tokens
 * written to and read from the prompt cache included), of which
 * `cachedInputTokens` were read from the cache and `cacheWriteInputTokens`
 * written to it (each when non-zero, priced apart by `PRICES`);
 * `outputTokens` the answer.
 */
export function toTokenUsage(usage: AnthropicUsage): TokenUsage {
  const written = usage.cache_creation_input_tokens ?? 0;
  const read = usage.cache_read_input_tokens ?? 0;
  const input = usage.input_tokens + written + read;
  const tokens: TokenUsage = {
    inputTokens: input,
    outputTokens: usage.output_tokens,
    totalTokens: input + usage.output_tokens,
  };
  if (read > 0) tokens.cachedInputTokens = read;
  if (written > 0) tokens.cacheWriteInputTokens = written;
  return tokens;
}

const STOP_REASONS: Readonly<Record<string, string>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** An Anthropic `stop_reason` as an OpenAI `finish_reason` (unknown ones as they are). */
export function finishReason(stopReason: string | null): string | null {
  if (stopReason === null) return null;
  return Object.hasOwn(STOP_REASONS, stopReason) ? STOP_REASONS[stopReason] : stopReason;
}

/** The text of an answer: its text blocks joined. */
export function messageText(message: AnthropicMessage): string {
  return message.content
    .filter((block): block is AnthropicTextBlock => block.type === "text")
    .map((block) => block.text)
    .join("");
}
