// toResponse() and errorResponse(): answers of the OpenAI backend (real HTTP,
// the real openai client, against the test peer) as HTTP responses.
import assert from "node:assert/strict";
import {
  AIResponse,
  type AnswerCache,
  type Backend,
  CLIENT_CLOSED_STATUS,
  createAI,
  createMemoryCache,
  DocumentResponse,
  errorResponse,
  ImproperlyConfigured,
  OpenAIBackend,
  type PromptWithContextOptions,
  toResponse,
} from "../mod.ts";
import { type Peer, type RecordedRequest, startPeer } from "./_peer.ts";

const KEY = "sk-web-SECRET-0123456789abcdef";

function backendFor(peer: Peer | string, config: Record<string, unknown> = {}): Backend {
  return createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          API_BASE: typeof peer === "string" ? peer : peer.url,
          OPENAI_API_KEY: KEY,
          MAX_RETRIES: 0,
          ...config,
        },
      },
    },
  }).getBackend();
}

function ask(backend: Backend, context = "some text", signal?: AbortSignal): AIResponse {
  return backend.promptWithContext({ prePrompt: "Correct this:", context, signal });
}

/** Waits for `condition`, checking every 10 ms, at most 30 s (an upper bound, not a timing). */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), `never happened: ${what}`);
}

/** Reads an error response's body and checks that it holds no secret nor internal detail. */
async function errorBody(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  for (const secret of [KEY, KEY.slice(-8), "127.0.0.1", "gpt-4o-mini", "OPENAI_API_KEY"]) {
    assert.ok(!text.includes(secret), `${JSON.stringify(secret)} in the body: ${text}`);
  }
  assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
  const body = JSON.parse(text);
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["message", "retryable", "type"]);
  assert.equal(typeof body.error.message, "string");
  return body.error;
}

Deno.test("toResponse() streams an answer as text with status 200", async () => {
  await using peer = await startPeer();
  const response = await toResponse(ask(backendFor(peer), "three little words"));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(await response.text(), "Echo: three little words");
});

Deno.test("toResponse() maps each error before the first chunk to its status, with a JSON body without secrets", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  // The service's messages echo the key and its last characters, as some services do.
  const leak = `Incorrect API key provided: ${KEY} (...${KEY.slice(-8)}) at 127.0.0.1`;
  const cases: {
    reply: Parameters<Peer["enqueue"]>[0];
    status: number;
    type: string;
    retryable: boolean;
  }[] = [
    {
      reply: { status: 401, error: leak },
      status: 502,
      type: "authentication_error",
      retryable: false,
    },
    {
      reply: { status: 403, error: leak },
      status: 502,
      type: "authentication_error",
      retryable: false,
    },
    {
      reply: { status: 429, error: leak, headers: { "retry-after": "17" } },
      status: 429,
      type: "rate_limit_error",
      retryable: true,
    },
    {
      reply: { status: 400, error: { message: leak, code: "context_length_exceeded" } },
      status: 413,
      type: "context_length_error",
      retryable: false,
    },
    { reply: { status: 500, error: leak }, status: 502, type: "api_error", retryable: true },
    { reply: { status: 400, error: leak }, status: 502, type: "api_error", retryable: false },
  ];
  for (const { reply, status, type, retryable } of cases) {
    peer.enqueue(reply);
    const errors: unknown[] = [];
    const response = await toResponse(ask(backend), { onError: (error) => errors.push(error) });
    assert.equal(response.status, status, type);
    const error = await errorBody(response);
    assert.equal(error.type, type);
    assert.equal(error.retryable, retryable, type);
    assert.equal(errors.length, 1, "onError is told of the error itself");
    if (status === 429) {
      assert.equal(response.headers.get("retry-after"), "17");
      assert.equal(error.message, "The AI service is busy: try again in 17 seconds.");
    } else assert.equal(response.headers.get("retry-after"), null);
  }
  // A 429 without Retry-After: no header, "later".
  peer.enqueue({ status: 429, error: "slow down" });
  const busy = await toResponse(ask(backend));
  assert.equal(busy.status, 429);
  assert.equal(busy.headers.get("retry-after"), null);
  assert.equal((await errorBody(busy)).message, "The AI service is busy: try again later.");
});

