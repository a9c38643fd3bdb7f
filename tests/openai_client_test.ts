import assert from "node:assert/strict";
import {
  chatCompletion,
  type ChatRequest,
  chatStream,
  clearClientCache,
  clientCacheSize,
  type ClientSettings,
  isClientCached,
  type StreamEvent,
} from "../_openai/mod.ts";
import {
  APIError,
  AuthenticationError,
  ConnectionError,
  ContextLengthError,
  NotFoundError,
  RateLimitError,
  StreamInterruptedError,
  TimeoutError,
} from "../errors.ts";
import { type Peer, startPeer } from "./_peer.ts";

const KEY = "sk-test-SECRET-1234567890";
const HEADER_SECRET = "hdr-secret-value-42";

function settingsFor(peer: Peer, extra: Partial<ClientSettings> = {}): ClientSettings {
  return {
    apiKey: KEY,
    baseURL: peer.url,
    timeoutMs: 10_000,
    maxRetries: 0,
    provider: "openai",
    backend: "default",
    ...extra,
  };
}

function ask(text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "gpt-4o-mini", messages: [{ role: "user", content: text }], ...extra };
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** Waits (up to about 5 s) until `condition()` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition(), "condition not reached");
}

function textOf(events: StreamEvent[]): string {
  return events.map((event) => (event.type === "text" ? event.text : "")).join("");
}

/** Asserts that `error` is an instance of `cls` and never mentions a secret. */
function expectError<T extends Error>(
  // deno-lint-ignore no-explicit-any
  cls: new (...args: any[]) => T,
  check?: (error: T) => void,
): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof cls, `expected ${cls.name}, got ${String(error)}`);
    assert.ok(!error.message.includes(KEY), `key in message: ${error.message}`);
    assert.ok(!error.message.includes(HEADER_SECRET), `header in message: ${error.message}`);
    check?.(error);
    return true;
  };
}

Deno.test("_openai does not use the openai package: requests go through the module's HTTP layer", async () => {
  const folder = new URL("../_openai/", import.meta.url);
  let source = "";
  for await (const entry of Deno.readDir(folder)) {
    if (entry.isFile) source += await Deno.readTextFile(new URL(entry.name, folder)) + "\n";
  }
  assert.doesNotMatch(source, /from\s+"(npm:)?openai(@[^"]*)?"|import\(\s*"(npm:)?openai/);
  assert.match(source, /from "\.\.\/_http\/fetch\.ts"/);
});

Deno.test("chatCompletion() returns the completion in the OpenAI shape", async () => {
  await using peer = await startPeer();
  const completion = await chatCompletion(settingsFor(peer), ask("Hello there"));
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.model, "gpt-4o-mini");
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(completion.choices[0].message.content, "Echo: Hello there");
  assert.equal(completion.choices[0].finish_reason, "stop");
  assert.deepEqual(completion.usage, {
    inputTokens: 2,
    outputTokens: 3,
    totalTokens: 5,
    raw: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
  });
  const request = peer.lastRequest();
  assert.equal(request.path, "/v1/chat/completions");
  assert.equal(request.body.model, "gpt-4o-mini");
  assert.equal(request.body.stream, false);
  assert.deepEqual(request.body.messages, [{ role: "user", content: "Hello there" }]);
});

Deno.test("chatCompletion() sends content parts and options through", async () => {
  await using peer = await startPeer();
  const image = "data:image/png;base64," + btoa("x".repeat(123));
  const completion = await chatCompletion(settingsFor(peer), {
    model: "gpt-4o",
    messages: [
      { role: "system", content: [{ type: "text", text: "Be brief" }] },
      {
        role: "user",
        content: [{ type: "text", text: "Describe" }, {
          type: "image_url",
          image_url: { url: image },
        }],
      },
    ],
    options: { temperature: 0.5, max_tokens: 20, user: "u1", stream: true, top_p: undefined },
  });
  assert.equal(
    completion.choices[0].message.content,
    "Echo: Describe [image image/png 123 bytes]",
  );
  const body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.5);
  assert.equal(body.max_tokens, 20);
  assert.equal(body.user, "u1");
  assert.equal(body.stream, false);
  assert.ok(!("top_p" in body));
  assert.equal(body.messages[1].content[1].image_url.url, image);
});

