// The native Anthropic provider against the Anthropic-shaped test peer: real
// HTTP on 127.0.0.1, request shapes checked by the peer as the API does.
import assert from "node:assert/strict";
import {
  type AnthropicProvider,
  APIError,
  AuthenticationError,
  ContextLengthError,
  createAI,
  createProvider,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  imagePart,
  imagePartFromBytes,
  ImproperlyConfigured,
  MissingAPIKeyError,
  NotFoundError,
  type ProviderSettings,
  type ProviderStreamEvent,
  RateLimitError,
  registerTokenLimit,
  StreamInterruptedError,
  textPart,
  TimeoutError,
} from "../mod.ts";
import { type AnthropicPeer, startAnthropicPeer } from "./_anthropic_peer.ts";
import { startPeer } from "./_peer.ts";

const KEY = "sk-ant-test-key-0123456789";
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);

function claude(peer: AnthropicPeer, settings: Partial<ProviderSettings> = {}): AnthropicProvider {
  return createProvider({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    api_key: KEY,
    api_base: peer.url,
    max_retries: 0,
    ...settings,
  }) as AnthropicProvider;
}

const hi = [{ role: "user" as const, content: "hi there" }];

async function collect(stream: AsyncIterable<ProviderStreamEvent>): Promise<ProviderStreamEvent[]> {
  const events: ProviderStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function textOf(events: ProviderStreamEvent[]): string {
  return events.map((event) => event.type === "text" ? event.text : "").join("");
}

/** Asserts that no message, JSON or inspection of `value` holds the key. */
function assertNoKey(value: unknown): void {
  const shown = [
    value instanceof Error ? `${value.message} ${value.stack}` : "",
    JSON.stringify(value) ?? "",
    Deno.inspect(value, { depth: 10 }),
  ].join(" ");
  assert.ok(!shown.includes(KEY), `the key leaked: ${shown}`);
}

Deno.test("anthropic completion() posts to /v1/messages with x-api-key, anthropic-version, system and max_tokens", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer);
  const answer = await provider.completion({
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [textPart("hi"), textPart("there")] },
    ],
    temperature: 0.2,
  });
  assert.equal(answer.choices[0].message.content, "Echo: hi there");
  assert.equal(answer.choices[0].finish_reason, "stop");
  assert.equal(answer.object, "chat.completion");
  assert.equal(answer.id, "msg_peer_1");
  assert.deepEqual(answer.usage, {
    inputTokens: 4,
    outputTokens: 3,
    totalTokens: 7,
    // The counts in the OpenAI wire format, with Anthropic's own fields.
    raw: {
      prompt_tokens: 4,
      completion_tokens: 3,
      total_tokens: 7,
      input_tokens: 4,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  });
  const request = peer.lastRequest();
  assert.equal(request.path, "/v1/messages");
  assert.equal(request.headers["x-api-key"], KEY);
  assert.equal(request.headers["anthropic-version"], "2023-06-01");
  assert.equal(request.headers["content-type"], "application/json");
  assert.equal(request.headers.authorization, undefined);
  assert.deepEqual(request.body, {
    model: "claude-sonnet-4-5",
    // claude-sonnet-4-5: 64,000 output tokens, well within its 200,000-token window.
    max_tokens: 64_000,
    temperature: 0.2,
    system: "Be brief.",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "hi" }, { type: "text", text: "there" }],
    }],
  });
});