Deno.test("toResponse() gives 504 for a timeout, 503 for a service that cannot be reached", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 60_000 });
  const slow = await toResponse(ask(backendFor(peer, { TIMEOUT_SECONDS: 1 })));
  assert.equal(slow.status, 504);
  const timeout = await errorBody(slow);
  assert.equal(timeout.type, "timeout_error");
  assert.equal(timeout.retryable, true);

  // A port nothing listens on: a closed peer's.
  const gone = await startPeer();
  const url = gone.url;
  await gone.close();
  const down = await toResponse(ask(backendFor(url)));
  assert.equal(down.status, 503);
  const connection = await errorBody(down);
  assert.equal(connection.type, "connection_error");
  assert.equal(connection.retryable, true);
});

Deno.test("toResponse() gives 415 for an image of another type, 500 for bad settings", async () => {
  await using peer = await startPeer();
  const bmp = new File([new Uint8Array([0x42, 0x4d, 1, 2, 3, 4])], "scan.bmp");
  const image = await toResponse(
    backendFor(peer).describeImage({ image: bmp, prompt: "Alt text" }),
  );
  assert.equal(image.status, 415);
  const invalid = await errorBody(image);
  assert.equal(invalid.type, "invalid_image_error");
  assert.match(String(invalid.message), /scan\.bmp/);

  // No key anywhere: the OpenAI backend refuses at the call, and errorResponse() answers it.
  const keyless = createAI({
    BACKENDS: {
      default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: peer.url } },
    },
  }).getBackend();
  const saved = Deno.env.get("OPENAI_API_KEY");
  Deno.env.delete("OPENAI_API_KEY");
  try {
    const errors: unknown[] = [];
    let response: Response;
    try {
      response = await toResponse(ask(keyless));
    } catch (error) {
      response = errorResponse(error, { onError: (e) => errors.push(e) });
    }
    assert.equal(response.status, 500);
    const error = await errorBody(response);
    assert.equal(error.type, "configuration_error");
    assert.ok(errors[0] instanceof ImproperlyConfigured);
  } finally {
    if (saved !== undefined) Deno.env.set("OPENAI_API_KEY", saved);
  }
  // Bad settings found when the answer is read (a dependency that cannot be loaded...).
  const unloadable = new AIResponse({
    // deno-lint-ignore require-yield
    async *stream() {
      throw new ImproperlyConfigured(`Cannot load the "openai" package; key ${KEY}`);
    },
  });
  const late = await toResponse(unloadable);
  assert.equal(late.status, 500);
  assert.equal((await errorBody(late)).type, "configuration_error");
  assert.equal(peer.requests.length, 0);

  const other = errorResponse(new Error(`internal detail ${KEY}`));
  assert.equal(other.status, 500);
  assert.equal((await errorBody(other)).type, "internal_error");
});

Deno.test("toResponse() in SSE: data events in order, then done with the usage", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["Hello", " there,\nfriend", " again"] });
  const response = await toResponse(ask(backendFor(peer)), { format: "sse" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const text = await response.text();
  const events = text.split("\n\n");
  assert.equal(events.pop(), "", "the stream ends with a blank line");
  assert.deepEqual(events.slice(0, 3), [
    "data: Hello",
    "data:  there,\ndata: friend", // a line break is two data lines, joined by the reader
    "data:  again",
  ]);
  assert.equal(events.length, 4);
  const [name, data] = events[3].split("\n");
  assert.equal(name, "event: done");
  const done = JSON.parse(data.slice("data: ".length));
  assert.deepEqual(Object.keys(done), ["usage"]);
  // Counts only: who answered (settings, hosts in fallback errors) stays on the server.
  assert.deepEqual(Object.keys(done.usage), ["inputTokens", "outputTokens", "totalTokens"]);
  assert.equal(typeof done.usage.inputTokens, "number");
  assert.equal(done.usage.outputTokens, 4);
});

