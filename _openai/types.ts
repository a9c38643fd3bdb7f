// The settings and request types of the OpenAI-compatible client, and the
// normalised timeout and retry count every part of it uses.
import type { ChatMessage, ChatOptions, TokenUsage } from "../chat.ts";

/** How to reach an OpenAI-compatible service. */
export interface ClientSettings {
  /** The API key; without one no Authorization header is sent. */
  apiKey?: string;
  /** Base URL, for example `https://api.openai.com/v1`. */
  baseURL: string;
  /** Bound of each attempt in milliseconds (for streams: the wait for each chunk). */
  timeoutMs: number;
  /** Attempts after the first one for retryable failures. */
  maxRetries: number;
  /** Extra headers sent with every request (values are secrets). */
  headers?: Record<string, string>;
  /** OpenAI organization id (`OpenAI-Organization` header). */
  organization?: string;
  /** Query parameters added to every request (values are secrets), e.g. `api-version`. */
  defaultQuery?: Record<string, string>;
  /** Provider label for errors, for example "openai". */
  provider?: string;
  /**
   * The service's name in messages (default: `provider`, else `backend`, else
   * the host): callers give the host when the base URL is not the provider's own.
   */
  service?: string;
  /** Backend alias or class label for errors. */
  backend?: string;
  /**
   * The longest answer, in characters (UTF-16 code units), default 16 MiB: a
   * longer one is an `APIError` and the request is ended. A JSON answer's body
   * may take four times this in bytes, plus 1 MiB.
   */
  maxAnswerChars?: number;
  /** The longest line or event of a stream, in characters (default 1 MiB). */
  maxEventChars?: number;
}

/** One chat request. */
export interface ChatRequest {
  /** The model id sent to the service. */
  model: string;
  /** The conversation. */
  messages: ChatMessage[];
  /** Sampling and length options, passed through. */
  options?: ChatOptions;
  /** Ends the request or stream when aborted. */
  signal?: AbortSignal;
}

/**
 * An event of a streamed answer: a piece of text, why the answer ended (the
 * service's `finish_reason`: `"length"` when the output cap cut it), or the
 * token usage (last).
 */
export type StreamEvent =
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: TokenUsage };

/** The default {@link ClientSettings.maxAnswerChars}: 16 MiB of text. */
export const DEFAULT_MAX_ANSWER_CHARS: number = 16 * 1024 * 1024;
/** The default {@link ClientSettings.maxEventChars}: 1 MiB. */
export const DEFAULT_MAX_EVENT_CHARS: number = 1024 * 1024;

function positiveInteger(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : fallback;
}

/** The answer limit in characters. */
export function answerLimitOf(settings: ClientSettings): number {
  return positiveInteger(settings.maxAnswerChars, DEFAULT_MAX_ANSWER_CHARS);
}

/** The line and event limit of a stream in characters. */
export function eventLimitOf(settings: ClientSettings): number {
  return positiveInteger(settings.maxEventChars, DEFAULT_MAX_EVENT_CHARS);
}

/** The largest response body read, in bytes: four times the answer limit, plus 1 MiB. */
export function bodyLimitOf(settings: ClientSettings): number {
  return 4 * answerLimitOf(settings) + 1024 * 1024;
}

/** The attempt timeout in whole milliseconds (at least 1). */
export function timeoutOf(settings: ClientSettings): number {
  const ms = Number(settings.timeoutMs);
  return Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : 1;
}

/** The retry count (a non-negative integer). */
export function retriesOf(settings: ClientSettings): number {
  const n = Number(settings.maxRetries);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}