Deno.test("anthropic max_tokens: the call's, else the table's within what the window leaves, else the default", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer);
  await provider.completion({ messages: hi, max_tokens: 100, max_completion_tokens: 50 });
  assert.equal(peer.lastRequest().body.max_tokens, 50);
  await provider.completion({ messages: hi, model: "claude-3-haiku-20240307" });
  assert.equal(peer.lastRequest().body.max_tokens, 4096);
  assert.equal(peer.lastRequest().body.model, "claude-3-haiku-20240307");
  await provider.completion({ messages: hi, model: "claude-next-unknown" });
  assert.equal(peer.lastRequest().body.max_tokens, DEFAULT_ANTHROPIC_MAX_TOKENS);
  // A small window: the answer gets what the prompt leaves.
  registerTokenLimit("claude-tiny-window", 100, { maxOutputTokens: 90 });
  await provider.completion({
    messages: [{ role: "user", content: "word ".repeat(40) }],
    model: "claude-tiny-window",
  });
  const left = peer.lastRequest().body.max_tokens;
  assert.ok(left > 0 && left < 90, `max_tokens ${left}`);
  // A prompt over the window is refused before any request, saying by how much.
  const before = peer.requests.length;
  await assert.rejects(
    provider.completion({
      messages: [{ role: "user", content: "word ".repeat(400) }],
      model: "claude-tiny-window",
    }),
    (error: unknown) =>
      error instanceof ContextLengthError && error.contextWindow === 100 &&
      error.promptTokens! > 100 && /over the context window/.test(error.message),
  );
  assert.equal(peer.requests.length, before);
});

Deno.test("anthropic images: base64 source with the media type sniffed from the bytes, URLs as url sources", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer);
  const png = await imagePartFromBytes(PNG);
  // A data URL that says JPEG but holds PNG bytes: the bytes win (the API refuses a mismatch).
  const mislabelled = imagePart(png.image_url.url.replace("image/png", "image/jpeg"));
  const answer = await provider.completion({
    messages: [{
      role: "user",
      content: [
        textPart("Describe"),
        mislabelled,
        await imagePartFromBytes(new File([JPEG], "a.jpg")),
        imagePart("https://example.com/cat.webp"),
      ],
    }],
  });
  assert.equal(
    answer.choices[0].message.content,
    "Echo: Describe [image image/png 12 bytes] [image image/jpeg 10 bytes] [image https://example.com/cat.webp]",
  );
  const content = peer.lastRequest().body.messages[0].content;
  assert.deepEqual(content[1].source.media_type, "image/png");
  assert.equal(content[1].source.type, "base64");
  assert.deepEqual(content[3], {
    type: "image",
    source: { type: "url", url: "https://example.com/cat.webp" },
  });
  await assert.rejects(
    provider.completion({
      messages: [{ role: "user", content: [imagePart("data:image/png,notbase64")] }],
    }),
    TypeError,
  );
});

Deno.test("anthropic stream() yields text in order, the finish reason, then usage; pings and keep-alive comments are skipped", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer);
  peer.enqueue({ text: "one two three", ping: true, chunkDelayMs: 30, keepAliveMs: 10 });
  const events = await collect(provider.stream({ messages: hi }));
  assert.deepEqual(events, [
    { type: "text", text: "one" },
    { type: "text", text: " two" },
    { type: "text", text: " three" },
    { type: "finish", reason: "stop" },
    { type: "usage", usage: { inputTokens: 2, outputTokens: 3, totalTokens: 5 } },
  ]);
  const request = peer.lastRequest();
  assert.equal(request.body.stream, true);
  assert.equal(request.headers.accept, "text/event-stream");
  assert.equal(request.body.max_tokens, 64_000);
});

Deno.test("anthropic: a system message after the first turn becomes user text (the API takes system text only at the top)", async () => {
  await using peer = await startAnthropicPeer();
  await claude(peer).completion({
    messages: [
      { role: "system", content: "Correct this text:" },
      { role: "user", content: "teh cat" },
      { role: "system", content: [textPart("Answer in French.")] },
    ],
  });
  const body = peer.lastRequest().body;
  assert.equal(body.system, "Correct this text:");
  assert.deepEqual(body.messages, [
    { role: "user", content: "teh cat" },
    { role: "user", content: [{ type: "text", text: "Answer in French." }] },
  ]);
});

