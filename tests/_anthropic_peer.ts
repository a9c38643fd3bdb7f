/**
 * An Anthropic Messages API server on 127.0.0.1 for tests: real HTTP, so the
 * real client code (fetch, retries, the SSE reader) is exercised.
 *
 * It checks request shapes as the API does (a 400 `invalid_request_error`
 * naming the problem): the `x-api-key` and `anthropic-version` headers,
 * `model`, `max_tokens` (required, a positive integer), `messages` (user and
 * assistant turns only), content blocks (an image's base64 `source` whose
 * `media_type` must match its bytes), `system`, and no unknown top-level
 * field. It answers like a plausible model ("Echo: " and the last user
 * text; an image adds ` [image <media_type> <bytes> bytes]`), streams SSE
 * events when asked, or follows scripted replies: a status with an error
 * body and headers (`retry-after`...), a delay, a tool call or JSON text, a
 * cut stream, a broken connection, an `error` event, keep-alive comments, a
 * redirect.
 *
 * @module
 */

/** A request the peer received. */
export interface AnthropicRecordedRequest {
  /** HTTP method. */
  method: string;
  /** URL path. */
  path: string;
  /** URL query (`?a=b`, or `""` when none). */
  search: string;
  /** Headers, names in lower case. */
  headers: Record<string, string>;
  /** The body parsed as JSON (`undefined` when it is not JSON). */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** When it arrived (`performance.now()`). */
  at: number;
}

/**
 * How the peer answers one request. With no body-deciding field (`error`,
 * `status` >= 300, `raw`, `json`), the answer is a message: `text`,
 * `object` or `content`, else the echo; streamed when the request asked.
 */
export interface AnthropicPeerReply {
  /** HTTP status (default 200, or 500 with `error`). */
  status?: number;
  /** An error body `{type: "error", error: {type, message}}` (a string is the message). */
  error?: string | { type: string; message: string };
  /** Extra response headers (`retry-after`, `retry-after-ms`, `x-should-retry`, `request-id`). */
  headers?: Record<string, string>;
  /** Wait this long before answering (cleared when the client goes away or the peer closes). */
  delayMs?: number;
  /** The answer's text. */
  text?: string;
  /**
   * A structured answer: a `tool_use` block of the forced tool with this
   * input, or (without a forced tool) this value as JSON text.
   */
  object?: unknown;
  /** The answer's content blocks, as they are. */
  content?: unknown[];
  /** The stop reason (default `end_turn`, or `tool_use` for a tool call). */
  stopReason?: string;
  /** Send no usage. */
  noUsage?: boolean;
  /** Extra usage fields (`cache_read_input_tokens`...), merged into the usage sent. */
  usage?: Record<string, number>;
  /** A raw body. */
  raw?: string;
  /** The content type of `raw` (default `text/plain`). */
  contentType?: string;
  /** A JSON body, as it is. */
  json?: unknown;
  /** Stream: wait this long between text deltas. */
  chunkDelayMs?: number;
  /** Stream: send a `: keep-alive` comment every this many ms while waiting between deltas. */
  keepAliveMs?: number;
  /** Stream: send only this many text deltas, then end the body (no message_stop). */
  cutAfter?: number;
  /** Stream, with `cutAfter`: break the connection instead of ending the body cleanly. */
  cutWithError?: boolean;
  /** Stream: after this many text deltas, send an `error` event and end. */
  errorEventAfter?: number;
  /** The `error` event's error (default overloaded_error). */
  errorEvent?: { type: string; message: string };
  /** Stream: send a `ping` event after message_start. */
  ping?: boolean;
}

/** Produces the reply to a request when no scripted reply is queued. */
export type AnthropicPeerHandler = (
  request: AnthropicRecordedRequest,
) => AnthropicPeerReply | Promise<AnthropicPeerReply>;

/** Options of {@link startAnthropicPeer}. */
export interface AnthropicPeerOptions {
  /** The only key accepted (default: any non-empty key). */
  key?: string;
  /** The default handler (default: the echo). */
  handler?: AnthropicPeerHandler;
}

