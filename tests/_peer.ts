/**
 * An OpenAI-compatible HTTP server on 127.0.0.1 for tests and the offline demo.
 *
 * It records every request and answers like a plausible model ("Echo: " and
 * the last user message), or with scripted replies: JSON, a server-sent-event
 * stream, an error status and body, extra headers, a delay, a stream cut short
 * or malformed JSON. Real HTTP, so the real `openai` client is exercised.
 *
 * It only uses `Deno.serve` and web APIs (no test-only imports), so the demo
 * can import it too.
 *
 * @module
 */

/** A request the peer received. */
export interface RecordedRequest {
  /** HTTP method, upper case. */
  method: string;
  /** URL path, for example `/v1/chat/completions`. */
  path: string;
  /** Query parameters. */
  query: Record<string, string>;
  /** Headers, names in lower case. */
  headers: Record<string, string>;
  /** The body parsed as JSON, or the raw text when it is not JSON (`undefined` when empty). */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** The raw body text. */
  text: string;
}

/** An error body in OpenAI's shape (`{error: {message, type, code}}`). */
export interface PeerErrorBody {
  /** Human readable message. */
  message: string;
  /** Error type, for example `invalid_request_error`. */
  type?: string;
  /** Error code, for example `context_length_exceeded`. */
  code?: string | null;
  /** The parameter at fault. */
  param?: string | null;
}

/**
 * How the peer answers one request. Fields combine: headers and delay apply to
 * any reply; the first of `malformed`, `raw`, `error`, `json`, `stream`,
 * `text` that is set decides the body; with none, the default handler's
 * answer is sent (so `{delayMs: 5000}` is a slow but normal answer).
 */
export interface PeerReply {
  /** HTTP status (default 200, or 500 when `error` is given). */
  status?: number;
  /** A JSON body sent as it is. */
  json?: unknown;
  /** Text chunks sent as a chat-completion SSE stream (role delta first, finish, usage, `[DONE]`). */
  stream?: string[];
  /** An answer text: streamed word by word if the request asked for a stream, else JSON. */
  text?: string;
  /** An error body (a string is the message); sent as `{error: {...}}`. */
  error?: string | PeerErrorBody;
  /** Extra response headers (for example `retry-after`, `retry-after-ms`, `x-request-id`). */
  headers?: Record<string, string>;
  /**
   * Wait this long before answering. The timer is cleared when the client
   * disconnects, as far as Deno.serve reports it (it does for small requests;
   * for a request whose body arrives in a later read it may only notice when
   * answering), and always by `close()`.
   */
  delayMs?: number;
  /** Wait this long between stream chunks. */
  chunkDelayMs?: number;
  /** Send only this many text chunks, then end the stream with no finish_reason and no `[DONE]`. */
  cutAfter?: number;
  /** With `cutAfter`: break the connection (an error) instead of ending the body cleanly. */
  cutWithError?: boolean;
  /** Answer 200 with a body that is not valid JSON. */
  malformed?: boolean;
  /** A raw string body. */
  raw?: string;
  /** Content type of `raw` (default `text/plain`). */
  contentType?: string;
  /** Finish reason of a JSON or streamed answer (default `"stop"`). */
  finishReason?: string;
  /** Send no `usage` (JSON) or no usage chunk (stream). */
  noUsage?: boolean;
  /** Report this many of the prompt's tokens as cached (`prompt_tokens_details.cached_tokens`). */
  cachedTokens?: number;
}

/** The `usage` object of an answer: prompt and answer counts, and cached tokens when scripted. */
function usageOf(reply: PeerReply, input: number, output: number): Record<string, unknown> {
  const usage: Record<string, unknown> = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
  };
  if (reply.cachedTokens !== undefined) {
    usage.prompt_tokens_details = { cached_tokens: reply.cachedTokens };
  }
  return usage;
}

/** Produces the reply to a request when no scripted reply is queued. */
export type PeerHandler = (request: RecordedRequest) => PeerReply | Promise<PeerReply>;

/** Options of {@link startPeer}. */
export interface PeerOptions {
  /** The default handler (default: {@link defaultPeerHandler}). */
  handler?: PeerHandler;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
  /**
   * The wait between the chunks of every streamed answer whose reply sets no
   * `chunkDelayMs` (default 0), so that an answer streams word by word as a
   * model's does (the offline editor page uses it).
   */
  chunkDelayMs?: number;
}

