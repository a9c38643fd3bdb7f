// The one module that talks to the `openai` npm package. Private: backends and
// providers call `chatCompletion()` and `chatStream()`; no npm type leaves this file.
//
// Behaviour:
// - `openai` is loaded with `await import("openai")` on first use, so importing this
//   module (or mod.ts) loads nothing. Clients are cached per distinct settings under a
//   SHA-256 digest of them, so no key or header value sits in a cache key.
// - Retries are the client's own: up to `maxRetries` more attempts, exponential backoff
//   with jitter, honouring `retry-after-ms` / `Retry-After`, for 408, 409, 429, 5xx and
//   connection errors and timeouts. A stream is only retried before its response
//   starts; once it has started (and so before any text reaches the caller) no attempt
//   is ever repeated.
// - `timeoutMs` bounds each attempt up to the complete JSON answer; for a stream it
//   bounds the wait for the response and then every wait for the next chunk.
// - Abort: when `request.signal` aborts, the promise rejects (or the stream throws)
//   with `signal.reason`, exactly like `fetch` (a DOMException named "AbortError"
//   unless the caller gave another reason). The request and its timers end at once.
// - Every other failure is one of the errors.ts classes (see `mapError`), with
//   status, retryable, provider, backend, requestId and model; messages never
//   contain the API key or a header or query value (replaced by "***").
// - Without an API key no Authorization header is sent (keyless local servers).
// - The client is given explicit values for everything it would otherwise take from
//   OPENAI_* environment variables (key, base URL, organization, project, log level).
//   The one variable it still reads is OPENAI_CUSTOM_HEADERS (its documented opt-in for
//   extra headers); without env permission that read quietly yields nothing.

import type {
  ChatCompletion,
  ChatMessage,
  ChatOptions,
  CompletionUsage,
  TokenUsage,
} from "../chat.ts";
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
import { netAllowed } from "../_env.ts";

/** How to reach an OpenAI-compatible service. */
export interface ClientSettings {
  /** The API key; without one no Authorization header is sent. */
  apiKey?: string;
  /** Base URL, for example `https://api.openai.com/v1`. */
  baseURL: string;
  /** Bound of each attempt in milliseconds (for streams: the wait for each chunk). */
  timeoutMs: number;
  /** Attempts after the first one for retryable failures. */
  maxRetries: number;
  /** Extra headers sent with every request (values are secrets). */
  headers?: Record<string, string>;
  /** OpenAI organization id (`OpenAI-Organization` header). */
  organization?: string;
  /** Query parameters added to every request (values are secrets), e.g. `api-version`. */
  defaultQuery?: Record<string, string>;
  /** Provider label for errors, for example "openai". */
  provider?: string;
  /** Backend alias or class label for errors. */
  backend?: string;
}

/** One chat request. */
export interface ChatRequest {
  /** The model id sent to the service. */
  model: string;
  /** The conversation. */
  messages: ChatMessage[];
  /** Sampling and length options, passed through. */
  options?: ChatOptions;
  /** Ends the request or stream when aborted. */
  signal?: AbortSignal;
}

/** An event of a streamed answer: a piece of text, or the token usage (last). */
export type StreamEvent = { type: "text"; text: string } | { type: "usage"; usage: TokenUsage };

// ---------------------------------------------------------------------------
// Loading and caching clients

type OpenAIModule = typeof import("openai");
type OpenAIClient = InstanceType<OpenAIModule["OpenAI"]>;

let modulePromise: Promise<OpenAIModule> | undefined;
const clients = new Map<string, OpenAIClient>();
const MAX_CLIENTS = 32;