/** A running peer. Close it with `close()` or `await using`. */
export interface AnthropicPeer {
  /** The origin, for example `http://127.0.0.1:41234` (the provider's `api_base`). */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: AnthropicRecordedRequest[];
  /** Queues scripted replies, used one per request before the handler. */
  enqueue(...replies: AnthropicPeerReply[]): void;
  /** The last request (throws when there is none). */
  lastRequest(): AnthropicRecordedRequest;
  /** Requests still being answered (a delay or a stream). */
  readonly active: number;
  /** Resolves when a request is being answered (for tests that abort mid-way). */
  nextActive(): Promise<void>;
  /** Resolves when no request is being answered any more (the client went away). */
  idle(): Promise<void>;
  /** Stops the server and whatever it is answering. */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();

// The top-level fields of a Messages API request.
const FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "metadata",
  "stop_sequences",
  "stream",
  "temperature",
  "top_k",
  "top_p",
  "tools",
  "tool_choice",
  "thinking",
  "service_tier",
  "output_config",
]);
const MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== "");
}

function sniff(bytes: Uint8Array): string | undefined {
  const starts = (prefix: number[], at = 0) => prefix.every((byte, i) => bytes[at + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47])) return "image/png";
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x47, 0x49, 0x46, 0x38])) return "image/gif";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) {
    return "image/webp";
  }
  return undefined;
}

function decodeBase64(data: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** What is wrong with a request, as the API would say it, or undefined. */
// deno-lint-ignore no-explicit-any
function problemOf(request: AnthropicRecordedRequest, key: string | undefined): any {
  const headers = request.headers;
  if (!headers["x-api-key"] || (key !== undefined && headers["x-api-key"] !== key)) {
    return { status: 401, type: "authentication_error", message: "invalid x-api-key" };
  }
  if (!headers["anthropic-version"]) {
    return {
      status: 400,
      type: "invalid_request_error",
      message: "anthropic-version: header is required",
    };
  }
  if (request.method !== "POST" || request.path !== "/v1/messages") {
    return { status: 404, type: "not_found_error", message: `Not found: ${request.path}` };
  }
  const body = request.body;
  const bad = (message: string) => ({ status: 400, type: "invalid_request_error", message });
  if (!body || typeof body !== "object") return bad("The body must be a JSON object");
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field)) return bad(`${field}: Extra inputs are not permitted`);
  }
  if (typeof body.model !== "string" || body.model === "") return bad("model: Field required");
  if (body.metadata !== undefined) {
    // The API takes one metadata field, user_id (a string).
    if (!body.metadata || typeof body.metadata !== "object") return bad("metadata: invalid");
    for (const [field, value] of Object.entries(body.metadata)) {
      if (field !== "user_id") return bad(`metadata.${field}: Extra inputs are not permitted`);
      if (typeof value !== "string") return bad("metadata.user_id: Input should be a string");
    }
  }
  if (!Number.isSafeInteger(body.max_tokens) || body.max_tokens < 1) {
    return bad("max_tokens: Field required (a positive integer)");
  }
  if (body.system !== undefined && typeof body.system !== "string" && !Array.isArray(body.system)) {
    return bad("system: Input should be a valid string or a list of text blocks");
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return bad("messages: at least one message is required");
  }
  for (const [index, message] of body.messages.entries()) {
    if (message?.role !== "user" && message?.role !== "assistant") {
      return bad(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    }
    if (typeof message.content === "string") continue;
    if (!Array.isArray(message.content)) return bad(`messages.${index}.content: invalid`);
    for (const [at, block] of message.content.entries()) {
      const where = `messages.${index}.content.${at}`;
      if (block?.type === "text") {
        if (typeof block.text !== "string") return bad(`${where}.text: Field required`);
      } else if (block?.type === "image") {
        const source = block.source;
        if (source?.type === "url") continue;
        if (source?.type !== "base64") return bad(`${where}.source: invalid`);
        if (!MEDIA_TYPES.includes(source.media_type)) {
          return bad(`${where}.source.media_type: Input should be ${MEDIA_TYPES.join(", ")}`);
        }
        const bytes = decodeBase64(String(source.data));
        if (!bytes) return bad(`${where}.source.data: invalid base64 data`);
        const actual = sniff(bytes);
        if (actual !== undefined && actual !== source.media_type) {
          return bad(
            `${where}.source.base64: Image does not match the provided media type ${source.media_type}`,
          );
        }
      } else if (block?.type !== "tool_use" && block?.type !== "tool_result") {
        return bad(`${where}.type: unknown block type`);
      }
    }
  }
  return undefined;
}

// deno-lint-ignore no-explicit-any
function contentText(content: any): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  let images = "";
  for (const block of content) {
    if (block?.type === "text") texts.push(block.text);
    if (block?.type === "tool_result") texts.push(String(block.content));
    if (block?.type === "image" && block.source?.type === "base64") {
      const size = decodeBase64(String(block.source.data))?.length ?? 0;
      images += ` [image ${block.source.media_type} ${size} bytes]`;
    }
    if (block?.type === "image" && block.source?.type === "url") {
      images += ` [image ${block.source.url}]`;
    }
  }
  return texts.join(" ") + images;
}

