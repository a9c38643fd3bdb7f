// Error mapping of the OpenAI-compatible client: an HTTP status becomes an
// errors.ts class (`statusError`), and so does anything thrown while talking to
// the service (`mapError`), or it becomes the caller's abort reason; no message
// holds the API key or a header or query value.
import {
  APIError,
  type APIErrorOptions,
  AuthenticationError,
  ConnectionError,
  ContextLengthError,
  ImproperlyConfigured,
  NotFoundError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
} from "../errors.ts";
import { BodyTooLargeError } from "../_http/fetch.ts";
import { abortReason } from "../_http/retry.ts";
import { retryAfterSeconds } from "../_http/retry_after.ts";
import { jsonSyntaxReason, urlSecrets } from "../_redact.ts";
import { type ClientSettings, retriesOf, timeoutOf } from "./types.ts";

/** What an error is mapped in the context of. */
export interface ErrorContext {
  settings: ClientSettings;
  model: string;
  signal: AbortSignal | undefined;
  /** Whether a streamed response had already started. */
  streaming: boolean;
}

const MASK = "***";

/** The secrets of one settings object, with what they were found from (to see a change). */
interface KnownSecrets {
  apiKey: string | undefined;
  baseURL: string;
  values: unknown[];
  secrets: string[];
}

// The secrets of each settings object seen: every answer's request id is scrubbed, and finding
// them parses the base URL. Kept while the object lives; found again when what they come from
// changed (a settings object is not meant to change, but nothing depends on it).
const knownSecrets = new WeakMap<ClientSettings, KnownSecrets>();

function secretValues(settings: ClientSettings): unknown[] {
  const { headers, defaultQuery } = settings;
  if (headers === undefined && defaultQuery === undefined) return [];
  return [...Object.values(headers ?? {}), ...Object.values(defaultQuery ?? {})];
}

