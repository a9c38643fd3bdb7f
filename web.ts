/**
 * Answers as HTTP responses: {@link toResponse} waits for the first chunk of
 * an answer, so that a failure before it becomes a real status with a JSON
 * error body, then streams the rest as plain text or server-sent events.
 * {@link errorResponse} gives the same error response for an error thrown at
 * the call (bad settings, a bad argument).
 *
 * @example In a `Deno.serve` handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, toResponse } from "./mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1024 } } },
 * });
 * async function handler(request: Request): Promise<Response> {
 *   const answer = ai.getBackend().promptWithContext({
 *     prePrompt: "Correct this text:",
 *     context: await request.text(),
 *     signal: request.signal,
 *   });
 *   return await toResponse(answer, { signal: request.signal, onError: console.error });
 * }
 * const response = await handler(new Request("http://localhost/", { method: "POST", body: "Hi" }));
 * assert.equal(response.status, 200);
 * assert.equal(await response.text(), "This is an echo backend: Hi");
 * ```
 *
 * @module
 */
import type { TokenUsage } from "./chat.ts";
import { DocumentResponse } from "./documents/response.ts";
import type { DocumentDelta, DocumentEvent } from "./documents/types.ts";
import {
  APIError,
  AuthenticationError,
  ConnectionError,
  ContextLengthError,
  ImproperlyConfigured,
  InvalidImageError,
  RateLimitError,
  TimeoutError,
} from "./errors.ts";

/**
 * The body formats of {@link toResponse}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ResponseFormat } from "./mod.ts";
 * const format: ResponseFormat = "sse";
 * assert.equal(format, "sse");
 * ```
 */
export type ResponseFormat = "text" | "sse";

/**
 * An answer {@link toResponse} can send: an `AIResponse` (any async iterable
 * of text chunks; the token counts of its `usage()`, when it has one, go
 * into the SSE `done` event).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type StreamableAnswer, toResponse } from "./mod.ts";
 * const answer: StreamableAnswer = (async function* () {
 *   yield "Hello";
 *   yield " world";
 * })();
 * assert.equal(await (await toResponse(answer)).text(), "Hello world");
 * ```
 */
export interface StreamableAnswer extends AsyncIterable<string> {
  /** Token usage once the answer is complete, when the source reports it. */
  usage?(): Promise<TokenUsage | undefined>;
}

/**
 * Options of {@link errorResponse}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorResponse, type ErrorResponseOptions, TimeoutError } from "./mod.ts";
 * const logged: unknown[] = [];
 * const options: ErrorResponseOptions = {
 *   headers: { "access-control-allow-origin": "*" },
 *   onError: (error) => logged.push(error),
 * };
 * const response = errorResponse(new TimeoutError("timed out after 15000 ms"), options);
 * assert.equal(response.status, 504);
 * assert.equal(response.headers.get("access-control-allow-origin"), "*");
 * assert.equal(logged.length, 1);
 * ```
 */
export interface ErrorResponseOptions {
  /**
   * Headers added to the response (CORS headers, for example). On a streamed
   * answer they may replace the defaults (`content-type`, `cache-control`); an
   * error response keeps its JSON `content-type`.
   */
  headers?: HeadersInit;
  /**
   * The request's signal: when it has aborted, the client is gone and the
   * response has no body (status 499), whatever the error.
   */
  signal?: AbortSignal;
  /** Told of the error as it is (with the details the body leaves out), to log it. */
  onError?: (error: unknown) => void;
}

/**
 * Options of {@link toResponse}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, toResponse, type ToResponseOptions } from "./mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
 * });
 * const options: ToResponseOptions = { format: "sse", status: 201 };
 * const answer = ai.getBackend().promptWithContext({ prePrompt: "", context: "hi" });
 * assert.equal((await toResponse(answer, options)).status, 201);
 * ```
 */
export interface ToResponseOptions extends ErrorResponseOptions {
  /**
   * `"text"` (default): the text chunks as a `text/plain` body. `"sse"`:
   * `text/event-stream` with a `data:` event per chunk, then `event: done`
   * whose data is `{"usage": ...}`, or `event: error` whose data is the
   * error body, when the answer fails after its first chunk. For a
   * `DocumentResponse`, see {@link toResponse}: the new document as text, or
   * `delta`, `chunk`, `done` and `error` events.
   */
  format?: ResponseFormat;
  /** The status of a streamed answer (default 200; from 200 to 299). */
  status?: number;
}

