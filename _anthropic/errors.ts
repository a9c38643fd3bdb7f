// Error mapping of the private Anthropic client: an HTTP error answer, a
// stream `error` event, a transport failure or a bad body becomes an
// errors.ts class (or the caller's abort reason), and no message holds the
// API key or a header value.
import {
  APIError,
  type APIErrorOptions,
  AuthenticationError,
  ConnectionError,
  ContextLengthError,
  NotFoundError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
} from "../errors.ts";
import { maskUrl, scrub, urlSecrets } from "../_redact.ts";
import { retryAfterSeconds } from "../_http/retry_after.ts";
import { type AnthropicSettings, retriesOf, timeoutOf } from "./types.ts";

const secretsCache = new WeakMap<AnthropicSettings, string[]>();

/**
 * The values that must never appear in a message: the key, the header
 * values, and the credentials of the base URL (its user name and password,
 * query parameters named like a key or token), each also in its URL form.
 */
export function secretsOf(settings: AnthropicSettings): string[] {
  const known = secretsCache.get(settings);
  if (known !== undefined) return known;
  const secrets = [
    settings.apiKey,
    ...Object.values(settings.headers ?? {}),
    ...urlSecrets(settings.baseURL),
  ].filter((value): value is string => typeof value === "string" && value.length >= 4);
  const all = [...new Set([...secrets, ...secrets.map(encodeURIComponent)])]
    .sort((a, b) => b.length - a.length);
  secretsCache.set(settings, all);
  return all;
}

/**
 * `text` with every secret of `settings` replaced by `***`, and the
 * credentials of any URL in it masked (a runtime's message quotes the URL
 * it failed to reach, query included).
 */
