// Sending one chat completions request: through the client's guarded fetch
// (client.ts), one timer per attempt, one listener on the caller's signal per
// attempt, and retries, before any answer has started, as _http/retry.ts says:
// statuses 408, 409, 429 and 5xx (unless the server says
// `x-should-retry: false`; `x-should-retry: true` retries any status),
// connection failures and timeouts, waiting as the server asks
// (`retry-after-ms`, `retry-after`) or with exponential backoff and jitter.
import { APIError, ConnectionError, TimeoutError } from "../errors.ts";
import { readBounded } from "../_http/body.ts";
import { RAW_BODY, RedirectRefusedError } from "../_http/fetch.ts";
import { answeredRetry, noteAnswered, type RetryDecision, withRetries } from "../_http/retry.ts";
import { forgetNetPermission, type OpenAIClient } from "./client.ts";
import {
  abortReason,
  brokenAnswerError,
  connectionError,
  type ErrorContext,
  mapError,
  redirectError,
  safeBaseURL,
  scrubText,
  statusError,
  timeoutError,
  truncate,
} from "./errors.ts";
import { type ClientSettings, retriesOf, timeoutOf } from "./types.ts";

/** The most of an error body read, in bytes (the rest is dropped). */
const MAX_ERROR_BYTES = 64 * 1024;

/** The abort reason of an attempt that ran out of time (the caller never sees it). */
const TIMED_OUT = new DOMException("The attempt timed out.", "TimeoutError");

/** One request to send. */
export interface ChatSend {
  /** The model (for errors). */
  model: string;
  /** The JSON body. */
  body: string;
  /**
   * A stream: its 2xx body is left unread and uncounted (the stream's reader
   * bounds it), the attempt's timer ends when the response starts, and the
   * attempt stays linked to `signal` (the stream's own) while it is read.
   */
  stream: boolean;
  /** Ends the request when aborted: the promise rejects with its reason. */
  signal: AbortSignal | undefined;
}

/** What a started 2xx answer is read into, within the attempt (its timer, its retries). */
export type ReadAnswer<T> = (response: Response, requestId: string | undefined) => Promise<T> | T;

/**
 * A runtime message with the request URL (whose query may hold a credential)
 * replaced by the base URL without credentials or query.
 */
function withoutURL(message: string, client: OpenAIClient, settings: ClientSettings): string {
  return message.split(client.url).join(
    `${safeBaseURL(settings).replace(/\/+$/, "")}/chat/completions`,
  );
}

/** Whether `error` is the runtime's refusal for want of a permission. */
function isPermissionError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "NotCapable" || error.name === "PermissionDenied");
}

/** The response's `x-request-id`, masked and cut (a hostile server may echo the key in it). */
function requestIdOf(headers: Headers, settings: ClientSettings): string | undefined {
  const id = headers.get("x-request-id");
  return id ? truncate(scrubText(id, settings), 200) : undefined;
}

/**
 * Sends `send` and returns what `read` makes of the started 2xx response,
 * retrying the whole attempt on retryable failures; `read`'s own failures
 * are not retried unless the connection broke. Rejects with an errors.ts
 * class, or the signal's reason when aborted.
 */
export function sendChat<T>(
  settings: ClientSettings,
  client: OpenAIClient,
  send: ChatSend,
  read: ReadAnswer<T>,
): Promise<T> {
  const retries = retriesOf(settings);
  const once = () => attempt(settings, client, send, read);
  if (retries === 0) return once();
  return withRetries(once, { maxRetries: retries, signal: send.signal, decide });
}

async function attempt<T>(
  settings: ClientSettings,
  client: OpenAIClient,
  send: ChatSend,
  read: ReadAnswer<T>,
): Promise<T> {
  const { model, signal } = send;
  if (signal?.aborted) throw abortReason(signal);
  const controller = new AbortController();
  const onAbort = signal && (() => controller.abort(abortReason(signal)));
  if (onAbort) signal!.addEventListener("abort", onAbort, { once: true });
  let linked = onAbort !== undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(TIMED_OUT);
  }, timeoutOf(settings));
  try {
    let response: Response;
    try {
      response = await client.fetch(client.url, {
        method: "POST",
        headers: send.stream ? client.streamHeaders : client.jsonHeaders,
        body: send.body,
        signal: controller.signal,
        [RAW_BODY]: send.stream,
      } as RequestInit);
    } catch (error) {
      if (error instanceof RedirectRefusedError) {
        throw redirectError(settings, model, error.status, error.target, error.reason);
      }
      if (isPermissionError(error)) {
        // Revoked since it was seen granted: asked again at the next request.
        throw connectionError(settings, model, forgetNetPermission(settings), false);
      }
      // Anything else the fetch throws is a connection that failed (retried). The runtime's
      // message quotes the URL, whose query may hold a credential: it is named without it.
      const reason = error instanceof Error ? error.message : String(error);
      throw connectionError(settings, model, withoutURL(reason, client, settings));
    }
    const requestId = requestIdOf(response.headers, settings);
    if (response.status >= 300 && response.status < 400) {
      // A redirect without a location (the guarded fetch follows the others or refuses them).
      await response.body?.cancel().catch(() => {});
      throw redirectError(settings, model, response.status, "", "invalid");
    }
    if (!response.ok) {
      // Cut at the limit, it is no longer the service's message: the message says why.
      const text = await readBounded(response, MAX_ERROR_BYTES, false) ??
        `(the error body is longer than ${MAX_ERROR_BYTES} bytes)`;
      const error = statusError(
        settings,
        model,
        response.status,
        text,
        requestId,
        response.headers,
      );
      noteAnswered(error, response.headers);
      throw error;
    }
    if (send.stream) {
      clearTimeout(timer);
      linked = false; // the stream's reader unlinks it (the signal is the stream's own)
      return await read(response, requestId);
    }
    try {
      return await read(response, requestId);
    } catch (error) {
      if (signal?.aborted || timedOut || !(error instanceof TypeError)) throw error;
      // The answer was made (and billed): it is not asked for again here.
      const broken = brokenAnswerError(
        settings,
        model,
        withoutURL(error.message, client, settings),
      );
      notRetried.add(broken);
      throw broken;
    }
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    if (timedOut) throw timeoutError(settings, model);
    const context: ErrorContext = { settings, model, signal, streaming: false };
    throw mapError(error, context);
  } finally {
    clearTimeout(timer);
    if (linked) signal!.removeEventListener("abort", onAbort!);
  }
}

/** Answers whose connection broke while they were read: not sent again (the caller may). */
const notRetried = new WeakSet<object>();

function decide(error: unknown): RetryDecision {
  if (!(error instanceof APIError) || notRetried.has(error)) return { retry: false };
  return answeredRetry(error) ?? {
    retry: (error instanceof TimeoutError || error instanceof ConnectionError) && error.retryable,
  };
}