Deno.test("toResponse() after the first chunk: a text body breaks off, SSE sends event: error", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const cut = { stream: ["one", " two", " three", " four"], cutAfter: 2, cutWithError: true };

  peer.enqueue(cut);
  const errors: unknown[] = [];
  const text = await toResponse(ask(backend), { onError: (error) => errors.push(error) });
  assert.equal(text.status, 200);
  const reader = text.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  await assert.rejects(async () => {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value;
    }
  });
  assert.equal(received, "one two", "the chunks before the failure arrived");
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as Error).name, "StreamInterruptedError");

  peer.enqueue(cut);
  const sse = await toResponse(ask(backend), { format: "sse" });
  assert.equal(sse.status, 200);
  const events = (await sse.text()).split("\n\n").filter((event) => event !== "");
  assert.deepEqual(events.slice(0, 2), ["data: one", "data:  two"]);
  assert.equal(events.length, 3);
  const [name, data] = events[2].split("\n");
  assert.equal(name, "event: error");
  assert.ok(!data.includes(KEY) && !data.includes("127.0.0.1"), data);
  assert.deepEqual(JSON.parse(data.slice("data: ".length)), {
    error: { type: "api_error", message: "The AI service failed to answer.", retryable: true },
  });
});

Deno.test("toResponse() after the caller's abort answers without a body", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 60_000 });
  const controller = new AbortController();
  const pending = toResponse(ask(backendFor(peer), "x", controller.signal), {
    signal: controller.signal,
  });
  await waitFor(() => peer.active === 1, "the request reached the peer");
  // Aborted with a reason of the caller's own: still no body, as the signal says.
  controller.abort(new Error("the visitor left"));
  const response = await pending;
  assert.equal(response.status, CLIENT_CLOSED_STATUS);
  assert.equal(response.body, null);

  // An AbortError without the signal given to toResponse(): no body either.
  const early = new AbortController();
  early.abort();
  const aborted = await toResponse(ask(backendFor(peer), "x", early.signal));
  assert.equal(aborted.status, CLIENT_CLOSED_STATUS);
  assert.equal(aborted.body, null);
});

Deno.test("toResponse() aborts the AI request when its body stream is cancelled", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", " b", " c", " d", " e"], chunkDelayMs: 60_000 });
  const response = await toResponse(ask(backendFor(peer)));
  const reader = response.body!.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "a");
  assert.equal(peer.active, 1);
  await reader.cancel();
  await waitFor(() => peer.active === 0, "the peer saw the request end");
});

Deno.test("toResponse() behind Deno.serve: a client that goes away mid-answer ends the AI request", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  peer.enqueue({ stream: ["first", " second", " third"], chunkDelayMs: 60_000 });
  // The request's signal is not passed on: only the body stream's cancel can stop the request,
  // as for an upload where Deno does not abort request.signal when the client goes away.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => toResponse(ask(backend)),
  );
  const client = new AbortController();
  const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
    signal: client.signal,
  });
  const reader = response.body!.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
  client.abort();
  await reader.cancel().catch(() => {});
  await waitFor(() => peer.active === 0, "the peer saw the request end");
});

Deno.test("toResponse() takes a status and headers, and refuses bad options", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const response = await toResponse(ask(backend, "hi"), {
    status: 201,
    headers: { "access-control-allow-origin": "*", "cache-control": "private" },
  });
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("access-control-allow-origin"), "*");
  assert.equal(response.headers.get("cache-control"), "private");
  assert.equal(await response.text(), "Echo: hi");

  peer.enqueue({ status: 429, error: "slow down" });
  const error = await toResponse(ask(backend), {
    headers: { "access-control-allow-origin": "*", "content-type": "text/html" },
  });
  assert.equal(error.headers.get("access-control-allow-origin"), "*");
  assert.equal((await errorBody(error)).type, "rate_limit_error");

  const answer = ask(backend);
  // @ts-expect-error: not a format
  await assert.rejects(toResponse(answer, { format: "html" }), TypeError);
  await assert.rejects(toResponse(answer, { status: 404 }), RangeError);
  await assert.rejects(toResponse(answer, { status: 200.5 }), RangeError);
  // @ts-expect-error: not an answer
  await assert.rejects(toResponse("text"), TypeError);
  // @ts-expect-error: not options
  await assert.rejects(toResponse(answer, null), TypeError);
  assert.equal(peer.requests.length, 2, "bad options send nothing");
});