Deno.test("anthropic options: stop as stop_sequences, user as metadata.user_id, others as they are; OpenAI-only ones refused at the call", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer);
  await provider.completion({ messages: hi, stop: "\n\n", user: "editor-7", top_k: 5, top_p: 0.9 });
  const body = peer.lastRequest().body;
  assert.deepEqual(body.stop_sequences, ["\n\n"]);
  assert.deepEqual(body.metadata, { user_id: "editor-7" });
  assert.equal(body.top_k, 5);
  assert.equal(body.top_p, 0.9);
  const before = peer.requests.length;
  for (const option of ["seed", "frequency_penalty", "presence_penalty", "response_format", "n"]) {
    await assert.rejects(
      provider.completion({ messages: hi, [option]: 1 }),
      (error: unknown) => error instanceof TypeError && error.message.includes(`"${option}"`),
    );
    assert.throws(() => provider.stream({ messages: hi, [option]: 1 }), TypeError);
  }
  await assert.rejects(provider.completion({ messages: hi, stream: true }), TypeError);
  await assert.rejects(provider.completion({ messages: [] }), TypeError);
  await assert.rejects(
    provider.completion({ messages: [{ role: "system", content: "only a system" }] }),
    /needs a user message/,
  );
  assert.throws(
    () => provider.stream({ messages: [{ role: "tool", content: "x" }] as never }),
    TypeError,
  );
  assert.equal(peer.requests.length, before);
});

Deno.test("anthropic errors: 401/403, 404 naming the model, 413 and 'prompt is too long', other 400s", async () => {
  await using peer = await startAnthropicPeer({ key: "another-key" });
  const provider = claude(peer);
  // The peer's own check: a wrong key is a 401 with the API's error body.
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
    assert.equal(error.provider, "anthropic");
    assert.equal(error.model, "claude-sonnet-4-5");
    assert.equal(error.requestId, "req_peer_1");
    assert.match(error.message, /authentication_error: invalid x-api-key/);
    // A server at another api_base is named by its host (the provider stays "anthropic").
    assert.match(error.message, /^127\.0\.0\.1:\d+ refused the credentials/);
    assertNoKey(error);
    return true;
  });
  peer.enqueue({ status: 403, error: { type: "permission_error", message: "not allowed" } });
  await assert.rejects(provider.completion({ messages: hi }), AuthenticationError);
  peer.enqueue({ status: 404, error: { type: "not_found_error", message: "model: claude-nope" } });
  await assert.rejects(
    provider.completion({ messages: hi, model: "claude-nope" }),
    (error: unknown) => error instanceof NotFoundError && /Model "claude-nope"/.test(error.message),
  );
  peer.enqueue({
    status: 413,
    error: { type: "request_too_large", message: "Request exceeds the maximum size" },
  });
  await assert.rejects(provider.completion({ messages: hi }), ContextLengthError);
  peer.enqueue({
    status: 400,
    error: {
      type: "invalid_request_error",
      message: "prompt is too long: 210000 tokens > 200000 maximum",
    },
  });
  await assert.rejects(
    provider.completion({ messages: hi }),
    (error: unknown) => error instanceof ContextLengthError && error.status === 400,
  );
  peer.enqueue({ status: 400, error: { type: "invalid_request_error", message: "bad field" } });
  await assert.rejects(
    provider.completion({ messages: hi }),
    (error: unknown) =>
      error instanceof APIError && !(error instanceof ContextLengthError) && !error.retryable &&
      error.status === 400,
  );
  assert.equal(peer.requests.length, 6); // none of these is retried
});

Deno.test("anthropic retries 429 (retry-after-ms), 529 and 5xx, then gives up: RateLimitError, retryable APIError", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 2 });
  peer.enqueue(
    {
      status: 429,
      error: { type: "rate_limit_error", message: "slow down" },
      headers: { "retry-after-ms": "5" },
    },
    {
      status: 529,
      error: { type: "overloaded_error", message: "Overloaded" },
      headers: { "retry-after-ms": "5" },
    },
  );
  const answer = await provider.completion({ messages: hi });
  assert.equal(answer.choices[0].message.content, "Echo: hi there");
  assert.equal(peer.requests.length, 3);

  const rate = {
    status: 429,
    error: { type: "rate_limit_error", message: "slow down" },
    headers: { "retry-after-ms": "5" },
  };
  peer.enqueue(rate, rate, rate);
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.status, 429);
    assert.ok(error.retryable);
    assert.equal(error.retryAfterSeconds, 1); // retry-after-ms 5, rounded up to a whole second
    assert.match(error.message, /after 2 retries/);
    return true;
  });
  assert.equal(peer.requests.length, 6);

  const overloaded = {
    status: 529,
    error: { type: "overloaded_error", message: "Overloaded" },
    headers: { "retry-after-ms": "5" },
  };
  peer.enqueue(overloaded, overloaded, overloaded);
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof APIError && !(error instanceof RateLimitError));
    assert.equal(error.status, 529);
    assert.ok(error.retryable);
    assert.match(error.message, /overloaded \(HTTP 529\)/);
    return true;
  });
  assert.equal(peer.requests.length, 9);

  // The server can say no: x-should-retry: false.
  peer.enqueue({ status: 500, error: "internal", headers: { "x-should-retry": "false" } });
  await assert.rejects(
    provider.completion({ messages: hi }),
    (error: unknown) => error instanceof APIError && error.status === 500,
  );
  assert.equal(peer.requests.length, 10);
});