function sameValues(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function secretsOf(settings: ClientSettings): string[] {
  const values = secretValues(settings);
  const known = knownSecrets.get(settings);
  if (
    known !== undefined && known.apiKey === settings.apiKey &&
    known.baseURL === settings.baseURL && sameValues(known.values, values)
  ) {
    return known.secrets;
  }
  const secrets = findSecrets(settings, values);
  knownSecrets.set(settings, {
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    values,
    secrets,
  });
  return secrets;
}

function findSecrets(settings: ClientSettings, values: unknown[]): string[] {
  const secrets = [
    settings.apiKey,
    ...values,
    // A credential in the base URL (`?api-key=`, `user:password@`) comes back when a server
    // echoes the URL it was asked.
    ...urlSecrets(settings.baseURL),
  ].filter((value): value is string => typeof value === "string" && value.length >= 4);
  // Also the forms they take in a URL: percent-encoded, as a URL's query serializes it
  // (`'` too), and form-encoded (a space as `+`).
  const forms = secrets.flatMap((secret) => {
    const encoded = encodeURIComponent(secret);
    return [
      encoded,
      encoded.replaceAll("'", "%27"),
      new URLSearchParams([["", secret]]).toString().slice(1),
    ];
  });
  return [...new Set([...secrets, ...forms])].sort((a, b) => b.length - a.length);
}

/** `text` with every secret of `settings` (the key, header and query values...) masked. */
export function scrubText(text: string, settings: ClientSettings): string {
  let out = text;
  for (const secret of secretsOf(settings)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

export function serviceLabel(settings: ClientSettings): string {
  if (settings.service) return settings.service;
  if (settings.provider) return settings.provider;
  if (settings.backend) return settings.backend;
  try {
    return new URL(settings.baseURL).host;
  } catch {
    return "the AI service";
  }
}

/** The host (and port) of a URL, for messages; the URL as it is when it cannot be read. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** The base URL without credentials or query, for messages. */
export function safeBaseURL(settings: ClientSettings): string {
  try {
    const url = new URL(settings.baseURL);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "(invalid base URL)";
  }
}

export { abortReason };

export function truncate(text: string, max = 500): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

/**
 * The service's message and error code from an error body: OpenAI's
 * `{"error": {"message", "code"}}`, a bare `{"message"}` or `{"error": "..."}`,
 * else the body's text; `(no body)` when it is empty.
 */
export function errorDetails(text: string): { message: string; code: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { message: "(no body)", code: "" };
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch {
    return { message: trimmed, code: "" };
  }
  if (data && typeof data === "object" && !Array.isArray(data)) {
    const body = data as Record<string, unknown>;
    const error = body.error;
    if (error && typeof error === "object" && !Array.isArray(error)) {
      const detail = error as Record<string, unknown>;
      return {
        message: typeof detail.message === "string" ? detail.message : JSON.stringify(detail),
        code: typeof detail.code === "string" ? detail.code : "",
      };
    }
    if (typeof error === "string") return { message: error, code: "" };
    if (typeof body.message === "string") {
      return { message: body.message, code: typeof body.code === "string" ? body.code : "" };
    }
  }
  return { message: trimmed, code: "" };
}

function refusedRedirect(
  reason: string,
  target: string,
  label: string,
  model: string,
  status: number | undefined,
  settings: ClientSettings,
): string {
  const what = `${label} redirected the request for model "${model}" (HTTP ${status})`;
  switch (reason) {
    case "cross-origin":
      return `${what} to another host (${target}): refused, so that the credentials and the ` +
        `prompt stay with ${safeBaseURL(settings)}`;
    case "too-many":
      return `${what} more than ${target} times`;
    case "unreplayable":
      return `${what}, and the request body cannot be sent again`;
    default:
      return `${what} to an invalid URL`;
  }
}

const CONTEXT_PATTERN =
  /context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|reduce the length/i;

/** The labels every error of a request carries. */
function baseOf(settings: ClientSettings, model: string): APIErrorOptions {
  return { provider: settings.provider, backend: settings.backend, model };
}

/** `text` with the secrets of `settings` masked, then cut (so a cut cannot leave half a secret). */
function cleanText(text: string, settings: ClientSettings): string {
  return truncate(scrubText(text, settings));
}

/** ` (after N retries)` when the settings allow retries: said of failures that are retried. */
function afterRetries(settings: ClientSettings): string {
  const retries = retriesOf(settings);
  return retries > 0 ? ` (after ${retries} ${retries === 1 ? "retry" : "retries"})` : "";
}

/** An attempt (the last one) that did not finish within the timeout. */
export function timeoutError(settings: ClientSettings, model: string): TimeoutError {
  return new TimeoutError(
    `Request to ${serviceLabel(settings)} for model "${model}" timed out after ${
      timeoutOf(settings)
    } ms${afterRetries(settings)}`,
    { ...baseOf(settings, model), retryable: true },
  );
}

/** A connection that could not be made (or broke before the answer). */
export function connectionError(
  settings: ClientSettings,
  model: string,
  reason: string,
  retryable = true,
): ConnectionError {
  return new ConnectionError(
    `Cannot connect to ${serviceLabel(settings)} at ${cleanText(safeBaseURL(settings), settings)}${
      retryable ? afterRetries(settings) : ""
    }: ${cleanText(reason, settings)}`,
    { ...baseOf(settings, model), retryable },
  );
}

/** An answer whose connection broke while its body was read (retryable for the caller). */
export function brokenAnswerError(
  settings: ClientSettings,
  model: string,
  reason: string,
): ConnectionError {
  return new ConnectionError(
    `The answer from ${serviceLabel(settings)} for model "${model}" broke off while it was read: ${
      cleanText(reason, settings)
    }`,
    { ...baseOf(settings, model), retryable: true },
  );
}

/** A redirect that was not followed (see RedirectRefusedError), not retried. */
export function redirectError(
  settings: ClientSettings,
  model: string,
  status: number,
  target: string,
  reason: string,
): APIError {
  return new APIError(
    cleanText(
      refusedRedirect(reason, target, serviceLabel(settings), model, status, settings),
      settings,
    ),
    { ...baseOf(settings, model), status, retryable: false },
  );
}

/**
 * The error of an HTTP answer that is not a success, from its status and body
 * (`errorDetails`): AuthenticationError (401, 403), RateLimitError (429, with
 * the server's wait), NotFoundError (404), ContextLengthError (400, 413 or
 * 422 saying so), else APIError.
 */
export function statusError(
  settings: ClientSettings,
  model: string,
  status: number,
  body: string,
  requestId: string | undefined,
  headers: Headers,
): APIError {
  const label = serviceLabel(settings);
  const options: APIErrorOptions = { ...baseOf(settings, model), status, requestId };
  const details = errorDetails(body);
  const message = cleanText(details.message, settings);
  const after = afterRetries(settings);
  if (status === 401 || status === 403) {
    return new AuthenticationError(
      `${label} refused the credentials (HTTP ${status}) for model "${model}": ${message}`,
      options,
    );
  }
  if (status === 429) {
    const retryAfter = retryAfterSeconds(headers);
    return new RateLimitError(
      `${label} is rate limiting (HTTP 429)${after} for model "${model}": ${message}`,
      retryAfter === undefined ? options : { ...options, retryAfterSeconds: retryAfter },
    );
  }
  if (status === 404) {
    return new NotFoundError(
      `Model "${model}" or its endpoint was not found at ${label} (HTTP 404): ${message}`,
      options,
    );
  }
  if (
    (status === 400 || status === 413 || status === 422) &&
    (details.code === "context_length_exceeded" || CONTEXT_PATTERN.test(message))
  ) {
    return new ContextLengthError(
      `The prompt does not fit the context window of model "${model}" (HTTP ${status}): ${message}`,
      options,
    );
  }
  return new APIError(
    `${label} answered HTTP ${status}${
      status >= 500 ? after : ""
    } for model "${model}": ${message}`,
    options,
  );
}

/**
 * Turns anything thrown while talking to the service into an errors.ts class, or
 * into the abort reason when the caller aborted.
 */
export function mapError(error: unknown, context: ErrorContext): unknown {
  const { settings, model, signal } = context;
  if (signal?.aborted) return abortReason(signal);
  if (
    error instanceof APIError || error instanceof ImproperlyConfigured ||
    (error instanceof DOMException && error.name === "AbortError")
  ) {
    return error;
  }
  const label = serviceLabel(settings);
  const base = baseOf(settings, model);
  const clean = (text: string) => cleanText(text, settings);
  if (error instanceof BodyTooLargeError) {
    return new APIError(
      `${label} sent an answer larger than ${error.max} bytes for model "${model}": ` +
        "the request was ended",
      { ...base, retryable: false },
    );
  }
  if (error instanceof SyntaxError) {
    // The parser's message quotes the body, which may hold anything: only its reason is kept.
    return new APIError(
      `${label} sent malformed JSON for model "${model}": ${clean(jsonSyntaxReason(error))}`,
      { ...base, status: 200, retryable: false },
    );
  }
  if (context.streaming) {
    return new StreamInterruptedError(
      `The stream from ${label} for model "${model}" broke off: ${clean(String(error))}`,
      { ...base, retryable: true },
    );
  }
  if (error instanceof TypeError) return connectionError(settings, model, error.message);
  return new APIError(
    `Unexpected failure talking to ${label} for model "${model}": ${
      clean(error instanceof Error ? error.message : String(error))
    }`,
    base,
  );
}