Deno.test("toResponse() of an empty answer is an empty 200 (text) or only done (SSE)", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  peer.enqueue({ stream: [] }, { stream: [] });
  const text = await toResponse(ask(backend));
  assert.equal(text.status, 200);
  assert.equal(await text.text(), "");
  const sse = await toResponse(ask(backend), { format: "sse" });
  assert.match(await sse.text(), /^event: done\ndata: \{"usage":\{.*\}\}\n\n$/);
});

// Document runs (ai.processText()) as responses.

const PROMPT = "Fix the spelling of this text:";
const PARAGRAPHS = [
  "First paragraph has some words.",
  "Second paragraph has more words.",
  "Third paragraph ends it.",
  "Fourth one too.",
];
// Paragraphs apart by different spaces: they must reach the new document byte for byte.
const DOCUMENT = PARAGRAPHS.join("\n\n").replace("\n\nThird", "\n\n\n  Third");

/** The signals of every request, from a backend that notes them (real requests all the same). */
const signals: AbortSignal[] = [];
class NotingBackend extends OpenAIBackend {
  override promptWithContext(options: PromptWithContextOptions): AIResponse {
    signals.push(options.signal!);
    return super.promptWithContext(options);
  }
}

/** Every request noted has had its signal aborted (the peer may not notice a request it delays). */
function assertAllAborted(count: number): void {
  assert.equal(signals.length, count);
  for (const signal of signals) assert.ok(signal.aborted, "a request was left in flight");
  signals.length = 0;
}

/** The text of the last user message of a chat request (the chunk). */
function chunkOf(request: RecordedRequest): string {
  // deno-lint-ignore no-explicit-any
  const user = request.body.messages.filter((message: any) => message.role === "user").at(-1);
  return typeof user.content === "string" ? user.content : user.content[0].text;
}

function editorAI(peer: Peer | string, config: Record<string, unknown> = {}, noting = false) {
  return createAI({
    BACKENDS: {
      default: {
        CLASS: noting ? NotingBackend : "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          API_BASE: typeof peer === "string" ? peer : peer.url,
          OPENAI_API_KEY: KEY,
          MAX_RETRIES: 0,
          ...config,
        },
      },
    },
    PROMPTS: {
      fix: { LABEL: "Fix", PROMPT, METHOD: "replace" },
      more: { LABEL: "More", PROMPT: "Continue the text:", METHOD: "append" },
    },
  });
}

/** A run over DOCUMENT: one chunk per paragraph (chunkSize 10), `concurrency` at once. */
function fixRun(
  ai: ReturnType<typeof editorAI>,
  options: { concurrency?: number; signal?: AbortSignal; cache?: AnswerCache } = {},
): DocumentResponse {
  return ai.processText({ prompt: "fix", text: DOCUMENT, chunkSize: 10, ...options });
}

/** The default peer's new document for DOCUMENT: each paragraph echoed. */
const ECHOED = DOCUMENT.replace(/[A-Z][^\n]*\./g, (paragraph) => `Echo: ${paragraph}`);

interface SseEvent {
  event: string;
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** The events of an SSE body, their data parsed as JSON; checks the body holds no secret. */
function sseEvents(text: string): SseEvent[] {
  for (const secret of [KEY, KEY.slice(-8), "127.0.0.1", "gpt-4o-mini", "OPENAI_API_KEY", PROMPT]) {
    assert.ok(!text.includes(secret), `${JSON.stringify(secret)} in the body: ${text}`);
  }
  assert.ok(text.endsWith("\n\n"), "the stream ends with a blank line");
  return text.slice(0, -2).split("\n\n").map((block) => {
    const lines = block.split("\n");
    assert.match(lines[0], /^event: (delta|chunk|done|error)$/);
    assert.equal(lines.length, 2, block);
    assert.ok(lines[1].startsWith("data: "), block);
    return { event: lines[0].slice("event: ".length), data: JSON.parse(lines[1].slice(6)) };
  });
}

Deno.test("toResponse() of a document run streams the new document as text, in document order", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  // The first paragraph is answered after the others: the body still starts with it.
  let first!: () => void;
  const firstWaits = new Promise<void>((resolve) => (first = resolve));
  let others = 0;
  peer.setHandler(async (request) => {
    const text = chunkOf(request);
    if (text.startsWith("First")) await firstWaits;
    else if (++others === PARAGRAPHS.length - 1) setTimeout(first, 50);
    return { text: `Echo: ${text}` };
  });
  const response = await toResponse(fixRun(ai, { concurrency: 4 }));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const reads: string[] = [];
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    reads.push(value);
  }
  assert.equal(reads.join(""), ECHOED, "the body is the new document, spaces kept");
  assert.ok(reads[0].startsWith("Echo: First paragraph"), reads[0]);
  assert.equal(await fixRun(ai).text(), ECHOED);
});