/**
 * The JSON body of an error response: what failed, in words a visitor may see.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthenticationError, type ErrorBody, errorResponse } from "./mod.ts";
 * const response = errorResponse(new AuthenticationError("key sk-... refused", { status: 401 }));
 * const body: ErrorBody = await response.json();
 * assert.equal(response.status, 502);
 * assert.equal(body.error.type, "authentication_error");
 * assert.ok(!body.error.message.includes("sk-"));
 * ```
 */
export interface ErrorBody {
  /** What failed. */
  error: {
    /** The kind of failure, for example `"rate_limit_error"` (see {@link errorResponse}). */
    type: string;
    /** A sentence for the visitor; never a secret, a key or a setting. */
    message: string;
    /** Whether trying again later may succeed. */
    retryable: boolean;
  };
}

/**
 * The status 499 (client closed request) of a response whose client is gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLIENT_CLOSED_STATUS, errorResponse } from "./mod.ts";
 * const gone = errorResponse(new DOMException("The operation was aborted.", "AbortError"));
 * assert.equal(gone.status, CLIENT_CLOSED_STATUS);
 * assert.equal(gone.body, null);
 * ```
 */
export const CLIENT_CLOSED_STATUS = 499;

interface Described {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof DOMException && error.name === "AbortError";
}

function body(type: string, message: string, retryable: boolean): ErrorBody {
  return { error: { type, message, retryable } };
}

// Each message is written here, not taken from the error: an error's own message names
// settings, hosts and models, and a service's message may echo part of a key.
function describe(error: unknown): Described {
  if (error instanceof RateLimitError) {
    const after = error.retryAfterSeconds;
    return {
      status: 429,
      body: body(
        "rate_limit_error",
        "The AI service is busy: try again " +
          (after === undefined ? "later." : `in ${after} second${after === 1 ? "" : "s"}.`),
        true,
      ),
      headers: after === undefined ? {} : { "retry-after": String(after) },
    };
  }
  if (error instanceof AuthenticationError) {
    return {
      status: 502,
      body: body(
        "authentication_error",
        "The AI service refused this server's credentials.",
        false,
      ),
      headers: {},
    };
  }
  if (error instanceof ContextLengthError) {
    const counts = error.promptTokens !== undefined && error.contextWindow !== undefined
      ? ` (${error.promptTokens} tokens where the model takes ${error.contextWindow})`
      : "";
    return {
      status: 413,
      body: body(
        "context_length_error",
        `The text is too long for the AI model${counts}.`,
        false,
      ),
      headers: {},
    };
  }
  if (error instanceof TimeoutError) {
    return {
      status: 504,
      body: body("timeout_error", "The AI service took too long to answer.", error.retryable),
      headers: {},
    };
  }
  if (error instanceof ConnectionError) {
    return {
      status: 503,
      body: body("connection_error", "The AI service cannot be reached.", error.retryable),
      headers: {},
    };
  }
  if (error instanceof APIError) {
    const status = error.status === undefined ? "" : ` (HTTP ${error.status})`;
    return {
      status: 502,
      body: body("api_error", `The AI service failed to answer${status}.`, error.retryable),
      headers: {},
    };
  }
  if (error instanceof InvalidImageError) {
    // About the visitor's own file (its name, size or type): safe and useful to show.
    return { status: 415, body: body("invalid_image_error", error.message, false), headers: {} };
  }
  if (error instanceof ImproperlyConfigured) {
    return {
      status: 500,
      body: body(
        "configuration_error",
        "The AI service is not configured correctly on this server.",
        false,
      ),
      headers: {},
    };
  }
  return {
    status: 500,
    body: body("internal_error", "The answer failed on this server.", false),
    headers: {},
  };
}

/** `given` with `own` set over it, or under it when `givenWins`. */
function mergedHeaders(
  given: HeadersInit | undefined,
  own: Record<string, string>,
  givenWins = false,
): Headers {
  const headers = new Headers(givenWins ? own : given);
  const over = givenWins ? new Headers(given) : new Headers(own);
  over.forEach((value, name) => headers.set(name, value));
  return headers;
}

