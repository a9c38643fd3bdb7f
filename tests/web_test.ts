// toResponse() and errorResponse(): answers of the OpenAI backend (real HTTP,
// the real openai client, against the test peer) as HTTP responses.
import assert from "node:assert/strict";
import {
  AIResponse,
  type Backend,
  CLIENT_CLOSED_STATUS,
  createAI,
  errorResponse,
  ImproperlyConfigured,
  toResponse,
} from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";

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
