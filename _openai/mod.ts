// The client of OpenAI-compatible services (the chat completions API), on the
// module's own HTTP layer (`_http/`: guarded fetch, retries, SSE decoder), as
// the Anthropic client is. Backends and providers call `chatCompletion()` and
// `chatStream()`. Files: types.ts (settings and request types), client.ts (the
// per-settings client cache: URL, headers, fetch), http.ts (sending, with
// retries and timeouts), errors.ts (error mapping), wire.ts (the shared wire
// format), completion.ts and stream.ts (the two request kinds).
//
// Behaviour:
// - Nothing is loaded and nothing is read from the environment: importing this
//   module (or mod.ts) costs nothing, and no OPENAI_* variable changes a request.
//   Clients are cached per distinct settings (at most 32): a request's settings are
//   compared field by field with each cached client's, so two settings that differ in
//   a key, a base URL or a header never share a client.
// - The request: `POST <base URL path>/chat/completions` (the base URL's query and
//   `defaultQuery` kept), JSON, `Authorization: Bearer <key>` when there is a key and
//   no Authorization header of the settings' own, `OpenAI-Organization` when set, then
//   the settings' headers (they win whatever their case).
// - Retries: up to `maxRetries` more attempts, exponential backoff with jitter
//   (0.5 s doubling to 8 s), honouring `retry-after-ms` / `Retry-After` (up to 60 s)
//   and `x-should-retry`, for 408, 409, 429, 5xx and connection errors and timeouts.
//   A stream is only retried before its response starts; once it has started (and
//   so before any text reaches the caller) no attempt is ever repeated.
// - `timeoutMs` bounds each attempt up to the complete JSON answer; for a stream it
//   bounds the wait for the response and then every wait for bytes (a keep-alive
//   comment counts).
// - Abort: when `request.signal` aborts, the promise rejects (or the stream throws)
//   with `signal.reason`, exactly like `fetch` (a DOMException named "AbortError"
//   unless the caller gave another reason). The request and its timers end at once.
// - Every other failure is one of the errors.ts classes (see `mapError` and
//   `statusError`), with status, retryable, provider, backend, requestId and model;
//   messages never contain the API key or a header or query value (replaced by "***").
// - No redirect to another host is followed (an APIError naming the host, not retried)
//   and a response body is bounded (`_http/fetch.ts`); a stream's lines and events
//   (`maxEventChars`) and an answer (`maxAnswerChars`) are bounded too.

export type { ChatRequest, ClientSettings, StreamEvent } from "./types.ts";
export { DEFAULT_MAX_ANSWER_CHARS, DEFAULT_MAX_EVENT_CHARS } from "./types.ts";
export { chatCompletion } from "./completion.ts";
export { hostOf } from "./errors.ts";
export { chatStream } from "./stream.ts";
export { scrubText, serviceLabel } from "./errors.ts";
export { clearClientCache, clientCacheSize, isClientCached } from "./client.ts";
