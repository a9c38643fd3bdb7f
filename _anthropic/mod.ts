// The private Anthropic Messages API client, on plain `fetch` (no SDK): the
// one folder that speaks Anthropic's wire format. Providers call
// `createMessage()` and `streamMessage()`; no wire type leaves through the
// public API. Files: types.ts (settings and wire types), http.ts (sending
// with retries, timeouts, abort, redirects refused, bounded bodies),
// errors.ts (error mapping, scrubbing), wire.ts (messages, options, usage),
// completion.ts and stream.ts (the two request kinds).
//
// Behaviour, as for the OpenAI client in ../_openai/:
// - Retries: up to `maxRetries` more attempts, exponential backoff with jitter,
//   honouring `retry-after-ms` / `retry-after` (seconds or an HTTP date, up to
//   60 s) and `x-should-retry`, for 408, 409, 429, 5xx, 529, connection errors
//   and timeouts; a stream only before its response starts.
// - `timeoutMs` bounds each attempt up to the complete JSON answer; for a stream
//   it bounds the wait for the response, then every wait for the next bytes.
// - Abort: the caller's signal ends the request or stream at once and it rejects
//   (or throws) with `signal.reason`.
// - Redirects are refused (an APIError naming the target host, not retried), so
//   the key and the prompt never reach another host.
// - Messages never contain the API key or a header value (replaced by "***").
export type {
  AnthropicMessage,
  AnthropicSettings,
  AnthropicStreamEvent,
  AnthropicToolUseBlock,
  AnthropicTurn,
  MessagesRequest,
} from "./types.ts";
export { createMessage, messageText } from "./completion.ts";
export { streamMessage } from "./stream.ts";
export {
  checkUsage,
  finishReason,
  toAnthropicOptions,
  toConversation,
  toTokenUsage,
} from "./wire.ts";
export { scrubText } from "./errors.ts";