Deno.test("chatCompletion() sends the API key as a bearer token", async () => {
  await using peer = await startPeer();
  await chatCompletion(settingsFor(peer), ask("hi"));
  assert.equal(peer.lastRequest().headers.authorization, `Bearer ${KEY}`);
});

Deno.test("chatCompletion() sends no Authorization header without a key", async () => {
  await using peer = await startPeer();
  const completion = await chatCompletion(settingsFor(peer, { apiKey: undefined }), ask("hi"));
  assert.equal(completion.choices[0].message.content, "Echo: hi");
  assert.equal(peer.lastRequest().headers.authorization, undefined);
  await chatCompletion(settingsFor(peer, { apiKey: "" }), ask("hi"));
  assert.equal(peer.lastRequest().headers.authorization, undefined);
});

Deno.test("chatCompletion() ignores OPENAI_API_KEY and OPENAI_BASE_URL in the environment", async () => {
  await using peer = await startPeer();
  const saved = [Deno.env.get("OPENAI_API_KEY"), Deno.env.get("OPENAI_BASE_URL")];
  Deno.env.set("OPENAI_API_KEY", "sk-from-env-0000");
  Deno.env.set("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
  try {
    await chatCompletion(settingsFor(peer, { apiKey: undefined }), ask("hi"));
    assert.equal(peer.lastRequest().headers.authorization, undefined);
  } finally {
    for (const [name, value] of [["OPENAI_API_KEY", saved[0]], ["OPENAI_BASE_URL", saved[1]]]) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
});

Deno.test("chatCompletion() passes headers, organization and query through", async () => {
  await using peer = await startPeer();
  await chatCompletion(
    settingsFor(peer, {
      headers: { "X-Custom": HEADER_SECRET },
      organization: "org-123",
      defaultQuery: { "api-version": "2024-10-21" },
    }),
    ask("hi"),
  );
  const request = peer.lastRequest();
  assert.equal(request.headers["x-custom"], HEADER_SECRET);
  assert.equal(request.headers["openai-organization"], "org-123");
  assert.deepEqual(request.query, { "api-version": "2024-10-21" });
});

Deno.test("chatCompletion() lets a custom Authorization header replace the key", async () => {
  await using peer = await startPeer();
  await chatCompletion(
    settingsFor(peer, { apiKey: undefined, headers: { Authorization: "Token abc" } }),
    ask("hi"),
  );
  assert.equal(peer.lastRequest().headers.authorization, "Token abc");
});

Deno.test("chatCompletion() uses the base URL's path", async () => {
  await using peer = await startPeer();
  await chatCompletion(settingsFor(peer, { baseURL: `${peer.origin}/proxy/openai/v1/` }), ask("x"));
  assert.equal(peer.lastRequest().path, "/proxy/openai/v1/chat/completions");
});

Deno.test("chatCompletion() caches one client per distinct settings", async () => {
  await using peer = await startPeer();
  clearClientCache();
  await chatCompletion(settingsFor(peer), ask("a"));
  await chatCompletion(settingsFor(peer), ask("b"));
  assert.equal(clientCacheSize(), 1);
  await chatCompletion(settingsFor(peer, { apiKey: "sk-other-key" }), ask("c"));
  assert.equal(clientCacheSize(), 2);
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-other-key");
});

Deno.test("chatCompletion() keeps at most 32 clients and evicts the least recently used", async () => {
  await using peer = await startPeer();
  clearClientCache();
  const settings = (i: number) => settingsFor(peer, { apiKey: `sk-cache-${i}` });
  for (let i = 0; i < 32; i++) await chatCompletion(settings(i), ask(`fill ${i}`));
  assert.equal(clientCacheSize(), 32);
  await chatCompletion(settings(0), ask("use the oldest again"));
  await chatCompletion(settings(32), ask("one more"));
  assert.equal(clientCacheSize(), 32);
  assert.ok(await isClientCached(settings(0)), "a client just used stays");
  assert.ok(!(await isClientCached(settings(1))), "the least recently used one goes");
  assert.ok(await isClientCached(settings(32)));
  clearClientCache();
});

Deno.test("chatCompletion() retries a 500 and then succeeds", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 500, error: "overloaded" });
  const completion = await chatCompletion(settingsFor(peer, { maxRetries: 2 }), ask("again"));
  assert.equal(completion.choices[0].message.content, "Echo: again");
  assert.equal(peer.requests.length, 2);
  assert.deepEqual(peer.requests[1].body, peer.requests[0].body, "the same request, sent again");
});