Deno.test("anthropic honours retry-after in seconds before retrying", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 1 });
  peer.enqueue({
    status: 429,
    error: { type: "rate_limit_error", message: "wait" },
    headers: { "retry-after": "1" },
  });
  await provider.completion({ messages: hi });
  assert.equal(peer.requests.length, 2);
  // The retry came no sooner than the server asked (a lower bound: never flaky).
  assert.ok(peer.requests[1].at - peer.requests[0].at >= 950, "retried before retry-after");
});

Deno.test("anthropic streams: 529 before the stream starts is retried; a started stream never is", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 2 });
  peer.enqueue({
    status: 529,
    error: { type: "overloaded_error", message: "Overloaded" },
    headers: { "retry-after-ms": "1" },
  });
  assert.equal(textOf(await collect(provider.stream({ messages: hi }))), "Echo: hi there");
  assert.equal(peer.requests.length, 2);

  // Cut: the body ends without message_stop.
  peer.enqueue({ text: "one two three four", cutAfter: 2 });
  const seen: string[] = [];
  await assert.rejects(
    async () => {
      for await (const event of provider.stream({ messages: hi })) {
        if (event.type === "text") seen.push(event.text);
      }
    },
    (error: unknown) =>
      error instanceof StreamInterruptedError && error.retryable &&
      /no message_stop/.test(error.message),
  );
  assert.deepEqual(seen, ["one", " two"]);
  assert.equal(peer.requests.length, 3);

  // Broken connection mid-stream.
  peer.enqueue({ text: "one two three", cutAfter: 1, cutWithError: true });
  await assert.rejects(collect(provider.stream({ messages: hi })), StreamInterruptedError);
  assert.equal(peer.requests.length, 4);
});

Deno.test("anthropic stream error events: overloaded is StreamInterruptedError, a request error an APIError", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 2 });
  peer.enqueue({ text: "one two three", errorEventAfter: 1 });
  await assert.rejects(collect(provider.stream({ messages: hi })), (error: unknown) => {
    assert.ok(error instanceof StreamInterruptedError);
    assert.ok(error.retryable);
    assert.match(error.message, /overloaded_error: Overloaded/);
    return true;
  });
  peer.enqueue({
    text: "one two",
    errorEventAfter: 0,
    errorEvent: { type: "invalid_request_error", message: `bad input near ${KEY}` },
  });
  await assert.rejects(collect(provider.stream({ messages: hi })), (error: unknown) => {
    assert.ok(error instanceof APIError && !(error instanceof StreamInterruptedError));
    assert.equal(error.retryable, false);
    assertNoKey(error);
    return true;
  });
  assert.equal(peer.requests.length, 2);
});

Deno.test("anthropic abort: mid-stream, while a reply is delayed, already aborted; breaking out cancels", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 2 });
  // Mid-stream: the next delta is 30 s away.
  peer.enqueue({ text: "one two three", chunkDelayMs: 30_000 });
  const controller = new AbortController();
  const reason = new Error("user pressed stop");
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const event of provider.stream({ messages: hi, signal: controller.signal })) {
      if (event.type === "text") {
        seen.push(event.text);
        controller.abort(reason);
      }
    }
  }, (error: unknown) => error === reason);
  assert.deepEqual(seen, ["one"]);
  await peer.idle(); // the server saw the client go: the request is over

  // A delayed reply.
  peer.enqueue({ delayMs: 30_000 });
  const late = new AbortController();
  const pending = provider.completion({ messages: hi, signal: late.signal });
  await peer.nextActive();
  late.abort();
  await assert.rejects(pending, { name: "AbortError" });

  // Already aborted: no request at all.
  const count = peer.requests.length;
  await assert.rejects(
    provider.completion({ messages: hi, signal: AbortSignal.abort(reason) }),
    (error: unknown) => error === reason,
  );
  assert.equal(peer.requests.length, count);

  // Breaking out while the next delta is awaited ends the request.
  peer.enqueue({ text: "one two", chunkDelayMs: 30_000 });
  for await (const event of provider.stream({ messages: hi })) {
    if (event.type === "text") break;
  }
  assert.equal(peer.requests.length, count + 1);
  await peer.idle();
});