function loadOpenAI(): Promise<OpenAIModule> {
  modulePromise ??= import("openai").catch((error) => {
    modulePromise = undefined;
    throw new ImproperlyConfigured(
      `Cannot load the "openai" package (npm:openai@^7), which OpenAI-compatible requests need: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  });
  return modulePromise;
}

async function digest(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// Deno without net permission for the service: a clear, final error, before
// the client could prompt (in a terminal) or retry a refusal that cannot change.
function checkNetPermission(settings: ClientSettings, model: string): void {
  let url: URL;
  try {
    url = new URL(settings.baseURL);
  } catch {
    return; // the client reports a bad URL
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (netAllowed(`${url.hostname}:${port}`)) return;
  throw new ConnectionError(
    `Cannot connect to ${serviceLabel(settings)} at ${safeBaseURL(settings)}: ` +
      `net permission for ${url.hostname}:${port} is not granted (run with --allow-net=${url.hostname})`,
    { provider: settings.provider, backend: settings.backend, model, retryable: false },
  );
}

function clientKey(settings: ClientSettings): Promise<string> {
  return digest([
    settings.apiKey ?? null,
    settings.baseURL,
    timeoutOf(settings),
    retriesOf(settings),
    sortedEntries(settings.headers),
    settings.organization ?? null,
    sortedEntries(settings.defaultQuery),
  ]);
}

async function getClient(settings: ClientSettings): Promise<[OpenAIModule, OpenAIClient]> {
  const mod = await loadOpenAI();
  const key = await clientKey(settings);
  let client = clients.get(key);
  if (client) {
    // Least recently used goes first: a hit moves the client to the end.
    clients.delete(key);
    clients.set(key, client);
  } else {
    const headers: Record<string, string | null> = { ...settings.headers };
    const hasAuthHeader = Object.keys(headers).some((name) =>
      name.toLowerCase() === "authorization"
    );
    // The client insists on some credential; without a key it gets a placeholder and the
    // Authorization header is removed (a null header value means "do not send").
    if (!settings.apiKey && !hasAuthHeader) headers["Authorization"] = null;
    client = new mod.OpenAI({
      apiKey: settings.apiKey || "no-key",
      baseURL: settings.baseURL,
      timeout: timeoutOf(settings),
      maxRetries: retriesOf(settings),
      defaultHeaders: headers,
      defaultQuery: settings.defaultQuery,
      // Explicit values so the client reads none of its OPENAI_* environment variables.
      organization: settings.organization ?? null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      logLevel: "off",
    });
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
    clients.set(key, client);
  }
  return [mod, client];
}

function timeoutOf(settings: ClientSettings): number {
  const ms = Number(settings.timeoutMs);
  return Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : 1;
}

function retriesOf(settings: ClientSettings): number {
  const n = Number(settings.maxRetries);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}

// ---------------------------------------------------------------------------
// Errors

interface ErrorContext {
  settings: ClientSettings;
  model: string;
  signal: AbortSignal | undefined;
  /** Whether a streamed response had already started. */
  streaming: boolean;
}

const MASK = "***";

function secretsOf(settings: ClientSettings): string[] {
  const secrets = [
    settings.apiKey,
    ...Object.values(settings.headers ?? {}),
    ...Object.values(settings.defaultQuery ?? {}),
  ].filter((value): value is string => typeof value === "string" && value.length >= 4);
  // Also the URL-encoded forms, as they may appear in URLs.
  return [...new Set([...secrets, ...secrets.map(encodeURIComponent)])]
    .sort((a, b) => b.length - a.length);
}

function scrubText(text: string, settings: ClientSettings): string {
  let out = text;
  for (const secret of secretsOf(settings)) out = out.split(secret).join(MASK);
  return out;
}

function serviceLabel(settings: ClientSettings): string {
  if (settings.provider) return settings.provider;
  if (settings.backend) return settings.backend;
  try {
    return new URL(settings.baseURL).host;
  } catch {
    return "the AI service";
  }
}

/** The base URL without credentials or query, for messages. */
function safeBaseURL(settings: ClientSettings): string {
  try {
    const url = new URL(settings.baseURL);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "(invalid base URL)";
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

function truncate(text: string, max = 500): string {
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

const CONTEXT_PATTERN =
  /context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|reduce the length/i;

/**
 * Turns anything thrown while talking to the service into an errors.ts class, or
 * into the abort reason when the caller aborted.
 */
function mapError(mod: OpenAIModule | undefined, error: unknown, context: ErrorContext): unknown {
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
  if (mod && error instanceof mod.APIError) {
    const status = typeof error.status === "number" ? error.status : undefined;
    const requestId = typeof error.requestID === "string" ? error.requestID : undefined;
    const message = clean(serviceMessage(error));
    const options: APIErrorOptions = { ...base, status, requestId };
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
      return new RateLimitError(
        `${label} is rate limiting (HTTP 429)${after} for model "${model}": ${message}`,
        options,
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
    return new APIError(
      `${label} sent malformed JSON for model "${model}": ${clean(error.message)}`,
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

// ---------------------------------------------------------------------------
// Requests

function requestBody(request: ChatRequest): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.options ?? {})) {
    if (value !== undefined && name !== "stream" && name !== "stream_options") {
      options[name] = value;
    }
  }
  return { ...options, model: request.model, messages: request.messages };
}

function toUsage(value: unknown): CompletionUsage | undefined {
  if (!value || typeof value !== "object") return undefined;
  const usage = value as Record<string, unknown>;
  const input = Number(usage.prompt_tokens ?? 0);
  const output = Number(usage.completion_tokens ?? 0);
  if (!Number.isFinite(input) || !Number.isFinite(output)) return undefined;
  const total = Number(usage.total_tokens ?? input + output);
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: Number.isFinite(total) ? total : input + output,
  };
}

// deno-lint-ignore no-explicit-any
function contentOf(content: any): string | undefined {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part?.text === "string" ? part.text : ""))
      .join("");
  }
  return undefined;
}

/** Checks a 200 answer and builds the completion, or says what was missing. */
function validateCompletion(
  data: unknown,
  context: ErrorContext,
  requestId: string | undefined,
): ChatCompletion {
  const { settings, model } = context;
  const label = serviceLabel(settings);
  const fail = (what: string) =>
    new APIError(`${label} sent an unusable answer for model "${model}": ${what}`, {
      status: 200,
      retryable: false,
      provider: settings.provider,
      backend: settings.backend,
      requestId,
      model,
    });
  if (data === undefined || data === null || data === "") throw fail("the body is empty");
  if (typeof data !== "object" || Array.isArray(data)) {
    throw fail(
      `the body is not a JSON object (${truncate(scrubText(String(data), settings), 80)})`,
    );
  }
  const body = data as Record<string, unknown>;
  if (!Array.isArray(body.choices)) throw fail('it has no "choices"');
  if (body.choices.length === 0) throw fail('"choices" is empty');
  const choices = body.choices.map((raw, index) => {
    // deno-lint-ignore no-explicit-any
    const choice = raw as any;
    if (!choice || typeof choice !== "object" || !choice.message) {
      throw fail(`choices[${index}] has no "message"`);
    }
    const content = contentOf(choice.message.content);
    if (content === undefined) throw fail(`choices[${index}].message.content is not text`);
    return {
      index: typeof choice.index === "number" ? choice.index : index,
      message: { role: "assistant" as const, content },
      finish_reason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    };
  });
  const usage = toUsage(body.usage);
  return {
    id: typeof body.id === "string" ? body.id : "",
    object: "chat.completion",
    created: typeof body.created === "number" ? body.created : Math.floor(Date.now() / 1000),
    model: typeof body.model === "string" ? body.model : model,
    choices,
    ...(usage ? { usage } : {}),
  };
}

/**
 * Sends one chat request and returns the completion in the OpenAI shape
 * (`choices[0].message.content` is a string, `""` when the service sent null).
 * Rejects with an errors.ts class, or with `signal.reason` when aborted.
 */
export async function chatCompletion(
  settings: ClientSettings,
  request: ChatRequest,
): Promise<ChatCompletion> {
  const context: ErrorContext = {
    settings,
    model: request.model,
    signal: request.signal,
    streaming: false,
  };
  if (request.signal?.aborted) throw abortReason(request.signal);
  checkNetPermission(settings, request.model);
  let mod: OpenAIModule | undefined;
  try {
    const [loaded, client] = await getClient(settings);
    mod = loaded;
    if (request.signal?.aborted) throw abortReason(request.signal);
    const { data, request_id } = await client.chat.completions
      // deno-lint-ignore no-explicit-any
      .create({ ...requestBody(request), stream: false } as any, { signal: request.signal })
      .withResponse();
    return validateCompletion(data, context, request_id ?? undefined);
  } catch (error) {
    throw mapError(mod, error, context);
  }
}

const TIMED_OUT = Symbol("timed out");
const ABORTED = Symbol("aborted");

/** Waits for the next chunk, at most `ms`, or until `signal` aborts. */
function nextChunk<T>(
  iterator: AsyncIterator<T>,
  ms: number,
  signal: AbortSignal,
): Promise<IteratorResult<T> | typeof TIMED_OUT | typeof ABORTED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = { resolve: () => {} };
  const guard = new Promise<typeof TIMED_OUT | typeof ABORTED>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    onAbort.resolve = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener("abort", onAbort.resolve, { once: true });
  });
  return Promise.race([iterator.next(), guard]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort.resolve);
  });
}

async function* streamEvents(
  settings: ClientSettings,
  request: ChatRequest,
  left: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  const { signal } = request;
  if (!signal) return yield* streamBody(settings, request, left, left);
  // Aborts when the caller's signal does or when the reader leaves. Forwarded by
  // hand and unlinked at the end: AbortSignal.any() would keep every stream alive
  // for as long as a long-lived caller signal lives.
  const stop = new AbortController();
  const onCaller = () => stop.abort(signal.reason);
  const onLeft = () => stop.abort(left.reason);
  if (signal.aborted) stop.abort(signal.reason);
  else signal.addEventListener("abort", onCaller, { once: true });
  left.addEventListener("abort", onLeft, { once: true });
  try {
    return yield* streamBody(settings, request, left, stop.signal);
  } finally {
    signal.removeEventListener("abort", onCaller);
    left.removeEventListener("abort", onLeft);
  }
}

async function* streamBody(
  settings: ClientSettings,
  request: ChatRequest,
  left: AbortSignal,
  stop: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  const context: ErrorContext = {
    settings,
    model: request.model,
    signal: request.signal,
    streaming: false,
  };
  const { signal } = request;
  if (signal?.aborted) throw abortReason(signal);
  checkNetPermission(settings, request.model);
  let mod: OpenAIModule | undefined;
  // deno-lint-ignore no-explicit-any
  let stream: any;
  try {
    const [loaded, client] = await getClient(settings);
    mod = loaded;
    if (signal?.aborted) throw abortReason(signal);
    if (left.aborted) return;
    stream = await client.chat.completions.create(
      {
        ...requestBody(request),
        stream: true,
        stream_options: { include_usage: true },
        // deno-lint-ignore no-explicit-any
      } as any,
      { signal: stop },
    );
  } catch (error) {
    if (left.aborted && !signal?.aborted) return;
    throw mapError(mod, error, context);
  }

  // From here on the response has started: nothing is ever retried.
  context.streaming = true;
  const label = serviceLabel(settings);
  const iterator: AsyncIterator<unknown> = stream[Symbol.asyncIterator]();
  let finished = false;
  let ended = false;
  try {
    while (true) {
      let next: IteratorResult<unknown> | typeof TIMED_OUT | typeof ABORTED;
      try {
        next = await nextChunk(iterator, timeoutOf(settings), stop);
      } catch (error) {
        if (left.aborted && !signal?.aborted) return;
        throw mapError(mod, error, context);
      }
      if (next === ABORTED) {
        if (signal?.aborted) throw abortReason(signal);
        return; // The reader left.
      }
      if (next === TIMED_OUT) {
        throw new TimeoutError(
          `The stream from ${label} for model "${request.model}" sent nothing for ${
            timeoutOf(settings)
          } ms`,
          {
            provider: settings.provider,
            backend: settings.backend,
            model: request.model,
            retryable: true,
          },
        );
      }
      if (next.done) {
        ended = true;
        break;
      }
      // deno-lint-ignore no-explicit-any
      const chunk = next.value as any;
      const choices = Array.isArray(chunk?.choices) ? chunk.choices : [];
      for (const choice of choices) {
        if ((choice?.index ?? 0) !== 0) continue;
        const text = contentOf(choice?.delta?.content);
        if (text) yield { type: "text", text };
        if (choice?.finish_reason) finished = true;
      }
      const usage = toUsage(chunk?.usage);
      if (usage) {
        yield {
          type: "usage",
          usage: {
            inputTokens: usage.prompt_tokens,
            outputTokens: usage.completion_tokens,
            totalTokens: usage.total_tokens,
          },
        };
      }
    }
  } finally {
    if (!ended) {
      // Stopped early (break, abort, timeout, error): cancel the HTTP request.
      stream.controller?.abort();
      await iterator.return?.().catch(() => {});
    }
  }
  // The client ends a stream quietly when its request is aborted.
  if (signal?.aborted) throw abortReason(signal);
  if (!finished) {
    throw new StreamInterruptedError(
      `The stream from ${label} for model "${request.model}" ended before it was complete ` +
        "(no finish_reason)",
      {
        provider: settings.provider,
        backend: settings.backend,
        model: request.model,
        retryable: true,
      },
    );
  }
}

/**
 * Streams one chat request: text events in order, then a usage event when the
 * service reports usage. Each iteration sends a new request. A stream that ends
 * without a finish reason throws `StreamInterruptedError`; other failures are
 * errors.ts classes; an abort throws `signal.reason`. Breaking out of the loop
 * cancels the request.
 */
export function chatStream(
  settings: ClientSettings,
  request: ChatRequest,
): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]: () => {
      const left = new AbortController();
      const generator = streamEvents(settings, request, left.signal);
      // A generator runs return() only after a pending next() settles (the next chunk,
      // or the timeout); a reader that leaves while waiting (a cancelled ReadableStream)
      // ends the request at once instead.
      const stop = generator.return.bind(generator);
      generator.return = (value) => {
        left.abort();
        return stop(value);
      };
      return generator;
    },
  };
}

/** Forgets the cached clients (for tests). */
export function clearClientCache(): void {
  clients.clear();
}

/** Loads the `openai` package now rather than at the first request. */
export async function preloadClient(): Promise<void> {
  await loadOpenAI();
}

/** Whether the `openai` package has been loaded (for tests). */
export function isClientLoaded(): boolean {
  return modulePromise !== undefined;
}

/** Whether a client for these settings is cached (for tests). */
export async function isClientCached(settings: ClientSettings): Promise<boolean> {
  return clients.has(await clientKey(settings));
}

/** Number of cached clients (for tests). */
export function clientCacheSize(): number {
  return clients.size;
}