/** A running peer. Close it with `close()` or `await using`. */
export interface Peer {
  /** Base URL ending in `/v1`, for example `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** The origin, for example `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Queues scripted replies, consumed one per request, before the default handler. */
  enqueue(...replies: PeerReply[]): void;
  /** Replaces the default handler. */
  setHandler(handler: PeerHandler): void;
  /** The last request received (throws when there is none). */
  lastRequest(): RecordedRequest;
  /** Forgets recorded requests and queued replies. */
  reset(): void;
  /** Number of requests still being answered (waiting out a delay or streaming). */
  readonly active: number;
  /** The most requests being answered at once, since the peer started or `resetMaxActive()`. */
  readonly maxActive: number;
  /** Starts counting `maxActive` again from the requests being answered now. */
  resetMaxActive(): void;
  /** Number of queued replies not used yet. */
  readonly queued: number;
  /** Stops the server, cancels pending delays and streams. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();

/** Words of a text (runs of non-space). */
function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word.length > 0);
}

/** The decoded size of a base64 payload. */
function base64Size(data: string): number {
  const clean = data.replace(/\s/g, "");
  const padding = clean.endsWith("==") ? 2 : clean.endsWith("=") ? 1 : 0;
  return Math.floor(clean.length * 3 / 4) - padding;
}

function describeImageUrl(url: string): string {
  const match = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url);
  if (!match) return ` [image ${url}]`;
  const mime = match[1] ?? "text/plain";
  const size = match[2] ? base64Size(match[3]) : decodeURIComponent(match[3]).length;
  return ` [image ${mime} ${size} bytes]`;
}

// deno-lint-ignore no-explicit-any
function contentText(content: any, withImages: boolean): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  let images = "";
  for (const part of content) {
    if (part?.type === "text" && typeof part.text === "string") texts.push(part.text);
    if (part?.type === "image_url" && withImages) {
      images += describeImageUrl(String(part.image_url?.url ?? ""));
    }
  }
  return texts.join(" ") + images;
}

/**
 * The answer the default handler gives to a chat-completion request body:
 * `"Echo: "` and the text of the last user message (text parts joined with a
 * space; each image part adds ` [image <mime> <bytes> bytes]`).
 */
// deno-lint-ignore no-explicit-any
export function echoAnswer(body: any): string {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  // deno-lint-ignore no-explicit-any
  const last = [...messages].reverse().find((message: any) => message?.role === "user");
  return "Echo: " + contentText(last?.content, true);
}

/** The rough prompt size of a request body: the word count of all messages. */
// deno-lint-ignore no-explicit-any
export function promptWords(body: any): number {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  let count = 0;
  for (const message of messages) count += words(contentText(message?.content, false)).length;
  return count;
}

/** Splits an answer into stream chunks, one per word (a space starts each later chunk). */
export function wordChunks(text: string): string[] {
  return text.split(/(?=\s+\S)/).filter((chunk) => chunk.length > 0);
}

/**
 * The default handler: chat completions answer {@link echoAnswer} (streamed
 * when asked), `GET .../models` lists the models, anything else is a 404 in
 * OpenAI's error shape.
 */
export function defaultPeerHandler(
  request: RecordedRequest,
  models: string[] = DEFAULT_MODELS,
): PeerReply {
  if (request.method === "POST" && request.path.endsWith("/chat/completions")) {
    return { text: echoAnswer(request.body) };
  }
  if (request.method === "GET" && request.path.endsWith("/models")) {
    return {
      json: {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 1700000000, owned_by: "peer" })),
      },
    };
  }
  return {
    status: 404,
    error: {
      message: `Unknown request ${request.method} ${request.path}`,
      type: "invalid_request_error",
      code: "unknown_url",
    },
  };
}

/** Sleeps, rejecting early (and clearing the timer) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

const CUT = Symbol("cut");

/** Models listed by default. */
const DEFAULT_MODELS: string[] = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "peer-echo"];

function hasBody(reply: PeerReply): boolean {
  return reply.malformed === true || reply.raw !== undefined || reply.error !== undefined ||
    reply.json !== undefined || reply.stream !== undefined || reply.text !== undefined ||
    (reply.status !== undefined && reply.status >= 400);
}