Deno.test("chatCompletion() honours retry-after-ms on 429", async () => {
  await using peer = await startPeer();
  peer.enqueue(
    { status: 429, error: "slow down", headers: { "retry-after-ms": "10" } },
    { status: 429, error: "slow down", headers: { "retry-after-ms": "10" } },
  );
  const completion = await chatCompletion(settingsFor(peer, { maxRetries: 2 }), ask("x"));
  assert.equal(completion.choices[0].message.content, "Echo: x");
  assert.equal(peer.requests.length, 3);
});

Deno.test("chatCompletion() gives up after maxRetries with RateLimitError", async () => {
  await using peer = await startPeer();
  const reply = {
    status: 429,
    error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" },
    headers: { "retry-after": "0.01", "x-request-id": "req_rl" },
  };
  peer.enqueue(reply, reply, reply);
  await assert.rejects(
    chatCompletion(settingsFor(peer, { maxRetries: 2 }), ask("x")),
    expectError(RateLimitError, (error) => {
      assert.equal(error.status, 429);
      assert.equal(error.retryable, true);
      assert.equal(error.requestId, "req_rl");
      assert.equal(error.provider, "openai");
      assert.equal(error.backend, "default");
      assert.equal(error.model, "gpt-4o-mini");
      assert.match(error.message, /Rate limit reached/);
    }),
  );
  assert.equal(peer.requests.length, 3);
});

Deno.test("RateLimitError.retryAfterSeconds comes from retry-after-ms or Retry-After (seconds or an HTTP date)", async () => {
  await using peer = await startPeer();
  const inTwoMinutes = new Date(Date.now() + 120_000).toUTCString();
  const cases: [Record<string, string>, (seconds: number | undefined) => void][] = [
    [{ "retry-after-ms": "1500" }, (s) => assert.equal(s, 2)],
    [{ "retry-after-ms": "20", "retry-after": "99" }, (s) => assert.equal(s, 1)],
    [{ "retry-after": "7" }, (s) => assert.equal(s, 7)],
    [{ "retry-after": "0.2" }, (s) => assert.equal(s, 1)],
    // An HTTP date: the seconds from now (one second of slack for the clock).
    [{ "retry-after": inTwoMinutes }, (s) => assert.ok(s !== undefined && s >= 119 && s <= 120)],
    [{ "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" }, (s) => assert.equal(s, 0)],
    [{ "retry-after": "soon" }, (s) => assert.equal(s, undefined)],
    [{ "retry-after-ms": "-5" }, (s) => assert.equal(s, undefined)],
    [{}, (s) => assert.equal(s, undefined)],
  ];
  for (const [headers, check] of cases) {
    peer.enqueue({ status: 429, error: "slow down", headers });
    await assert.rejects(
      chatCompletion(settingsFor(peer), ask("x")),
      expectError(RateLimitError, (error) => check(error.retryAfterSeconds)),
    );
  }
  assert.equal(peer.requests.length, cases.length); // maxRetries 0: no retry
});

Deno.test("chatCompletion() does not retry a 400", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 400, error: { message: "bad temperature", code: "invalid_value" } });
  await assert.rejects(
    chatCompletion(settingsFor(peer, { maxRetries: 2 }), ask("x")),
    expectError(APIError, (error) => {
      assert.equal(error.constructor, APIError);
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
      assert.match(error.message, /bad temperature/);
    }),
  );
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatCompletion() maps 401 and 403 to AuthenticationError", async () => {
  await using peer = await startPeer();
  peer.enqueue(
    {
      status: 401,
      error: { message: `Incorrect API key provided: ${KEY}`, code: "invalid_api_key" },
    },
    { status: 403, error: "forbidden" },
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(AuthenticationError, (error) => {
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      assert.match(error.message, /Incorrect API key provided: \*\*\*/);
    }),
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(AuthenticationError, (error) => assert.equal(error.status, 403)),
  );
});

