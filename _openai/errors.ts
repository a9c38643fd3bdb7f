// Error mapping of the private OpenAI client: anything thrown while talking to
// the service becomes an errors.ts class (see `mapError`) or the caller's abort
// reason, and no message holds the API key or a header or query value.
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
import { retryAfterSeconds } from "../_http/retry_after.ts";
import { jsonSyntaxReason, urlSecrets } from "../_redact.ts";
import { type ClientSettings, type OpenAIModule, retriesOf, timeoutOf } from "./types.ts";

/** What an error is mapped in the context of. */
export interface ErrorContext {
  settings: ClientSettings;
  model: string;
  signal: AbortSignal | undefined;
  /** Whether a streamed response had already started. */
  streaming: boolean;
}

const MASK = "***";

/**
 * Marks the answer client.ts makes of a refused redirect: `<reason> <target>`
 * (see RedirectRefusedError).
 */
export const REFUSED_REDIRECT_HEADER = "x-cms-ai-refused-redirect";

/**
 * Marks the answer client.ts makes when the runtime refused the connection for
 * want of the net permission (revoked since it was seen granted): the message
 * to give, after `Cannot connect to <service> at <base URL>: `.
 */
export const REFUSED_PERMISSION_HEADER = "x-cms-ai-refused-permission";

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
  // Also the URL-encoded forms, as they may appear in URLs.
  return [...new Set([...secrets, ...secrets.map(encodeURIComponent)])]
    .sort((a, b) => b.length - a.length);
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

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

export function truncate(text: string, max = 500): string {
  return text.length > max ? text.slice(0, max) + "…" : text;
}

// deno-lint-ignore no-explicit-any
function serviceMessage(error: any): string {
  const body = error?.error;
  if (body && typeof body === "object" && typeof body.message === "string") return body.message;
  const message = String(error?.message ?? "");
  const status = error?.status;
  return status && message.startsWith(`${status} `)
    ? message.slice(String(status).length + 1)
    : message;
}

function refusedRedirect(
  marker: string,
  label: string,
  model: string,
  status: number | undefined,
  settings: ClientSettings,
): string {
  const space = marker.indexOf(" ");
  const reason = space < 0 ? marker : marker.slice(0, space);
  const target = space < 0 ? "" : marker.slice(space + 1);
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

/**
 * Turns anything thrown while talking to the service into an errors.ts class, or
 * into the abort reason when the caller aborted.
 */
export function mapError(
  mod: OpenAIModule | undefined,
  error: unknown,
  context: ErrorContext,
): unknown {
  const { settings, model, signal } = context;
  if (signal?.aborted) return abortReason(signal);
  if (
    error instanceof APIError || error instanceof ImproperlyConfigured ||
    (error instanceof DOMException && error.name === "AbortError")
  ) {
    return error;
  }
  const label = serviceLabel(settings);
  const base: APIErrorOptions = {
    provider: settings.provider,
    backend: settings.backend,
    model,
  };
  // Scrub before cutting, so a cut cannot leave the start of a secret unmasked.
  const clean = (text: string) => truncate(scrubText(text, settings));
  const retries = retriesOf(settings);
  const after = retries > 0 ? ` (after ${retries} ${retries === 1 ? "retry" : "retries"})` : "";

  if (mod && error instanceof mod.APIUserAbortError) {
    return new DOMException("The operation was aborted.", "AbortError");
  }
  if (mod && error instanceof mod.APIConnectionTimeoutError) {
    return new TimeoutError(
      `Request to ${label} for model "${model}" timed out after ${timeoutOf(settings)} ms${after}`,
      { ...base, retryable: true },
    );
  }
  if (mod && error instanceof mod.APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause;
    const reason = cause instanceof Error ? cause.message : error.message;
    if (context.streaming) {
      return new StreamInterruptedError(
        `The stream from ${label} for model "${model}" broke off: ${clean(reason)}`,
        { ...base, retryable: true },
      );
    }
    return new ConnectionError(
      `Cannot connect to ${label} at ${clean(safeBaseURL(settings))}${after}: ${clean(reason)}`,
      { ...base, retryable: true },
    );
  }
  if (error instanceof BodyTooLargeError) {
    return new APIError(
      `${label} sent an answer larger than ${error.max} bytes for model "${model}": ` +
        "the request was ended",
      { ...base, retryable: false },
    );
  }
  if (mod && error instanceof mod.APIError) {
    const status = typeof error.status === "number" ? error.status : undefined;
    const requestId = typeof error.requestID === "string"
      ? truncate(scrubText(error.requestID, settings), 200)
      : undefined;
    const options: APIErrorOptions = { ...base, status, requestId };
    const permission = error.headers?.get(REFUSED_PERMISSION_HEADER);
    if (permission) {
      return new ConnectionError(
        `Cannot connect to ${label} at ${clean(safeBaseURL(settings))}: ${clean(permission)}`,
        { ...base, retryable: false },
      );
    }
    const refused = error.headers?.get(REFUSED_REDIRECT_HEADER);
    if (refused) {
      return new APIError(
        clean(refusedRedirect(refused, label, model, status, settings)),
        { ...options, retryable: false },
      );
    }
    const message = clean(serviceMessage(error));
    if (status === undefined) {
      // An error event inside a stream.
      return new APIError(`${label} reported an error for model "${model}": ${message}`, options);
    }
    if (status === 401 || status === 403) {
      return new AuthenticationError(
        `${label} refused the credentials (HTTP ${status}) for model "${model}": ${message}`,
        options,
      );
    }
    if (status === 429) {
      const headers = error.headers instanceof Headers ? error.headers : undefined;
      const retryAfter = headers ? retryAfterSeconds(headers) : undefined;
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
    const code = typeof error.code === "string" ? error.code : "";
    if (
      (status === 400 || status === 413 || status === 422) &&
      (code === "context_length_exceeded" || CONTEXT_PATTERN.test(message))
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
  if (error instanceof TypeError) {
    return new ConnectionError(
      `Cannot connect to ${label} at ${clean(safeBaseURL(settings))}: ${clean(error.message)}`,
      { ...base, retryable: true },
    );
  }
  return new APIError(
    `Unexpected failure talking to ${label} for model "${model}": ${
      clean(error instanceof Error ? error.message : String(error))
    }`,
    base,
  );
}