export function scrubText(text: string, settings: AnthropicSettings): string {
  return scrub(text, secretsOf(settings)).replace(/https?:\/\/[^\s()<>"']+/gi, maskUrl);
}

/** The longest request id kept (a header is the server's to fill). */
const MAX_REQUEST_ID = 200;

/** A response's request id (`request-id`, `x-request-id`), scrubbed and bounded, or undefined. */
export function requestIdOf(headers: Headers, settings: AnthropicSettings): string | undefined {
  const id = headers.get("request-id") ?? headers.get("x-request-id");
  if (id === null || id === "") return undefined;
  return truncate(scrubText(id, settings), MAX_REQUEST_ID);
}

/** Cuts a text to `max` characters (after scrubbing, so no secret is left half-masked). */
export function truncate(text: string, max = 500): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

/** The service's name in messages: `service`, the provider, the backend, else the host. */
export function serviceLabel(settings: AnthropicSettings): string {
  if (settings.service) return settings.service;
  if (settings.provider) return settings.provider;
  if (settings.backend) return settings.backend;
  try {
    return new URL(settings.baseURL).host;
  } catch {
    return "the AI service";
  }
}

/** The base URL without credentials or query, for messages. */
export function safeBaseURL(settings: AnthropicSettings): string {
  try {
    const url = new URL(settings.baseURL);
    return `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, "");
  } catch {
    return "(invalid base URL)";
  }
}

/** What every error of a request carries. */
export function baseOptions(settings: AnthropicSettings, model: string): APIErrorOptions {
  return { provider: settings.provider, backend: settings.backend, model };
}

function afterRetries(settings: AnthropicSettings): string {
  const retries = retriesOf(settings);
  return retries > 0 ? ` (after ${retries} ${retries === 1 ? "retry" : "retries"})` : "";
}

/** The `{type, message}` of an Anthropic error body (`{type: "error", error: {...}}`), when it is one. */
export function errorBody(value: unknown): { type: string; message: string } | undefined {
  if (!value || typeof value !== "object") return undefined;
  const error = (value as { error?: unknown }).error;
  if (!error || typeof error !== "object") return undefined;
  const { type, message } = error as { type?: unknown; message?: unknown };
  return {
    type: typeof type === "string" ? type : "error",
    message: typeof message === "string" ? message : "",
  };
}

// "prompt is too long: 210000 tokens > 200000 maximum", "input length and `max_tokens` exceed
// context limit: 197000 + 8192 > 200000, ...", and the OpenAI-style wordings.
const CONTEXT_PATTERN =
  /prompt is too long|context[ _-]?(length|window|limit)|maximum context|too many tokens|exceeds? (the )?context/i;

/** Whether an error body's message says the prompt does not fit the context window. */
export function isContextMessage(message: string): boolean {
  return CONTEXT_PATTERN.test(message);
}

/** The prompt's tokens and the window, when the message gives them. */
function contextCounts(message: string): { promptTokens?: number; contextWindow?: number } {
  const sum = /(\d+)\s*\+\s*\d+\s*>\s*(\d+)/.exec(message);
  const over = sum ?? /(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(message);
  if (over === null) return {};
  const promptTokens = Number(over[1]);
  const contextWindow = Number(over[2]);
  return Number.isSafeInteger(promptTokens) && Number.isSafeInteger(contextWindow)
    ? { promptTokens, contextWindow }
    : {};
}

/** The error of a context-window overflow the service reported (as the OpenAI path's). */
function contextError(
  model: string,
  status: number | undefined,
  detail: string,
  message: string,
  options: APIErrorOptions,
): ContextLengthError {
  const at = status === undefined ? "" : ` (HTTP ${status})`;
  return new ContextLengthError(
    `The prompt does not fit the context window of model "${model}"${at}: ${detail}`,
    { ...options, ...contextCounts(message), retryable: false },
  );
}

/**
 * The error of an HTTP error answer: its status, the body's message (read
 * by the caller, bounded), the request id, and for a 429 the server's wait
 * (`retryAfterSeconds`, from the response headers).
 */
export function httpError(
  settings: AnthropicSettings,
  model: string,
  status: number,
  bodyText: string,
  requestId: string | undefined,
  headers?: Headers,
): APIError {
  const label = serviceLabel(settings);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const body = errorBody(parsed);
  // A body that is not Anthropic's error shape is described, not quoted (it could be anything).
  const detail = body
    ? truncate(scrubText(`${body.type}: ${body.message}`, settings))
    : bodyText.trim() === ""
    ? "no error body"
    : "an error body that is not Anthropic's JSON error shape";
  const options: APIErrorOptions = { ...baseOptions(settings, model), status, requestId };
  if (status === 401 || status === 403) {
    return new AuthenticationError(
      `${label} refused the credentials (HTTP ${status}) for model "${model}": ${detail}`,
      options,
    );
  }
  if (status === 404) {
    return new NotFoundError(
      `Model "${model}" or its endpoint was not found at ${label} (HTTP 404): ${detail}`,
      options,
    );
  }
  if (
    status === 413 || body?.type === "request_too_large" ||
    (status === 400 && isContextMessage(body?.message ?? ""))
  ) {
    return contextError(model, status, detail, body?.message ?? "", options);
  }
  if (status === 429) {
    const wait = headers === undefined ? undefined : retryAfterSeconds(headers);
    return new RateLimitError(
      `${label} is rate limiting (HTTP 429)${
        afterRetries(settings)
      } for model "${model}": ${detail}`,
      wait === undefined ? options : { ...options, retryAfterSeconds: wait },
    );
  }
  if (status === 529) {
    return new APIError(
      `${label} is overloaded (HTTP 529)${afterRetries(settings)} for model "${model}": ${detail}`,
      { ...options, retryable: true },
    );
  }
  return new APIError(
    `${label} answered HTTP ${status}${
      status >= 500 ? afterRetries(settings) : ""
    } for model "${model}": ${detail}`,
    options,
  );
}

/**
 * A redirect that was not followed: to another origin (the key and the prompt
 * must not reach another host), too many times, or without a place to go.
 * `target` is the host (`name:port`) for `"cross-origin"`, never a path or query.
 */
export function redirectError(
  settings: AnthropicSettings,
  model: string,
  status: number,
  target: string,
  reason: "cross-origin" | "too-many" | "invalid" | "unreplayable",
): APIError {
  const why = reason === "cross-origin"
    ? `to host "${scrubText(target, settings)}": redirects to another host are not followed for ` +
      "AI requests (set api_base to the final URL)"
    : reason === "too-many"
    ? `more than ${target} times on the same host`
    : "to an invalid or missing location";
  return new APIError(
    `${
      serviceLabel(settings)
    } answered with a redirect (HTTP ${status}) ${why} for model "${model}"`,
    { ...baseOptions(settings, model), status, retryable: false },
  );
}

/** An attempt that took longer than the timeout. */
export function timeoutError(settings: AnthropicSettings, model: string): TimeoutError {
  return new TimeoutError(
    `Request to ${serviceLabel(settings)} for model "${model}" timed out after ${
      timeoutOf(settings)
    } ms${afterRetries(settings)}`,
    { ...baseOptions(settings, model), retryable: true },
  );
}

/** A stream that sent nothing for the timeout. */
export function streamTimeoutError(settings: AnthropicSettings, model: string): TimeoutError {
  return new TimeoutError(
    `The stream from ${serviceLabel(settings)} for model "${model}" sent nothing for ${
      timeoutOf(settings)
    } ms`,
    { ...baseOptions(settings, model), retryable: true },
  );
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

/** The service could not be reached (or the connection broke before the answer). */
export function connectionError(
  settings: AnthropicSettings,
  model: string,
  error: unknown,
): ConnectionError {
  return new ConnectionError(
    `Cannot connect to ${serviceLabel(settings)} at ${safeBaseURL(settings)}${
      afterRetries(settings)
    }: ${truncate(scrubText(reasonOf(error), settings))}`,
    { ...baseOptions(settings, model), retryable: true },
  );
}

/** The connection broke while a stream was being read. */
export function brokenStreamError(
  settings: AnthropicSettings,
  model: string,
  error: unknown,
): StreamInterruptedError {
  return new StreamInterruptedError(
    `The stream from ${serviceLabel(settings)} for model "${model}" broke off: ${
      truncate(scrubText(reasonOf(error), settings))
    }`,
    { ...baseOptions(settings, model), retryable: true },
  );
}

// Stream error types that say the service failed mid-answer (trying again may work).
const TRANSIENT_STREAM_ERRORS = new Set(["overloaded_error", "api_error", "rate_limit_error"]);

/**
 * A stream's `error` event: `StreamInterruptedError` (retryable) when the
 * service failed mid-answer (overloaded, an internal error), else `APIError`.
 */
export function streamEventError(
  settings: AnthropicSettings,
  model: string,
  data: unknown,
): APIError {
  const body = errorBody(data) ?? { type: "error", message: "" };
  const detail = truncate(scrubText(`${body.type}: ${body.message}`, settings));
  const label = serviceLabel(settings);
  if (body.type === "invalid_request_error" && isContextMessage(body.message)) {
    return contextError(
      model,
      undefined,
      detail,
      body.message,
      baseOptions(settings, model),
    );
  }
  if (TRANSIENT_STREAM_ERRORS.has(body.type)) {
    return new StreamInterruptedError(
      `The stream from ${label} for model "${model}" was interrupted by an error event: ${detail}`,
      { ...baseOptions(settings, model), retryable: true },
    );
  }
  return new APIError(
    `${label} reported an error in the stream for model "${model}": ${detail}`,
    { ...baseOptions(settings, model), retryable: false },
  );
}

/** A 200 answer that cannot be used, saying what was wrong (never quoting the body). */
export function unusableAnswer(
  settings: AnthropicSettings,
  model: string,
  what: string,
  requestId?: string,
): APIError {
  return new APIError(
    `${serviceLabel(settings)} sent an unusable answer for model "${model}": ${what}`,
    { ...baseOptions(settings, model), status: 200, retryable: false, requestId },
  );
}