/**
 * The HTTP response for an error: a status and a JSON {@link ErrorBody}
 * (`{error: {type, message, retryable}}`) whose message is written for a
 * visitor and never holds a secret (log the error itself with `onError`).
 *
 * | error                           | status | `type`                 |
 * | ------------------------------- | ------ | ---------------------- |
 * | `RateLimitError`                | 429    | `rate_limit_error` (with `Retry-After` when the service gave one) |
 * | `AuthenticationError`           | 502    | `authentication_error` (this server's key was refused) |
 * | `ContextLengthError`            | 413    | `context_length_error` |
 * | `InvalidImageError`             | 415    | `invalid_image_error`  |
 * | `TimeoutError`                  | 504    | `timeout_error`        |
 * | `ConnectionError`               | 503    | `connection_error`     |
 * | other `APIError`                | 502    | `api_error`            |
 * | `ImproperlyConfigured`          | 500    | `configuration_error`  |
 * | anything else                   | 500    | `internal_error`       |
 * | an abort (`AbortError`, or `signal` aborted) | 499, no body | |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorResponse, RateLimitError } from "./mod.ts";
 *
 * const response = errorResponse(new RateLimitError("slow down", { retryAfterSeconds: 20 }));
 * assert.equal(response.status, 429);
 * assert.equal(response.headers.get("retry-after"), "20");
 * assert.deepEqual(await response.json(), {
 *   error: {
 *     type: "rate_limit_error",
 *     message: "The AI service is busy: try again in 20 seconds.",
 *     retryable: true,
 *   },
 * });
 * ```
 */
export function errorResponse(error: unknown, options: ErrorResponseOptions = {}): Response {
  options.onError?.(error);
  if (isAbort(error, options.signal)) {
    return new Response(null, {
      status: CLIENT_CLOSED_STATUS,
      headers: mergedHeaders(options.headers, {}),
    });
  }
  const described = describe(error);
  return new Response(JSON.stringify(described.body), {
    status: described.status,
    headers: mergedHeaders(options.headers, {
      ...described.headers,
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
    }),
  });
}

const encoder = new TextEncoder();

function sseEvent(data: string, event?: string): Uint8Array {
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join("");
  return encoder.encode(`${event === undefined ? "" : `event: ${event}\n`}${lines}\n`);
}

function checkOptions(options: ToResponseOptions): ResponseFormat {
  if (options === null || typeof options !== "object") {
    throw new TypeError("toResponse() options must be an object");
  }
  const format = options.format ?? "text";
  if (format !== "text" && format !== "sse") {
    throw new TypeError(
      `toResponse() format must be "text" or "sse", not ${JSON.stringify(format)}`,
    );
  }
  const status = options.status;
  if (status !== undefined && !(Number.isInteger(status) && status >= 200 && status <= 299)) {
    throw new RangeError(
      `toResponse() status must be an integer from 200 to 299, not ${String(status)}`,
    );
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError("toResponse() onError must be a function");
  }
  return format;
}

/**
 * The token counts of a usage, for visitors: not who answered or the aliases
 * tried before (`usage()` has those too), which name settings and hosts.
 */
function countsOf(usage: TokenUsage & { estimated?: true }): TokenUsage & { estimated?: true } {
  const counts: TokenUsage & { estimated?: true } = {
    inputTokens: usage.inputTokens,
    outputTokens: usage.outputTokens,
    totalTokens: usage.totalTokens,
  };
  if (usage.estimated === true) counts.estimated = true;
  return counts;
}