/**
 * Starts a peer on 127.0.0.1 with a free port.
 *
 * Usage: `await using peer = await startPeer();` then point a client at
 * `peer.url`; `peer.enqueue({status: 429, headers: {"retry-after-ms": "10"}})`
 * scripts the next reply; `peer.requests` shows what was sent.
 */
export function startPeer(options: PeerOptions = {}): Promise<Peer> {
  const requests: RecordedRequest[] = [];
  const queue: PeerReply[] = [];
  const models = options.models ?? DEFAULT_MODELS;
  let handler: PeerHandler = options.handler ?? ((request) => defaultPeerHandler(request, models));
  const closing = new AbortController();
  let counter = 0;
  let active = 0;
  let maxActive = 0;

  function sseEvent(data: unknown): Uint8Array {
    return encoder.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
  }

  async function* streamEvents(
    reply: PeerReply,
    chunks: string[],
    // deno-lint-ignore no-explicit-any
    body: any,
    id: string,
    signal: AbortSignal,
  ): AsyncGenerator<Uint8Array | typeof CUT> {
    const created = Math.floor(Date.now() / 1000);
    const model = typeof body?.model === "string" ? body.model : "peer-echo";
    const envelope = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices,
      ...extra,
    });
    yield sseEvent(
      envelope([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
    );
    let sent = 0;
    for (const chunk of chunks) {
      if (reply.cutAfter !== undefined && sent >= reply.cutAfter) {
        yield CUT;
        return;
      }
      if (reply.chunkDelayMs && sent > 0) await sleep(reply.chunkDelayMs, signal);
      yield sseEvent(
        envelope([{ index: 0, delta: { content: chunk }, finish_reason: null }]),
      );
      sent++;
    }
    if (reply.cutAfter !== undefined && sent >= reply.cutAfter) {
      yield CUT;
      return;
    }
    yield sseEvent(
      envelope([{ index: 0, delta: {}, finish_reason: reply.finishReason ?? "stop" }]),
    );
    if (body?.stream_options?.include_usage === true && !reply.noUsage) {
      const output = words(chunks.join("")).length;
      const input = promptWords(body);
      yield sseEvent(envelope([], { usage: usageOf(reply, input, output) }));
    }
    yield sseEvent("[DONE]");
  }

  function streamResponse(
    reply: PeerReply,
    chunks: string[],
    recorded: RecordedRequest,
    id: string,
    requestAbort: AbortController,
    headers: Headers,
  ): Response {
    const events = streamEvents(reply, chunks, recorded.body, id, requestAbort.signal);
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await events.next();
          if (next.done) {
            controller.close();
            requestAbort.abort();
          } else if (next.value === CUT) {
            if (reply.cutWithError) {
              controller.error(new Error("peer: stream cut on purpose (cutWithError)"));
            } else controller.close();
            requestAbort.abort();
          } else {
            controller.enqueue(next.value);
          }
        } catch (error) {
          if (requestAbort.signal.aborted) {
            // The client went away or the peer is closing: end quietly.
            try {
              controller.close();
            } catch {
              // already closed or cancelled
            }
          } else {
            controller.error(error);
            requestAbort.abort();
          }
        }
      },
      async cancel() {
        requestAbort.abort();
        await events.return(undefined).catch(() => {});
      },
    });
    headers.set("content-type", "text/event-stream");
    headers.set("cache-control", "no-cache");
    return new Response(stream, { status: reply.status ?? 200, headers });
  }

  function jsonResponse(status: number, body: unknown, headers: Headers): Response {
    headers.set("content-type", "application/json");
    return new Response(JSON.stringify(body), { status, headers });
  }

  async function answer(
    reply: PeerReply,
    recorded: RecordedRequest,
    requestAbort: AbortController,
    number: number,
  ): Promise<Response> {
    const id = `chatcmpl-peer-${number}`;
    const headers = new Headers({ "x-request-id": `req_peer_${number}` });
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers.set(name, value);
    if (reply.delayMs) await sleep(reply.delayMs, requestAbort.signal);

    if (reply.malformed) {
      headers.set("content-type", "application/json");
      return new Response('{"id": "chatcmpl-broken", "choices": [', { status: 200, headers });
    }
    if (reply.raw !== undefined) {
      headers.set("content-type", reply.contentType ?? "text/plain");
      return new Response(reply.raw, { status: reply.status ?? 200, headers });
    }
    if (reply.error !== undefined) {
      const error = typeof reply.error === "string"
        ? { message: reply.error, type: "server_error", code: null }
        : { type: "invalid_request_error", code: null, param: null, ...reply.error };
      return jsonResponse(reply.status ?? 500, { error }, headers);
    }
    if (reply.json !== undefined) return jsonResponse(reply.status ?? 200, reply.json, headers);
    if (reply.stream !== undefined) {
      return streamResponse(reply, reply.stream, recorded, id, requestAbort, headers);
    }
    if (reply.status !== undefined && reply.status >= 400) {
      return jsonResponse(reply.status, {
        error: { message: `HTTP ${reply.status}`, type: "server_error", code: null },
      }, headers);
    }

    const text = reply.text ?? "";
    if (recorded.body?.stream === true) {
      return streamResponse(reply, wordChunks(text), recorded, id, requestAbort, headers);
    }
    const model = typeof recorded.body?.model === "string" ? recorded.body.model : "peer-echo";
    const input = promptWords(recorded.body);
    const output = words(text).length;
    return jsonResponse(reply.status ?? 200, {
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: text, refusal: null },
        logprobs: null,
        finish_reason: reply.finishReason ?? "stop",
      }],
      ...(reply.noUsage ? {} : { usage: usageOf(reply, input, output) }),
    }, headers);
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown = undefined;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      const recorded: RecordedRequest = {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
        text,
      };
      requests.push(recorded);
      // This request's number, taken now: others may arrive while it is answered.
      const number = ++counter;
      const requestAbort = new AbortController();
      active++;
      maxActive = Math.max(maxActive, active);
      requestAbort.signal.addEventListener("abort", () => active--, { once: true });
      // The client disconnecting aborts request.signal; it is only watched until the
      // response starts (after that, a streamed body's cancel() reports it).
      const onAbort = () => requestAbort.abort();
      const stopWatchingClient = () => request.signal.removeEventListener("abort", onAbort);
      request.signal.addEventListener("abort", onAbort, { once: true });
      closing.signal.addEventListener("abort", onAbort, { once: true });
      requestAbort.signal.addEventListener("abort", () => {
        stopWatchingClient();
        closing.signal.removeEventListener("abort", onAbort);
      }, { once: true });
      try {
        const scripted = queue.shift();
        let reply = scripted ?? await handler(recorded);
        if (!hasBody(reply)) {
          let base: PeerReply = scripted ? await handler(recorded) : {};
          if (!hasBody(base)) base = defaultPeerHandler(recorded, models);
          reply = { ...base, ...withoutUndefined(reply) };
        }
        if (options.chunkDelayMs !== undefined && reply.chunkDelayMs === undefined) {
          reply = { ...reply, chunkDelayMs: options.chunkDelayMs };
        }
        const response = await answer(reply, recorded, requestAbort, number);
        if (
          !response.body || !(response.headers.get("content-type") ?? "").includes("event-stream")
        ) {
          requestAbort.abort();
        }
        stopWatchingClient();
        return response;
      } catch (error) {
        requestAbort.abort();
        if (closing.signal.aborted || request.signal.aborted) {
          return new Response(null, { status: 499 });
        }
        return new Response(
          JSON.stringify({ error: { message: String(error), type: "peer_error", code: null } }),
          { status: 500, headers: { "content-type": "application/json" } },
        );
      }
    },
  );

  const addr = server.addr as Deno.NetAddr;
  const origin = `http://127.0.0.1:${addr.port}`;
  let closed: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing.abort();
      await server.shutdown();
    })();
    return closed;
  };

  const peer: Peer = {
    url: `${origin}/v1`,
    origin,
    requests,
    enqueue(...replies: PeerReply[]) {
      queue.push(...replies);
    },
    setHandler(next: PeerHandler) {
      handler = next;
    },
    lastRequest(): RecordedRequest {
      const last = requests.at(-1);
      if (!last) throw new Error("The peer has received no request");
      return last;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    get queued(): number {
      return queue.length;
    },
    get active(): number {
      return active;
    },
    get maxActive(): number {
      return maxActive;
    },
    resetMaxActive() {
      maxActive = active;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return Promise.resolve(peer);
}

function withoutUndefined(reply: PeerReply): PeerReply {
  return Object.fromEntries(
    Object.entries(reply).filter(([, value]) => value !== undefined),
  ) as PeerReply;
}