Deno.test("chatCompletion() maps 404 to NotFoundError naming the model", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    status: 404,
    error: { message: "The model does not exist", code: "model_not_found" },
  });
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x", { model: "gpt-17" })),
    expectError(NotFoundError, (error) => {
      assert.equal(error.status, 404);
      assert.match(error.message, /"gpt-17"/);
      assert.match(error.message, /does not exist/);
    }),
  );
});

Deno.test("chatCompletion() maps context-length 400s to ContextLengthError", async () => {
  await using peer = await startPeer();
  peer.enqueue(
    { status: 400, error: { message: "Too long", code: "context_length_exceeded" } },
    {
      status: 400,
      error: { message: "This model's maximum context length is 8192 tokens", code: null },
    },
  );
  for (let i = 0; i < 2; i++) {
    await assert.rejects(
      chatCompletion(settingsFor(peer), ask("x")),
      expectError(ContextLengthError, (error) => {
        assert.equal(error.status, 400);
        assert.equal(error.model, "gpt-4o-mini");
      }),
    );
  }
});

Deno.test("chatCompletion() maps a 5xx after retries to a retryable APIError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 503, raw: "<html>upstream down</html>", contentType: "text/html" });
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => {
      assert.equal(error.status, 503);
      assert.equal(error.retryable, true);
      assert.match(error.message, /upstream down/);
    }),
  );
});

Deno.test("chatCompletion() rejects malformed JSON with APIError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ malformed: true });
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => {
      assert.equal(error.status, 200);
      assert.match(error.message, /malformed JSON/);
    }),
  );
});

Deno.test("chatCompletion() rejects answers without choices, saying what is missing", async () => {
  await using peer = await startPeer();
  peer.enqueue(
    { json: { id: "x", object: "chat.completion" }, headers: { "x-request-id": "req_nc" } },
    { json: { choices: [] } },
    { json: { choices: [{ index: 0 }] } },
    { raw: "just text" },
    { json: { choices: [{ message: { role: "assistant", content: 42 } }] } },
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => {
      assert.match(error.message, /no "choices"/);
      assert.equal(error.requestId, "req_nc");
    }),
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => assert.match(error.message, /"choices" is empty/)),
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => assert.match(error.message, /choices\[0\] has no "message"/)),
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => assert.match(error.message, /not a JSON object/)),
  );
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x")),
    expectError(APIError, (error) => assert.match(error.message, /content is not text/)),
  );
});

Deno.test("chatCompletion() turns null content into an empty string", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    json: {
      id: "c1",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: null }, finish_reason: "stop" }],
    },
  });
  const completion = await chatCompletion(settingsFor(peer), ask("x"));
  assert.equal(completion.choices[0].message.content, "");
  assert.equal(completion.usage, undefined);
});

Deno.test("chatCompletion() times out with TimeoutError and leaks nothing", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 10_000 });
  await assert.rejects(
    chatCompletion(settingsFor(peer, { timeoutMs: 50 }), ask("x")),
    expectError(TimeoutError, (error) => {
      assert.equal(error.retryable, true);
      assert.match(error.message, /timed out after 50 ms/);
    }),
  );
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatCompletion() retries a timeout as configured", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 10_000 }, { delayMs: 10_000 });
  // The third attempt must be answered within the timeout: headroom for a loaded machine.
  const completion = await chatCompletion(
    settingsFor(peer, { timeoutMs: 1_000, maxRetries: 2 }),
    ask("x"),
  );
  assert.equal(completion.choices[0].message.content, "Echo: x");
  assert.equal(peer.requests.length, 3);
});

