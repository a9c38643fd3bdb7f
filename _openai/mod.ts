// The private OpenAI client: the one folder that talks to the `openai` npm
// package. Backends and providers call `chatCompletion()` and `chatStream()`;
// no npm type leaves this folder. Files: types.ts (settings and request types),
// client.ts (loading and the client cache), errors.ts (error mapping), wire.ts
// (the shared wire format), completion.ts and stream.ts (the two request kinds).
//
// Behaviour:
// - `openai` is loaded with `await import("openai")` on first use, so importing this
//   module (or mod.ts) loads nothing. Clients are cached per distinct settings (at most
//   32): a request's settings are compared field by field with each cached client's, so
//   two settings that differ in a key, a base URL or a header never share a client.
// - Retries are the client's own: up to `maxRetries` more attempts, exponential backoff
//   with jitter, honouring `retry-after-ms` / `Retry-After`, for 408, 409, 429, 5xx and
//   connection errors and timeouts. A stream is only retried before its response
//   starts; once it has started (and so before any text reaches the caller) no attempt
//   is ever repeated.
// - `timeoutMs` bounds each attempt up to the complete JSON answer; for a stream it
//   bounds the wait for the response and then every wait for bytes (a keep-alive
//   comment counts).
// - Abort: when `request.signal` aborts, the promise rejects (or the stream throws)
//   with `signal.reason`, exactly like `fetch` (a DOMException named "AbortError"
//   unless the caller gave another reason). The request and its timers end at once.
// - Every other failure is one of the errors.ts classes (see `mapError`), with
//   status, retryable, provider, backend, requestId and model; messages never
//   contain the API key or a header or query value (replaced by "***").
// - Without an API key no Authorization header is sent (keyless local servers).
// - The client is given explicit values for everything it would otherwise take from
//   OPENAI_* environment variables (key, base URL, organization, project, log level),
//   and its default headers are set again after it is built, so OPENAI_CUSTOM_HEADERS
//   (which it still reads) has no effect.
// - No redirect to another host is followed (an APIError naming the host, not retried)
//   and a response body is bounded (`_http/fetch.ts`); a stream's lines and events
//   (`maxEventChars`) and an answer (`maxAnswerChars`) are bounded too.

export type { ChatRequest, ClientSettings, StreamEvent } from "./types.ts";
export { DEFAULT_MAX_ANSWER_CHARS, DEFAULT_MAX_EVENT_CHARS } from "./types.ts";
export { chatCompletion } from "./completion.ts";
export { hostOf } from "./errors.ts";
export { chatStream } from "./stream.ts";
export { scrubText, serviceLabel } from "./errors.ts";
export {
  clearClientCache,
  clientCacheSize,
  isClientCached,
  isClientLoaded,
  preloadClient,
} from "./client.ts";
