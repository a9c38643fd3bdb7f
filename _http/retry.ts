// When and how long to wait before trying an HTTP request again: the statuses
// worth a retry, the server's own wait (retry_after.ts: `retry-after-ms`,
// `retry-after` in seconds or as an HTTP date) and its `x-should-retry`,
// exponential backoff with jitter, an abortable sleep, and `withRetries()`,
// the loop that ties them together. Retries happen only before a response has started: a caller
// retries an attempt that failed as a whole (a status, a refused connection,
// a timeout before the answer), never a stream that already gave text.

import { retryAfterMs } from "./retry_after.ts";

/** The longest server-given wait that is honoured; a longer one falls back to the backoff. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** The first backoff wait. */
export const INITIAL_RETRY_DELAY_MS = 500;
/** The longest backoff wait. */
export const MAX_RETRY_DELAY_MS = 8_000;

/**
 * Whether an HTTP status is worth another attempt: 408 (timeout), 409
 * (conflict), 429 (rate limit) and every 5xx, Anthropic's 529 (overloaded)
 * included.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status < 600);
}

/**
 * What the server says about retrying in `x-should-retry`: `true`, `false`,
 * or undefined when it says nothing (then the status decides).
 */
export function shouldRetryHeader(headers: Headers): boolean | undefined {
  const value = headers.get("x-should-retry")?.trim().toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  return undefined;
}

/**
 * The backoff before retry number `retry` (0 for the first retry):
 * 0.5 s doubling up to 8 s, less up to a quarter at random so that many
 * clients do not retry in step.
 */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** Math.max(0, retry), MAX_RETRY_DELAY_MS);
  return Math.round(base * (1 - random() * 0.25));
}

/**
 * The wait before retry number `retry`: the server's (see
 * {@link retryAfterMs}) when it is at most {@link MAX_RETRY_AFTER_MS}, else
 * the backoff.
 */
export function retryDelayMs(retry: number, headers?: Headers, random?: () => number): number {
  const asked = headers === undefined ? undefined : retryAfterMs(headers);
  if (asked !== undefined && asked <= MAX_RETRY_AFTER_MS) return asked;
  return backoffMs(retry, random);
}

/** The reason of an aborted signal, or an `AbortError` when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts (the
 * timer and the listener are removed either way).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// The response headers of the errors made from answered attempts (a status that is not
// a success), for `answeredRetry()`.
const answeredHeaders = new WeakMap<object, Headers>();

/**
 * Records that `error` was made from an answer with these headers (a status
 * that is not a success), so that {@link answeredRetry} can decide on it.
 */
export function noteAnswered(error: object, headers: Headers): void {
  answeredHeaders.set(error, headers);
}

/**
 * The retry decision for an error recorded by {@link noteAnswered}: the
 * server's `x-should-retry`, else whether its status is worth another attempt
 * (with the headers, for the server's wait); undefined for any other error.
 */
export function answeredRetry(error: { status?: number }): RetryDecision | undefined {
  const headers = answeredHeaders.get(error);
  if (headers === undefined) return undefined;
  const status = error.status;
  const retry = shouldRetryHeader(headers) ?? (status !== undefined && isRetryableStatus(status));
  return { retry, headers };
}

/** What a failed attempt says about trying again. */
export interface RetryDecision {
  /** Whether another attempt may succeed. */
  retry: boolean;
  /** The response headers, when the service answered (for its wait). */
  headers?: Headers;
}

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Attempts after the first one (0: none). */
  maxRetries: number;
  /** Ends the waits (and so the loop) when it aborts: the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Whether and how to retry a failure; a failure it does not retry is thrown as it is. */
  decide: (error: unknown) => RetryDecision;
  /** Random numbers for the jitter (tests). */
  random?: () => number;
  /** Told before each wait (tests, logs). */
  onRetry?: (retry: number, delayMs: number, error: unknown) => void;
}

/**
 * Runs `attempt(index)` until it resolves, a failure is not worth a retry
 * (`decide`), or `maxRetries` retries are spent; then the last failure is
 * thrown. Between attempts it waits as {@link retryDelayMs} says.
 */
export async function withRetries<T>(
  attempt: (index: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let index = 0;; index++) {
    try {
      return await attempt(index);
    } catch (error) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      if (index >= options.maxRetries) throw error;
      const decision = options.decide(error);
      if (!decision.retry) throw error;
      const delay = retryDelayMs(index, decision.headers, options.random);
      options.onRetry?.(index, delay, error);
      await sleep(delay, options.signal);
    }
  }
}