Deno.test("toResponse() of a document run in SSE: deltas, chunks in document order, then done", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  const response = await toResponse(fixRun(ai, { concurrency: 2 }), { format: "sse" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const events = sseEvents(await response.text());
  const chunks = events.filter((event) => event.event === "chunk");
  assert.deepEqual(chunks.map((event) => event.data.index), [0, 1, 2, 3]);
  for (const { data } of chunks) {
    assert.deepEqual(Object.keys(data), [
      "index",
      "total",
      "start",
      "end",
      "replacement",
      "cached",
    ]);
    assert.equal(data.total, 4);
    assert.equal(data.cached, false);
    assert.equal(data.replacement, `Echo: ${DOCUMENT.slice(data.start, data.end)}`);
  }
  // Each chunk's deltas come before its event, and add up to its answer, word by word.
  for (const chunk of chunks) {
    const at = events.indexOf(chunk);
    const deltas = events.filter((event, i) =>
      event.event === "delta" && event.data.index === chunk.data.index && i < at
    );
    assert.ok(deltas.length >= 3, `streamed word by word: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.map((event) => event.data.delta).join(""), chunk.data.replacement);
    for (const { data } of deltas) {
      assert.deepEqual(Object.keys(data), ["index", "total", "start", "end", "delta"]);
      assert.deepEqual([data.start, data.end], [chunk.data.start, chunk.data.end]);
    }
    assert.ok(
      !events.slice(at).some((event) =>
        event.event === "delta" && event.data.index === chunk.data.index
      ),
      "no delta of a chunk after its event",
    );
  }
  assert.equal(events.filter((event) => event.event === "delta").length + 5, events.length);
  assert.deepEqual(events.at(-1), {
    event: "done",
    data: { text: ECHOED, chunks: 4, cached: 0, kept: 0 },
  });
  // The streamed requests: one per chunk.
  assert.equal(peer.requests.length, 4);
  assert.ok(peer.requests.every((request) => request.body.stream === true));
});

Deno.test("toResponse() of a document run in SSE: cached chunks and kept ones are counted", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  const cache = createMemoryCache();
  await fixRun(ai, { cache }).text();
  const again = sseEvents(
    await (await toResponse(fixRun(ai, { cache }), { format: "sse" })).text(),
  );
  assert.deepEqual(again.map((event) => event.event), ["chunk", "chunk", "chunk", "chunk", "done"]);
  assert.ok(again.slice(0, 4).every((event) => event.data.cached === true));
  assert.deepEqual(again[4].data, { text: ECHOED, chunks: 4, cached: 4, kept: 0 });
  assert.equal(peer.requests.length, 4, "the second run sent nothing");

  // HTML whose answer drops a tag: the chunk keeps its text, and says so.
  peer.enqueue({ text: "<p>A bold word.</p>" });
  const html = "<p>A <b>bold</b> word.</p>";
  const kept = sseEvents(
    await (await toResponse(
      ai.processText({ prompt: "fix", text: html, format: "html" }),
      { format: "sse" },
    )).text(),
  );
  const chunk = kept.find((event) => event.event === "chunk")!;
  assert.equal(chunk.data.kept, "markup changed");
  assert.equal(chunk.data.replacement, html);
  assert.deepEqual(kept.at(-1)!.data, { text: html, chunks: 1, cached: 0, kept: 1 });
});

Deno.test("toResponse() of a document run maps an error before the first event to its status, in both formats", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  const leak = `Incorrect API key provided: ${KEY} (...${KEY.slice(-8)}) at 127.0.0.1`;
  const cases: {
    reply: Parameters<Peer["enqueue"]>[0];
    status: number;
    type: string;
  }[] = [
    { reply: { status: 401, error: leak }, status: 502, type: "authentication_error" },
    {
      reply: { status: 429, error: leak, headers: { "retry-after": "9" } },
      status: 429,
      type: "rate_limit_error",
    },
    { reply: { status: 500, error: leak }, status: 502, type: "api_error" },
    {
      reply: { status: 400, error: { message: leak, code: "context_length_exceeded" } },
      status: 413,
      type: "context_length_error",
    },
  ];
  for (const format of ["text", "sse"] as const) {
    for (const { reply, status, type } of cases) {
      // One chunk at a time: the first chunk's failure comes before any event.
      peer.enqueue(reply);
      const errors: unknown[] = [];
      const response = await toResponse(fixRun(ai, { concurrency: 1 }), {
        format,
        onError: (error) => errors.push(error),
      });
      assert.equal(response.status, status, `${format} ${type}`);
      assert.equal((await errorBody(response)).type, type);
      assert.equal(errors.length, 1);
      assert.equal(response.headers.get("retry-after"), status === 429 ? "9" : null);
    }
  }
  const sent = peer.requests.length;
  assert.equal(sent, cases.length * 2, "the run stopped at its first failure");

  // An append over the window: 413 before anything is sent.
  const small = editorAI(peer, { TOKEN_LIMIT: 64 });
  const long = await toResponse(small.processText({ prompt: "more", text: "Long. ".repeat(100) }));
  assert.equal(long.status, 413);
  assert.equal((await errorBody(long)).type, "context_length_error");
  assert.equal(peer.requests.length, sent);

  // A timeout and a service that cannot be reached.
  peer.enqueue({ delayMs: 60_000 });
  const slow = await toResponse(
    fixRun(editorAI(peer, { TIMEOUT_SECONDS: 1 }), { concurrency: 1 }),
    { format: "sse" },
  );
  assert.equal(slow.status, 504);
  assert.equal((await errorBody(slow)).type, "timeout_error");
  const gone = await startPeer();
  const url = gone.url;
  await gone.close();
  const down = await toResponse(fixRun(editorAI(url)));
  assert.equal(down.status, 503);
  assert.equal((await errorBody(down)).type, "connection_error");
});

Deno.test("toResponse() of a document run after the first event: text breaks off, SSE sends event: error", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  const leak = `upstream failed for ${KEY} at 127.0.0.1`;

  // One chunk at a time: the first is answered, the second fails.
  peer.enqueue({ text: "Fixed first." }, { status: 500, error: leak });
  const errors: unknown[] = [];
  const text = await toResponse(fixRun(ai, { concurrency: 1 }), {
    onError: (error) => errors.push(error),
  });
  assert.equal(text.status, 200);
  const reader = text.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  await assert.rejects(async () => {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value;
    }
  });
  assert.equal(received, "Fixed first.", "the first chunk arrived, nothing after it");
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { status?: number }).status, 500);

  peer.enqueue({ text: "Fixed first." }, { status: 500, error: leak });
  const sse = await toResponse(fixRun(ai, { concurrency: 1 }), { format: "sse" });
  assert.equal(sse.status, 200);
  const events = sseEvents(await sse.text());
  assert.deepEqual(events.filter((event) => event.event !== "delta").map((event) => event.event), [
    "chunk",
    "error",
  ]);
  assert.deepEqual(events.at(-1)!.data, {
    error: {
      type: "api_error",
      message: "The AI service failed to answer (HTTP 500).",
      retryable: true,
    },
  });
  assert.equal(peer.requests.length, 4);
});

/**
 * A peer whose answers to the chunks of DOCUMENT stall: a stream after its first word, a whole
 * answer before it starts; but the first chunk is answered at once when `quick`.
 */
async function stallingPeer(quick = false): Promise<Peer> {
  return await startPeer({
    handler: (request) => {
      if (quick && chunkOf(request).startsWith("First")) return { text: "Done first." };
      if (request.body.stream !== true) return { delayMs: 60_000 };
      return { stream: ["Starting", " and", " stalling"], chunkDelayMs: 60_000 };
    },
  });
}

Deno.test("toResponse() of a document run: a cancelled body aborts every chunk request in flight", async () => {
  signals.length = 0;
  // SSE: the first delta, with four chunks in flight.
  {
    await using peer = await stallingPeer();
    const errors: unknown[] = [];
    const response = await toResponse(fixRun(editorAI(peer, {}, true), { concurrency: 4 }), {
      format: "sse",
      onError: (error) => errors.push(error),
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.match((await reader.read()).value!, /^event: delta\n/);
    await waitFor(() => peer.active === 4, "four chunks in flight");
    await reader.cancel();
    await waitFor(() => peer.active === 0, "the peer saw every request end");
    assert.equal(peer.requests.length, 4);
    assertAllAborted(4);
    assert.deepEqual(errors, [], "a client that left is no error");
  }
  // Text: the first chunk written, three in flight; behind Deno.serve, the client goes away.
  {
    await using peer = await stallingPeer(true);
    const ai = editorAI(peer, {}, true);
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => toResponse(fixRun(ai, { concurrency: 4 })),
    );
    const client = new AbortController();
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
      signal: client.signal,
    });
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), "Done first.");
    await waitFor(() => peer.active === 3, "three chunks in flight");
    client.abort();
    await reader.cancel().catch(() => {});
    await waitFor(() => signals.every((signal) => signal.aborted), "every request aborted");
    assertAllAborted(4);
  }
});

Deno.test("toResponse() of a document run after the caller's abort answers without a body", async () => {
  // Nothing is answered: the abort comes before the first event in both formats.
  await using peer = await startPeer({ handler: () => ({ delayMs: 60_000 }) });
  signals.length = 0;
  for (const format of ["text", "sse"] as const) {
    const controller = new AbortController();
    const pending = toResponse(
      fixRun(editorAI(peer, {}, true), { signal: controller.signal }),
      { format, signal: controller.signal },
    );
    await waitFor(() => signals.length === 4, "the chunks were asked for");
    controller.abort(new Error("the visitor left"));
    const response = await pending;
    assert.equal(response.status, CLIENT_CLOSED_STATUS);
    assert.equal(response.body, null);
    assertAllAborted(4);
  }
});

Deno.test("toResponse() of a document run: an empty document, and a source that does not give its text", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  const blank = "\n\n  \n";
  assert.equal(
    await (await toResponse(ai.processText({ prompt: "fix", text: blank }))).text(),
    blank,
  );
  assert.deepEqual(
    sseEvents(
      await (await toResponse(ai.processText({ prompt: "fix", text: blank }), {
        format: "sse",
      })).text(),
    ),
    [{ event: "done", data: { text: blank, chunks: 0, cached: 0, kept: 0 } }],
  );
  assert.equal(peer.requests.length, 0);

  // Without its input, the text body is the new document at the end.
  const custom = new DocumentResponse({
    run(emit) {
      emit({
        index: 0,
        total: 1,
        start: 0,
        end: 2,
        original: "Hi",
        replacement: "Hello",
        cached: false,
      });
      return Promise.resolve("Hello, world");
    },
  });
  assert.equal(custom.input, undefined);
  assert.equal(await (await toResponse(custom)).text(), "Hello, world");
});

Deno.test("toResponse() of an append run in SSE: deltas at the insertion point, then the chunk", async () => {
  await using peer = await startPeer();
  const ai = editorAI(peer);
  peer.enqueue({ text: "And then it ended." });
  const text = "It began.\n";
  const events = sseEvents(
    await (await toResponse(ai.processText({ prompt: "more", text }), { format: "sse" })).text(),
  );
  const deltas = events.filter((event) => event.event === "delta");
  assert.deepEqual(deltas.map((event) => event.data.delta), ["And", " then", " it", " ended."]);
  for (const { data } of deltas) assert.deepEqual([data.start, data.end], [9, 9]);
  assert.deepEqual(events.slice(deltas.length).map((event) => event.event), ["chunk", "done"]);
  assert.equal(events.at(-2)!.data.replacement, " And then it ended.");
  assert.equal(events.at(-1)!.data.text, "It began. And then it ended.\n");
  // As text: the new document.
  peer.enqueue({ text: "And then it ended." });
  const body = await (await toResponse(ai.processText({ prompt: "more", text }))).text();
  assert.equal(body, "It began. And then it ended.\n");
});