Deno.test("chatCompletion() rejects with the abort reason while the reply is delayed", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 10_000 });
  const controller = new AbortController();
  const pending = chatCompletion(
    settingsFor(peer, { maxRetries: 2 }),
    ask("x", {
      signal: controller.signal,
    }),
  );
  while (peer.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  controller.abort();
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "AbortError");
    return true;
  });
  // Measured, not asserted (no timing thresholds in tests).
  const elapsed = performance.now() - start;
  if (elapsed > 100) console.warn(`abort took ${elapsed.toFixed(0)} ms`);
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatCompletion() rejects with a custom abort reason, before any request", async () => {
  await using peer = await startPeer();
  const reason = new Error("user left");
  await assert.rejects(
    chatCompletion(settingsFor(peer), ask("x", { signal: AbortSignal.abort(reason) })),
    (error) => error === reason,
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("chatCompletion() maps a refused connection to ConnectionError", async () => {
  const peer = await startPeer();
  const settings = settingsFor(peer, {
    headers: { "X-Secret": HEADER_SECRET },
    defaultQuery: { key: "query-secret-1" },
  });
  await peer.close();
  await assert.rejects(
    chatCompletion(settings, ask("x")),
    expectError(ConnectionError, (error) => {
      assert.equal(error.retryable, true);
      assert.equal(error.status, undefined);
      assert.match(error.message, /Cannot connect to openai at http:\/\/127\.0\.0\.1:\d+\/v1/);
      assert.ok(!error.message.includes("query-secret-1"));
    }),
  );
});

Deno.test("chatCompletion() never puts the key or header values in messages", async () => {
  await using peer = await startPeer();
  const settings = settingsFor(peer, { headers: { "X-Secret": HEADER_SECRET } });
  peer.enqueue(
    { status: 400, error: `bad request with key ${KEY} and header ${HEADER_SECRET}` },
    { status: 500, error: `server echoed Bearer ${KEY}` },
    { json: { choices: "nope " + KEY } },
  );
  for (let i = 0; i < 3; i++) {
    await assert.rejects(chatCompletion(settings, ask("x")), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.ok(!error.message.includes(KEY), error.message);
      assert.ok(!error.message.includes(HEADER_SECRET), error.message);
      assert.ok(!JSON.stringify(error).includes(KEY));
      assert.ok(!Deno.inspect(error).includes(KEY));
      return true;
    });
  }
});

Deno.test("chatStream() yields text chunks in order, then usage", async () => {
  await using peer = await startPeer();
  const events = await collect(chatStream(settingsFor(peer), ask("one two three")));
  assert.deepEqual(events.filter((event) => event.type === "text").map((e) => e.text), [
    "Echo:",
    " one",
    " two",
    " three",
  ]);
  assert.deepEqual(events.at(-1), {
    type: "usage",
    usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
  });
  const body = peer.lastRequest().body;
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
});

Deno.test("chatStream() is lazy and sends one request per iteration", async () => {
  await using peer = await startPeer();
  const stream = chatStream(settingsFor(peer), ask("hi"));
  assert.equal(peer.requests.length, 0);
  assert.equal(textOf(await collect(stream)), "Echo: hi");
  assert.equal(textOf(await collect(stream)), "Echo: hi");
  assert.equal(peer.requests.length, 2);
});

Deno.test("chatStream() works without usage from the server", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b"], noUsage: true });
  const events = await collect(chatStream(settingsFor(peer), ask("x")));
  assert.deepEqual(events, [
    { type: "text", text: "a" },
    { type: "text", text: "b" },
    { type: "finish", reason: "stop" },
  ]);
});

Deno.test("chatStream() retries a 500 before the stream starts", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 500, error: "boom", headers: { "retry-after-ms": "1" } });
  const events = await collect(chatStream(settingsFor(peer, { maxRetries: 2 }), ask("x")));
  assert.equal(textOf(events), "Echo: x");
  assert.equal(peer.requests.length, 2);
});

Deno.test("chatStream() throws StreamInterruptedError on a cut stream, with no retry", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], cutAfter: 2 });
  const texts: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const event of chatStream(settingsFor(peer, { maxRetries: 2 }), ask("x"))) {
        if (event.type === "text") texts.push(event.text);
      }
    })(),
    expectError(StreamInterruptedError, (error) => {
      assert.equal(error.model, "gpt-4o-mini");
      assert.match(error.message, /ended before it was complete/);
    }),
  );
  assert.deepEqual(texts, ["a", "b"]);
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatStream() throws StreamInterruptedError when the connection breaks", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], cutAfter: 1, cutWithError: true });
  await assert.rejects(
    collect(chatStream(settingsFor(peer, { maxRetries: 2 }), ask("x"))),
    expectError(StreamInterruptedError),
  );
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatStream() maps HTTP errors before the stream starts", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 401, error: "bad key" });
  await assert.rejects(
    collect(chatStream(settingsFor(peer), ask("x"))),
    expectError(AuthenticationError, (error) => assert.equal(error.status, 401)),
  );
});

