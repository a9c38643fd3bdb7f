// Sending one Messages API request: the shared guarded fetch of
// _http/fetch.ts (as the OpenAI client's: a redirect to another origin
// refused before anything is sent there, same-origin ones followed, a JSON
// or error body capped after decompression; a stream's body is counted by
// its reader) with the key and version headers, one timer per attempt, one
// listener on the caller's signal for the whole request, and retries (before
// any answer has started) as _http/retry.ts says.
import { APIError, ConnectionError } from "../errors.ts";
import { createGuardedFetch, RAW_BODY, RedirectRefusedError } from "../_http/fetch.ts";
import { readBounded } from "../_http/body.ts";
import { netPermissionProblem } from "../_http/permission.ts";
import {
  abortReason,
  answeredRetry,
  noteAnswered,
  type RetryDecision,
  withRetries,
} from "../_http/retry.ts";
import {
  baseOptions,
  connectionError,
  httpError,
  redirectError,
  requestIdOf,
  safeBaseURL,
  serviceLabel,
  timeoutError,
} from "./errors.ts";
import {
  type AnthropicSettings,
  bodyLimitOf,
  type MessagesRequest,
  retriesOf,
  timeoutOf,
} from "./types.ts";

/** The most of an error body read, in bytes (the rest is dropped). */
const MAX_ERROR_BYTES = 64 * 1024;

/**
 * The life of one request across its attempts: one listener on the caller's
 * signal for the whole request, forwarded to the controller of the current
 * attempt; `stop()` ends it from inside (a stream's reader left).
 * `dispose()` removes the listener.
 */
export class RequestControl {
  readonly #caller: AbortSignal | undefined;
  readonly #whole = new AbortController();
  #current: AbortController | undefined;
  readonly #onCaller = () => this.#whole.abort(abortReason(this.#caller!));

  /** Starts watching `signal`. */
  constructor(signal: AbortSignal | undefined) {
    this.#caller = signal;
    this.#whole.signal.addEventListener(
      "abort",
      () => this.#current?.abort(this.#whole.signal.reason),
      { once: true },
    );
    if (signal?.aborted) this.#whole.abort(abortReason(signal));
    else signal?.addEventListener("abort", this.#onCaller, { once: true });
  }

  /** Aborts when the caller aborts or the request is stopped (for waits between attempts). */
  get signal(): AbortSignal {
    return this.#whole.signal;
  }

  /** Whether the request was aborted by the caller or stopped. */
  get aborted(): boolean {
    return this.#whole.signal.aborted;
  }

  /** Why: the caller's abort reason, or the reason given to `stop()`. */
  get reason(): unknown {
    return this.#whole.signal.reason;
  }

  /** Whether the caller aborted. */
  get callerAborted(): boolean {
    return this.#caller?.aborted === true;
  }

  /** Ends the request from inside (the current attempt is aborted). */
  stop(reason: unknown): void {
    this.#whole.abort(reason);
  }

  /** A controller for the next attempt, aborted at once when the request is. */
  attempt(): AbortController {
    const controller = new AbortController();
    this.#current = controller;
    if (this.aborted) controller.abort(this.reason);
    return controller;
  }

  /** Stops watching the caller's signal. */
  dispose(): void {
    this.#caller?.removeEventListener("abort", this.#onCaller);
    this.#current = undefined;
  }
}

/** The request headers: JSON, the version, the key (when any) and the extra headers. */
function requestHeaders(settings: AnthropicSettings, stream: boolean): Headers {
  const headers = new Headers({
    "content-type": "application/json",
    "anthropic-version": settings.version,
    accept: stream ? "text/event-stream" : "application/json",
  });
  if (settings.apiKey) headers.set("x-api-key", settings.apiKey);
  for (const [name, value] of Object.entries(settings.headers ?? {})) headers.set(name, value);
  return headers;
}

/** The URL of the Messages endpoint: `/v1/messages` after the base URL's path, its query kept. */
export function messagesURL(settings: AnthropicSettings): string {
  const url = new URL(settings.baseURL);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/messages`;
  return url.href;
}

/** An attempt whose response has started: a 2xx with its body unread. */
export interface StartedResponse {
  /** The response (2xx). */
  response: Response;
  /** Its `request-id`, when the service gave one. */
  requestId: string | undefined;
  /** Aborts this attempt (and so its body). */
  controller: AbortController;
}

/**
 * Sends `request` and returns what `read` makes of the started 2xx response
 * (for a stream, the started response itself), retrying the whole attempt
 * on retryable failures: statuses 408, 409, 429, 5xx and 529 (unless the
 * server says `x-should-retry: false`), connection errors and timeouts.
 * `read` runs under the attempt's timer and its failures are retried too
 * (nothing has reached the caller yet); a stream is returned as soon as its
 * response starts and is never retried after that: its reader takes over the
 * timing. Rejects with an errors.ts class, or the caller's abort reason.
 * `control` carries the caller's signal; the caller disposes it.
 */
export async function send<T = StartedResponse>(
  settings: AnthropicSettings,
  request: MessagesRequest,
  control: RequestControl,
  options: { stream: boolean; read?: (started: StartedResponse) => Promise<T> },
): Promise<T> {
  const model = request.body.model;
  if (control.aborted) throw control.reason;
  const problem = netPermissionProblem(settings.baseURL);
  if (problem !== undefined) {
    throw new ConnectionError(
      `Cannot connect to ${serviceLabel(settings)} at ${safeBaseURL(settings)}: ${problem}`,
      { ...baseOptions(settings, model), retryable: false },
    );
  }
  const url = messagesURL(settings);
  const body = JSON.stringify(options.stream ? { ...request.body, stream: true } : request.body);
  const timeout = timeoutOf(settings);
  const guarded = createGuardedFetch({ maxBodyBytes: bodyLimitOf(settings) });
  return await withRetries(async () => {
    const controller = control.attempt();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("The attempt timed out.", "TimeoutError"));
    }, timeout);
    try {
      let response: Response;
      try {
        response = await guarded(url, {
          method: "POST",
          headers: requestHeaders(settings, options.stream),
          body,
          signal: controller.signal,
          // A stream's reader counts what it reads (text and event limits).
          ...(options.stream ? { [RAW_BODY]: true } : {}),
        } as RequestInit);
      } catch (error) {
        if (!(error instanceof RedirectRefusedError)) throw error;
        throw redirectError(settings, model, error.status, error.target, error.reason);
      }
      const requestId = requestIdOf(response.headers, settings);
      if (response.status >= 300 && response.status < 400) {
        // A redirect without a location (or one not to follow): not an answer.
        await response.body?.cancel().catch(() => {});
        throw redirectError(settings, model, response.status, "an unknown place", "invalid");
      }
      if (!response.ok) {
        const text = await readBounded(response, MAX_ERROR_BYTES, true) ?? "";
        const error = httpError(
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
      const started: StartedResponse = { response, requestId, controller };
      if (options.read === undefined) return started as T;
      return await options.read(started);
    } catch (error) {
      if (control.aborted) throw control.reason;
      if (timedOut) throw timeoutError(settings, model);
      if (error instanceof APIError) throw error;
      throw connectionError(settings, model, error);
    } finally {
      clearTimeout(timer);
    }
  }, {
    maxRetries: retriesOf(settings),
    signal: control.signal,
    ...(settings.random ? { random: settings.random } : {}),
    decide,
  });
}

function decide(error: unknown): RetryDecision {
  if (!(error instanceof APIError)) return { retry: false };
  return answeredRetry(error) ?? { retry: error.retryable };
}