/**
 * Turns an answer (or a document run) into an HTTP `Response`, once its
 * first chunk has arrived:
 *
 * - An error before the first chunk becomes the error response of
 *   {@link errorResponse}: a real status (429 with `Retry-After`, 502, 503,
 *   504...) and a JSON body without secrets, never a 200 cut short.
 * - The caller's abort (`signal`, usually `request.signal`) gives a response
 *   without a body: the client is gone.
 * - Then the answer streams as it arrives, in the `format` asked for. An
 *   error after the first chunk ends a `"text"` body with a network error
 *   (the status is already sent; the client sees a broken transfer, not a
 *   short answer), and is an `event: error` in `"sse"`.
 * - When the client goes away, the body stream is cancelled and the AI
 *   request is aborted with it (also where the server does not abort
 *   `request.signal`, as Deno 2.9 does not for some uploads).
 *
 * A `DocumentResponse` (of `ai.processText()`) is sent the same way, once
 * its first progress arrives: the first chunk's event in `"text"`, the first
 * delta or event in `"sse"`. A failure before it (a 429 on the first chunk,
 * a text over the window of an `append` prompt: 413) is a status; cancelling
 * the body cancels the run, and every chunk request in flight ends.
 *
 * - `"text"`: the body is the new document itself, in document order: each
 *   chunk's replacement is written, with the unchanged text before it, as
 *   soon as the chunks before it are done, and the rest after the last. So
 *   the body read whole is exactly what `text()` gives, and a page can show
 *   it growing. A failure after the first chunk breaks the transfer: a
 *   client never takes half a document for the whole.
 * - `"sse"`: `event: delta` with `{index, total, start, end, delta}` as each
 *   chunk's answer arrives (the model's text, unchecked: show it as text or
 *   sanitize it); `event: chunk` with `{index, total, start, end,
 *   replacement, cached, kept?}` when a chunk is done, in document order
 *   (`start` and `end` are offsets in the text sent; the original is not
 *   repeated); then `event: done` with `{text, chunks, cached, kept}`: the
 *   whole new document and how many chunks there were, came from the cache,
 *   kept their original. A failure after the first event is `event: error`
 *   with the error body. Nothing holds a setting or a secret.
 *
 * @example Server-sent events
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, toResponse } from "./mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1024 } } },
 * });
 * const answer = ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "two words" });
 * const response = await toResponse(answer, { format: "sse" });
 * assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
 * const events = await response.text();
 * assert.ok(events.startsWith("data: This\n\ndata:  is\n\n"));
 * // The echo backend reports no usage: its counts are estimated.
 * assert.match(events, /event: done\ndata: \{"usage":\{"inputTokens":\d+,.*"estimated":true\}\}\n\n$/);
 * ```
 *
 * @example An error before the first chunk
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse, ConnectionError, toResponse } from "./mod.ts";
 *
 * const failing = new AIResponse({
 *   // deno-lint-ignore require-yield
 *   async *stream() {
 *     throw new ConnectionError("Cannot connect to api.example.com: refused");
 *   },
 * });
 * const response = await toResponse(failing);
 * assert.equal(response.status, 503);
 * assert.equal((await response.json()).error.type, "connection_error");
 * ```
 *
 * @example A document run: the new document as text, or as events
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, toResponse } from "./mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
 * });
 * const text = "<p>Hi</p>\n<pre>code</pre>";
 * const run = () => ai.processText({ prompt: "correction", text, format: "html" });
 * // The echo backend's answer drops the tags: the block keeps its original.
 * assert.equal(await (await toResponse(run())).text(), text);
 * const events = await (await toResponse(run(), { format: "sse" })).text();
 * assert.match(events, /^event: delta\ndata: \{"index":0,"total":1,"start":0,"end":9,"delta":"This"\}\n\n/);
 * assert.match(events, /event: chunk\ndata: \{"index":0,.*"kept":"markup changed"\}\n\n/);
 * assert.ok(events.endsWith(
 *   `event: done\ndata: ${JSON.stringify({ text, chunks: 1, cached: 0, kept: 1 })}\n\n`,
 * ));
 * ```
 */
export async function toResponse(
  response: StreamableAnswer | DocumentResponse,
  options: ToResponseOptions = {},
): Promise<Response> {
  const format = checkOptions(options);
  if (response instanceof DocumentResponse) {
    return await documentResponse(response, format, options);
  }
  if (
    response === null || typeof response !== "object" ||
    typeof (response as Partial<StreamableAnswer>)[Symbol.asyncIterator] !== "function"
  ) {
    throw new TypeError(
      "toResponse() needs an AIResponse (an async iterable of text chunks) or a DocumentResponse",
    );
  }
  const iterator = response[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await iterator.next();
  } catch (error) {
    return errorResponse(error, options);
  }
  const sse = format === "sse";
  const encode = (text: string) => sse ? sseEvent(text) : encoder.encode(text);
  let pending: IteratorResult<string> | undefined = first;
  let cancelled = false;

  const finish = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (sse) {
      const usage = typeof response.usage === "function" ? await response.usage() : undefined;
      controller.enqueue(
        sseEvent(JSON.stringify(usage === undefined ? {} : { usage: countsOf(usage) }), "done"),
      );
    }
    controller.close();
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? await iterator.next();
        pending = undefined;
        if (cancelled) return;
        if (next.done) await finish(controller);
        else if (next.value !== "") controller.enqueue(encode(next.value));
      } catch (error) {
        if (cancelled) return;
        options.onError?.(error);
        if (sse && !isAbort(error, options.signal)) {
          controller.enqueue(sseEvent(JSON.stringify(describe(error).body), "error"));
          controller.close();
        } else controller.error(error);
      }
    },
    async cancel() {
      // The client went away: stop reading, which aborts the AI request.
      cancelled = true;
      await iterator.return?.();
    },
  });
  return streamed(body, sse, options);
}