Deno.test("chatStream() maps an error event inside the stream to APIError", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    raw: 'data: {"error": {"message": "model overloaded", "type": "server_error"}}\n\n',
    contentType: "text/event-stream",
  });
  await assert.rejects(
    collect(chatStream(settingsFor(peer), ask("x"))),
    expectError(APIError, (error) => assert.match(error.message, /model overloaded/)),
  );
});

Deno.test("chatStream() maps malformed SSE JSON to APIError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ raw: "data: {not json\n\n", contentType: "text/event-stream" });
  await assert.rejects(
    collect(chatStream(settingsFor(peer), ask("x"))),
    expectError(APIError, (error) => assert.match(error.message, /malformed/)),
  );
});

Deno.test("chatStream() stops promptly on abort while a chunk is delayed", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["first", " second"], chunkDelayMs: 10_000 });
  const controller = new AbortController();
  const texts: string[] = [];
  let elapsed = 0;
  await assert.rejects(
    (async () => {
      for await (
        const event of chatStream(settingsFor(peer), ask("x", { signal: controller.signal }))
      ) {
        if (event.type === "text") {
          texts.push(event.text);
          setTimeout(() => {
            elapsed = performance.now();
            controller.abort();
          }, 0);
        }
      }
    })(),
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
  elapsed = performance.now() - elapsed;
  if (elapsed > 100) console.warn(`stream abort took ${elapsed.toFixed(0)} ms`);
  assert.deepEqual(texts, ["first"]);
  assert.equal(peer.requests.length, 1);
  await waitFor(() => peer.active === 0);
});

Deno.test("chatStream() rejects on abort while the response is delayed", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 10_000 });
  const controller = new AbortController();
  const pending = collect(chatStream(settingsFor(peer), ask("x", { signal: controller.signal })));
  while (peer.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await assert.rejects(
    pending,
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
});

// The timeout of the stall tests. It also bounds the wait for the response to start (which, on a
// loaded machine, took over 100 ms and was retried): it leaves that wait generous headroom, while
// the stall (10 s) stays far beyond it.
const STALL_TIMEOUT_MS = 2_000;

Deno.test("chatStream() times out when the stream stalls", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b"], chunkDelayMs: 10_000 });
  await assert.rejects(
    collect(
      chatStream(settingsFor(peer, { timeoutMs: STALL_TIMEOUT_MS, maxRetries: 2 }), ask("x")),
    ),
    expectError(
      TimeoutError,
      (error) => assert.match(error.message, new RegExp(`sent nothing for ${STALL_TIMEOUT_MS} ms`)),
    ),
  );
  assert.equal(peer.requests.length, 1);
  await waitFor(() => peer.active === 0);
});

Deno.test("chatStream() cancels the request when the caller breaks out", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], chunkDelayMs: 10_000 });
  for await (const event of chatStream(settingsFor(peer), ask("x"))) {
    assert.deepEqual(event, { type: "text", text: "a" });
    break;
  }
  assert.equal(peer.requests.length, 1);
  await waitFor(() => peer.active === 0);
});

Deno.test("chatCompletion() masks a key that the message's length cut would split", async () => {
  await using peer = await startPeer();
  // The service message is long enough that the key straddles the 500-character cut.
  for (const before of [470, 480, 490]) {
    peer.enqueue({ status: 400, error: "x".repeat(before) + KEY });
    await assert.rejects(
      chatCompletion(settingsFor(peer), ask("x")),
      expectError(APIError, (error) => {
        assert.ok(!error.message.includes(KEY.slice(0, 5)), error.message.slice(-40));
      }),
    );
  }
});

