// The settings and wire types of the private Anthropic Messages API client,
// and the normalised timeout and retry count every part of it uses.
import type { TokenUsage } from "../chat.ts";

/** How to reach the Anthropic Messages API (or a server that speaks it). */
export interface AnthropicSettings {
  /** The API key, sent as `x-api-key`; without one no key header is sent. */
  apiKey?: string;
  /** The base URL without `/v1`, for example `https://api.anthropic.com`. */
  baseURL: string;
  /** The `anthropic-version` header. */
  version: string;
  /** Bound of each attempt in milliseconds (for streams: the wait for each chunk). */
  timeoutMs: number;
  /** Attempts after the first one for retryable failures. */
  maxRetries: number;
  /** Extra headers sent with every request (values are secrets). */
  headers?: Record<string, string>;
  /** Provider label for errors, for example "anthropic". */
  provider?: string;
  /**
   * The service's name in messages (default: `provider`, else `backend`,
   * else the host): a gateway at another `api_base` is named by its host.
   */
  service?: string;
  /** Backend alias or class label for errors. */
  backend?: string;
  /** The longest answer, in characters (default {@link DEFAULT_MAX_ANSWER_CHARS}). */
  maxAnswerChars?: number;
  /** The longest line or event of a stream, in characters (default {@link DEFAULT_MAX_EVENT_CHARS}). */
  maxEventChars?: number;
  /** Random numbers for the retry jitter (tests). */
  random?: () => number;
}

/** The default {@link AnthropicSettings.maxAnswerChars}: 16 MiB of text (as the OpenAI client's). */
export const DEFAULT_MAX_ANSWER_CHARS: number = 16 * 1024 * 1024;
/** The default {@link AnthropicSettings.maxEventChars}: 1 MiB (as the OpenAI client's). */
export const DEFAULT_MAX_EVENT_CHARS: number = 1024 * 1024;

function positiveInteger(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/** The longest answer in characters. */
export function answerLimitOf(settings: AnthropicSettings): number {
  return positiveInteger(settings.maxAnswerChars, DEFAULT_MAX_ANSWER_CHARS);
}

/** The line and event limit of a stream in characters. */
export function eventLimitOf(settings: AnthropicSettings): number {
  return positiveInteger(settings.maxEventChars, DEFAULT_MAX_EVENT_CHARS);
}

/** The largest JSON answer body read, in bytes: four times the answer limit, plus 1 MiB. */
export function bodyLimitOf(settings: AnthropicSettings): number {
  return 4 * answerLimitOf(settings) + 1024 * 1024;
}

/** A text block of a message. */
export interface AnthropicTextBlock {
  type: "text";
  text: string;
}

/** An image block: base64 bytes with their media type, or a URL. */
export interface AnthropicImageBlock {
  type: "image";
  source:
    | { type: "base64"; media_type: string; data: string }
    | { type: "url"; url: string };
}

/** A tool call the model made (its `input` is the arguments object). */
export interface AnthropicToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

/** The answer to a tool call, sent back in a user turn. */
export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

/** One block of a message's content. */
export type AnthropicBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock;

/** One turn of the conversation. */
export interface AnthropicTurn {
  role: "user" | "assistant";
  content: string | AnthropicBlock[];
}

/** The token counts the API reports, as it names them. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/** A complete answer (`type: "message"`), checked. */
export interface AnthropicMessage {
  id: string;
  model: string;
  /** Text and tool-use blocks; other kinds (thinking...) are left out. */
  content: (AnthropicTextBlock | AnthropicToolUseBlock)[];
  stop_reason: string | null;
  usage: AnthropicUsage | undefined;
}

/** One Messages API request: the body (without `stream`) and its signal. */
export interface MessagesRequest {
  /** The JSON body: model, max_tokens, messages, system... */
  body: Record<string, unknown> & { model: string };
  /** Ends the request or stream when aborted. */
  signal?: AbortSignal;
}

/** An event of a streamed answer: a piece of text, or the token usage (last). */
export type AnthropicStreamEvent =
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: TokenUsage };

/** The attempt timeout in whole milliseconds (at least 1). */
export function timeoutOf(settings: AnthropicSettings): number {
  const ms = Number(settings.timeoutMs);
  return Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : 1;
}

/** The retry count (a non-negative integer). */
export function retriesOf(settings: AnthropicSettings): number {
  const n = Number(settings.maxRetries);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}