Deno.test("anthropic timeouts: a slow answer and a stalled stream are TimeoutError; keep-alives keep a stream open", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { timeout: 0.3 });
  peer.enqueue({ delayMs: 30_000 });
  await assert.rejects(
    provider.completion({ messages: hi }),
    (error: unknown) =>
      error instanceof TimeoutError && /timed out after 300 ms/.test(error.message),
  );
  peer.enqueue({ text: "one two", chunkDelayMs: 30_000 });
  await assert.rejects(
    collect(provider.stream({ messages: hi })),
    (error: unknown) =>
      error instanceof TimeoutError && /sent nothing for 300 ms/.test(error.message),
  );
  // Comments count as activity: a 2.5 s pause with keep-alives every 100 ms, under a 1.5 s timeout.
  const patient = claude(peer, { timeout: 1.5 });
  peer.enqueue({ text: "one two", chunkDelayMs: 2_500, keepAliveMs: 100 });
  assert.equal(textOf(await collect(patient.stream({ messages: hi }))), "one two");
});

Deno.test("anthropic refuses a redirect (naming the host, no retry) and describes unusable answers without quoting them", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, { max_retries: 2 });
  peer.enqueue({ status: 307, headers: { location: "http://evil.example:8080/v1/messages" } });
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 307);
    assert.equal(error.retryable, false);
    assert.match(error.message, /redirect \(HTTP 307\) to host "evil\.example:8080"/);
    return true;
  });
  assert.equal(peer.requests.length, 1);
  peer.enqueue({ raw: `{"id": "${KEY}", "content": [`, contentType: "application/json" });
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.match(error.message, /not valid JSON/);
    assertNoKey(error);
    return true;
  });
  peer.enqueue({ json: { id: "x", type: "message" } });
  await assert.rejects(provider.completion({ messages: hi }), /no "content" array/);
  // A 200 stream that is not an event stream.
  peer.enqueue({ json: { hello: "world" } });
  await assert.rejects(
    collect(provider.stream({ messages: hi })),
    /did not answer with an event stream/,
  );
});

Deno.test("anthropic never shows the key or header values: errors, JSON, inspect", async () => {
  await using peer = await startAnthropicPeer({ key: "not-this-one" });
  const provider = claude(peer, { headers: { "x-gateway-secret": "gw-secret-9876" } });
  assertNoKey(provider);
  assert.ok(!Deno.inspect(provider.config.headers).includes("gw-secret-9876"));
  peer.enqueue({
    status: 401,
    error: { type: "authentication_error", message: `key ${KEY} and gw-secret-9876 are wrong` },
  });
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assertNoKey(error);
    assert.ok(!(error as Error).message.includes("gw-secret-9876"));
    assert.match((error as Error).message, /\*\*\*/);
    return true;
  });
  assert.equal(peer.lastRequest().headers["x-gateway-secret"], "gw-secret-9876");
});