Deno.test("chatStream() times out when the stream stalls with a retryable TimeoutError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b"], chunkDelayMs: 10_000 });
  await assert.rejects(
    collect(chatStream(settingsFor(peer, { timeoutMs: STALL_TIMEOUT_MS }), ask("x"))),
    expectError(TimeoutError, (error) => {
      assert.equal(error.retryable, true);
      assert.equal(error.provider, "openai");
      assert.equal(error.model, "gpt-4o-mini");
    }),
  );
  await waitFor(() => peer.active === 0);
});

Deno.test("chatCompletion() and chatStream() reject with the abort reason during a retry wait", async () => {
  await using peer = await startPeer();
  const settings = settingsFor(peer, { maxRetries: 2 });
  for (const streamed of [false, true]) {
    peer.reset();
    peer.enqueue({ status: 429, error: "slow down", headers: { "retry-after": "30" } });
    const controller = new AbortController();
    const reason = new Error("the user left");
    const request = ask("x", { signal: controller.signal });
    const done = streamed
      ? collect(chatStream(settings, request))
      : chatCompletion(settings, request);
    await waitFor(() => peer.requests.length === 1 && peer.active === 0);
    controller.abort(reason);
    await assert.rejects(done, reason);
    assert.equal(peer.requests.length, 1);
  }
});

Deno.test("chatCompletion() runs without an import map or npm package: a refused connection is a ConnectionError", async () => {
  // A child process without deno.json has no import map: nothing of npm is there to load.
  const script = `
import { chatCompletion } from ${
    JSON.stringify(new URL("../_openai/mod.ts", import.meta.url).href)
  };
try {
  await chatCompletion(
    { baseURL: "http://127.0.0.1:9/v1", apiKey: "sk-child-secret", timeoutMs: 5000, maxRetries: 0 },
    { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
  );
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message, retryable: error.retryable }));
}
`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", "--quiet", "--allow-net=127.0.0.1", "-"],
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = output.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { stdout, stderr } = await output.output();
  const text = new TextDecoder().decode(stdout).trim();
  assert.ok(text !== "", new TextDecoder().decode(stderr));
  const { name, message, retryable } = JSON.parse(text);
  assert.equal(name, "ConnectionError");
  assert.equal(retryable, true);
  assert.match(message, /^Cannot connect to 127\.0\.0\.1:9 at http:\/\/127\.0\.0\.1:9\/v1: /);
  assert.doesNotMatch(message, /sk-child-secret/);
});

Deno.test("chatStream() cancels the request at once when the reader leaves while a chunk is delayed", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b"], chunkDelayMs: 60_000 });
  // The reader of a ReadableStream made from the stream, cancelled by the browser going away.
  const reader = ReadableStream.from(chatStream(settingsFor(peer, { timeoutMs: 5_000 }), ask("x")))
    .getReader();
  assert.deepEqual(await reader.read(), { done: false, value: { type: "text", text: "a" } });
  const pending = reader.read();
  await reader.cancel();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await waitFor(() => peer.active === 0);
  // Straight on the iterator: return() during a pending next() ends both.
  peer.enqueue({ stream: ["a", "b"], chunkDelayMs: 60_000 });
  const iterator = chatStream(settingsFor(peer, { timeoutMs: 5_000 }), ask("x"))
    [Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { done: false, value: { type: "text", text: "a" } });
  const next = iterator.next();
  assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
  assert.deepEqual(await next, { done: true, value: undefined });
  await waitFor(() => peer.active === 0);
  assert.equal(peer.requests.length, 2);
});

Deno.test("chatStream() cancels the request at once when the reader leaves before the response", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 60_000 });
  const iterator = chatStream(settingsFor(peer, { timeoutMs: 5_000 }), ask("x"))
    [Symbol.asyncIterator]();
  const next = iterator.next();
  await waitFor(() => peer.requests.length === 1);
  assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
  // Without the cancel, next() would wait for the 5 s timeout and reject with TimeoutError.
  // (Deno.serve does not always tell the peer that the client went away during its
  // delay, so peer.active is not checked here; the fetch is aborted.)
  assert.deepEqual(await next, { done: true, value: undefined });
  assert.equal(peer.requests.length, 1);
});