/** The response of a streamed body, once its first chunk is there. */
function streamed(
  body: ReadableStream<Uint8Array>,
  sse: boolean,
  options: ToResponseOptions,
): Response {
  return new Response(body, {
    status: options.status ?? 200,
    headers: mergedHeaders(options.headers, {
      "content-type": sse ? "text/event-stream; charset=utf-8" : "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    }, true),
  });
}

/** The data of an SSE `chunk` event: where the chunk is and what replaces it, not its original. */
function chunkData(event: DocumentEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {
    index: event.index,
    total: event.total,
    start: event.start,
    end: event.end,
    replacement: event.replacement,
    cached: event.cached,
  };
  if (event.kept !== undefined) data.kept = event.kept;
  return data;
}

function deltaData(delta: DocumentDelta): Record<string, unknown> {
  return {
    index: delta.index,
    total: delta.total,
    start: delta.start,
    end: delta.end,
    delta: delta.delta,
  };
}

/**
 * A document run as a response. SSE: `delta` and `chunk` events as they
 * come, then `done` with the new document. Text: the new document itself,
 * in order, each chunk's replacement written with the text before it as soon
 * as the chunks before it are done.
 */
async function documentResponse(
  response: DocumentResponse,
  format: ResponseFormat,
  options: ToResponseOptions,
): Promise<Response> {
  const sse = format === "sse";
  const iterator: AsyncIterator<DocumentEvent | DocumentDelta> = sse
    ? response.stream()
    : response[Symbol.asyncIterator]();
  let first: IteratorResult<DocumentEvent | DocumentDelta>;
  try {
    first = await iterator.next();
  } catch (error) {
    return errorResponse(error, options);
  }
  const input = response.input;
  let pending: IteratorResult<DocumentEvent | DocumentDelta> | undefined = first;
  let cancelled = false;
  let at = 0; // text: how far into the input the body has come
  let chunks = 0;
  let cached = 0;
  let kept = 0;

  const write = (
    controller: ReadableStreamDefaultController<Uint8Array>,
    item: DocumentEvent | DocumentDelta,
  ) => {
    if ("delta" in item) {
      if (sse) controller.enqueue(sseEvent(JSON.stringify(deltaData(item)), "delta"));
      return;
    }
    chunks++;
    if (item.cached) cached++;
    if (item.kept !== undefined) kept++;
    if (sse) controller.enqueue(sseEvent(JSON.stringify(chunkData(item)), "chunk"));
    else if (input !== undefined) {
      const text = input.slice(at, item.start) + item.replacement;
      at = item.end;
      if (text !== "") controller.enqueue(encoder.encode(text));
    }
  };
  const finish = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const text = await response.text();
    if (cancelled) return;
    if (sse) {
      controller.enqueue(sseEvent(JSON.stringify({ text, chunks, cached, kept }), "done"));
    } else {
      // Without the input (a DocumentResponse of a source that does not give it), all at the end.
      const rest = input === undefined ? text : input.slice(at);
      if (rest !== "") controller.enqueue(encoder.encode(rest));
    }
    controller.close();
  };

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = pending ?? await iterator.next();
        pending = undefined;
        if (cancelled) return;
        if (next.done) await finish(controller);
        else write(controller, next.value);
      } catch (error) {
        if (cancelled) return;
        options.onError?.(error);
        if (sse && !isAbort(error, options.signal)) {
          controller.enqueue(sseEvent(JSON.stringify(describe(error).body), "error"));
          controller.close();
        } else controller.error(error);
      }
    },
    async cancel() {
      // The client went away: stop reading, which cancels the run and every chunk in flight.
      cancelled = true;
      await iterator.return?.();
    },
  });
  return streamed(body, sse, options);
}