Deno.test("anthropic settings: key from ANTHROPIC_API_KEY, api_base without /v1, api_version, unknown keys refused", () => {
  const env = (name: string) => (name === "ANTHROPIC_API_KEY" ? KEY : undefined);
  const provider = createProvider(
    {
      provider: "anthropic",
      model: "claude-haiku-4-5",
      api_base: "https://gw.example/v1/",
      api_version: "2024-01-01",
    },
    { env },
  ) as AnthropicProvider;
  assert.equal(provider.config.keySource, "env:ANTHROPIC_API_KEY");
  assert.equal(provider.config.baseURL, "https://gw.example");
  assert.equal(provider.config.apiVersion, "2024-01-01");
  assert.equal(provider.config.timeoutSeconds, 120);
  assert.equal(provider.config.maxRetries, 2);
  assert.throws(
    () =>
      createProvider({ provider: "anthropic", model: "claude-haiku-4-5" }, {
        env: () => undefined,
      }),
    (error: unknown) =>
      error instanceof MissingAPIKeyError && error.message.includes("ANTHROPIC_API_KEY"),
  );
  assert.throws(
    () => createProvider({ provider: "anthropic", model: "m", api_key: "k", organization: "org" }),
    (error: unknown) =>
      error instanceof ImproperlyConfigured && /unknown key "organization"/.test(error.message),
  );
  assert.throws(
    () =>
      createProvider({
        provider: "anthropic",
        model: "m",
        api_key: "k",
        structured_output: "json_object",
      }),
    /structured_output .* must be one of "json_schema", "tool", "prompt"/,
  );
});

Deno.test("anthropic through ProviderBackend: promptWithContext and describeImage", async () => {
  await using peer = await startAnthropicPeer();
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "anthropic",
        model: "claude-3-5-haiku-latest",
        api_key: KEY,
        api_base: peer.url,
      },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { SYSTEM_PROMPT: "You edit text." } } },
  });
  const backend = ai.getBackend();
  const response = backend.promptWithContext({ prePrompt: "Correct this:", context: "teh cat" });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.equal(chunks.join(""), "Echo: teh cat");
  assert.deepEqual(await response.usage(), {
    inputTokens: 7,
    outputTokens: 3,
    totalTokens: 10,
    // Who answered (issue 17).
    alias: "default",
    provider: "anthropic",
    model: "claude-3-5-haiku-latest",
    backend: "default",
    fallbackFrom: [],
  });
  const body = peer.lastRequest().body;
  assert.equal(body.system, "You edit text.\n\nCorrect this:");
  assert.equal(body.max_tokens, 8192); // the backend's budget for claude-3-5-haiku
  const alt = await backend.describeImage({ image: new File([PNG], "p.png"), prompt: "Alt text" })
    .text();
  assert.equal(alt, "Echo: Alt text [image image/png 12 bytes]");
});

Deno.test("anthropic_openai keeps the OpenAI-compatible endpoint reachable", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "anthropic_openai",
    model: "claude-sonnet-4-5",
    api_key: KEY,
    api_base: peer.url,
  });
  const answer = await provider.completion({ messages: hi });
  assert.equal(answer.choices[0].message.content, "Echo: hi there");
  assert.equal(peer.lastRequest().path, "/v1/chat/completions");
  assert.equal(peer.lastRequest().headers.authorization, `Bearer ${KEY}`);
});

Deno.test('anthropic: an answer cut by max_tokens says so (finishReason() "length"), streamed and whole; processText() keeps the chunk', async () => {
  await using peer = await startAnthropicPeer();
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "anthropic",
        model: "claude-3-5-haiku-latest",
        api_key: KEY,
        api_base: peer.url,
      },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
  });
  const backend = ai.getBackend();
  peer.enqueue({ text: "Once upon", stopReason: "max_tokens" });
  const streamed = backend.promptWithContext({ prePrompt: "Go on:", context: "Once" });
  for await (const _ of streamed) { /* read */ }
  assert.equal(await streamed.finishReason(), "length");
  peer.enqueue({ text: "Once upon", stopReason: "max_tokens" });
  const whole = backend.promptWithContext({ prePrompt: "Go on:", context: "Once" });
  await whole.text();
  assert.equal(await whole.finishReason(), "length");
  const done = backend.promptWithContext({ prePrompt: "Go on:", context: "Once" });
  assert.equal(await done.finishReason(), "stop");
  peer.enqueue({ text: "The cat", stopReason: "max_tokens" });
  const run = ai.processText({ prompt: "correction", text: "Teh cat sat." });
  const events = await Array.fromAsync(run);
  assert.equal(await run.text(), "Teh cat sat.");
  assert.equal(events[0].kept, "answer truncated");
});