/** `"Echo: "` and the text of the last user turn (images described). */
// deno-lint-ignore no-explicit-any
export function anthropicEcho(body: any): string {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  // deno-lint-ignore no-explicit-any
  const last = [...messages].reverse().find((message: any) => message?.role === "user");
  return "Echo: " + contentText(last?.content);
}

// deno-lint-ignore no-explicit-any
function promptWords(body: any): number {
  const system = typeof body?.system === "string" ? words(body.system).length : 0;
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  return messages.reduce(
    // deno-lint-ignore no-explicit-any
    (sum: number, message: any) => sum + words(contentText(message?.content)).length,
    system,
  );
}

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

function sse(type: string, data: Record<string, unknown>): Uint8Array {
  return encoder.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** Starts a peer on 127.0.0.1 with a free port. */
export function startAnthropicPeer(options: AnthropicPeerOptions = {}): Promise<AnthropicPeer> {
  const requests: AnthropicRecordedRequest[] = [];
  const queue: AnthropicPeerReply[] = [];
  const closing = new AbortController();
  let counter = 0;
  let active = 0;
  let waiters: (() => void)[] = [];
  let idleWaiters: (() => void)[] = [];

  // deno-lint-ignore no-explicit-any
  function message(reply: AnthropicPeerReply, body: any, id: string) {
    // deno-lint-ignore no-explicit-any
    let content: any[];
    let stopReason = reply.stopReason;
    const tool = body?.tool_choice?.type === "tool" ? body.tool_choice.name : undefined;
    if (reply.content !== undefined) content = reply.content;
    else if (reply.object !== undefined && tool !== undefined) {
      content = [{ type: "tool_use", id: `toolu_${id}`, name: tool, input: reply.object }];
      stopReason ??= "tool_use";
    } else if (reply.object !== undefined) {
      content = [{ type: "text", text: JSON.stringify(reply.object) }];
    } else content = [{ type: "text", text: reply.text ?? anthropicEcho(body) }];
    const outputWords = content.reduce(
      (sum, block) =>
        sum + words(block.type === "text" ? block.text : JSON.stringify(block.input)).length,
      0,
    );
    return {
      id,
      type: "message",
      role: "assistant",
      model: body?.model,
      content,
      stop_reason: stopReason ?? "end_turn",
      stop_sequence: null,
      ...(reply.noUsage ? {} : {
        usage: { input_tokens: promptWords(body), output_tokens: outputWords, ...reply.usage },
      }),
    };
  }

  function streamResponse(
    reply: AnthropicPeerReply,
    // deno-lint-ignore no-explicit-any
    body: any,
    id: string,
    abort: AbortController,
    headers: Headers,
  ): Response {
    const text = reply.text ?? anthropicEcho(body);
    const chunks = text.split(/(?=\s+\S)/).filter((chunk) => chunk !== "");
    const usage = { input_tokens: promptWords(body), output_tokens: 1, ...reply.usage };
    async function* events(): AsyncGenerator<Uint8Array | "cut" | "break"> {
      yield sse("message_start", {
        message: {
          id,
          type: "message",
          role: "assistant",
          model: body.model,
          content: [],
          stop_reason: null,
          usage: reply.noUsage ? undefined : usage,
        },
      });
      if (reply.ping) yield sse("ping", {});
      yield sse("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
      let sent = 0;
      for (const chunk of chunks) {
        if (reply.cutAfter !== undefined && sent >= reply.cutAfter) {
          yield reply.cutWithError ? "break" : "cut";
          return;
        }
        if (reply.errorEventAfter !== undefined && sent >= reply.errorEventAfter) {
          yield sse("error", {
            error: reply.errorEvent ?? { type: "overloaded_error", message: "Overloaded" },
          });
          return;
        }
        if (reply.chunkDelayMs && sent > 0) {
          let waited = 0;
          const step = reply.keepAliveMs ?? reply.chunkDelayMs;
          while (waited < reply.chunkDelayMs) {
            const pause = Math.min(step, reply.chunkDelayMs - waited);
            await sleep(pause, abort.signal);
            waited += pause;
            if (reply.keepAliveMs && waited < reply.chunkDelayMs) {
              yield encoder.encode(": keep-alive\n\n");
            }
          }
        }
        yield sse("content_block_delta", { index: 0, delta: { type: "text_delta", text: chunk } });
        sent++;
      }
      if (reply.cutAfter !== undefined && sent >= reply.cutAfter) {
        yield reply.cutWithError ? "break" : "cut";
        return;
      }
      yield sse("content_block_stop", { index: 0 });
      yield sse("message_delta", {
        delta: { stop_reason: reply.stopReason ?? "end_turn", stop_sequence: null },
        ...(reply.noUsage ? {} : { usage: { output_tokens: words(text).length } }),
      });
      yield sse("message_stop", {});
    }
    const iterator = events();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done || next.value === "cut") {
            controller.close();
            abort.abort();
          } else if (next.value === "break") {
            controller.error(new Error("peer: connection broken on purpose"));
            abort.abort();
          } else controller.enqueue(next.value);
        } catch (error) {
          if (abort.signal.aborted) {
            try {
              controller.close();
            } catch {
              // already closed
            }
          } else {
            controller.error(error);
            abort.abort();
          }
        }
      },
      async cancel() {
        abort.abort();
        await iterator.return(undefined).catch(() => {});
      },
    });
    headers.set("content-type", "text/event-stream; charset=utf-8");
    return new Response(stream, { status: 200, headers });
  }

  async function answer(
    reply: AnthropicPeerReply,
    recorded: AnthropicRecordedRequest,
    abort: AbortController,
    number: number,
  ): Promise<Response> {
    const headers = new Headers({ "request-id": `req_peer_${number}` });
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers.set(name, value);
    if (reply.delayMs) await sleep(reply.delayMs, abort.signal);
    const json = (status: number, body: unknown) => {
      headers.set("content-type", "application/json");
      return new Response(JSON.stringify(body), { status, headers });
    };
    if (reply.error !== undefined || (reply.status !== undefined && reply.status >= 400)) {
      const error = typeof reply.error === "object"
        ? reply.error
        : { type: "api_error", message: reply.error ?? `HTTP ${reply.status}` };
      return json(reply.status ?? 500, { type: "error", error });
    }
    if (reply.status !== undefined && reply.status >= 300) {
      return new Response(null, { status: reply.status, headers });
    }
    if (reply.raw !== undefined) {
      headers.set("content-type", reply.contentType ?? "text/plain");
      return new Response(reply.raw, { status: reply.status ?? 200, headers });
    }
    if (reply.json !== undefined) return json(reply.status ?? 200, reply.json);
    const problem = problemOf(recorded, options.key);
    if (problem) {
      return json(problem.status, {
        type: "error",
        error: { type: problem.type, message: problem.message },
      });
    }
    const id = `msg_peer_${number}`;
    if (
      recorded.body.stream === true && reply.content === undefined && reply.object === undefined
    ) {
      return streamResponse(reply, recorded.body, id, abort, headers);
    }
    return json(200, message(reply, recorded.body, id));
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const text = await request.text();
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => headers[name.toLowerCase()] = value);
      const recorded: AnthropicRecordedRequest = {
        method: request.method,
        path: url.pathname,
        search: url.search,
        headers,
        body,
        at: performance.now(),
      };
      requests.push(recorded);
      const number = ++counter;
      const abort = new AbortController();
      active++;
      for (const wake of waiters) wake();
      waiters = [];
      abort.signal.addEventListener("abort", () => {
        if (--active === 0) {
          for (const wake of idleWaiters) wake();
          idleWaiters = [];
        }
      }, { once: true });
      const onAbort = () => abort.abort();
      request.signal.addEventListener("abort", onAbort, { once: true });
      closing.signal.addEventListener("abort", onAbort, { once: true });
      abort.signal.addEventListener("abort", () => {
        request.signal.removeEventListener("abort", onAbort);
        closing.signal.removeEventListener("abort", onAbort);
      }, { once: true });
      try {
        const reply = queue.shift() ?? await (options.handler?.(recorded) ?? {});
        const response = await answer(reply, recorded, abort, number);
        if (!(response.headers.get("content-type") ?? "").includes("event-stream")) abort.abort();
        request.signal.removeEventListener("abort", onAbort);
        return response;
      } catch {
        abort.abort();
        return new Response(null, { status: 499 });
      }
    },
  );
  const addr = server.addr as Deno.NetAddr;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing.abort();
      await server.shutdown();
    })();
    return closed;
  };
  return Promise.resolve({
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    enqueue(...replies: AnthropicPeerReply[]) {
      queue.push(...replies);
    },
    lastRequest() {
      const last = requests.at(-1);
      if (!last) throw new Error("The peer has received no request");
      return last;
    },
    get active() {
      return active;
    },
    nextActive() {
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    idle() {
      return active === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}
