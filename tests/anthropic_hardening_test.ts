// The native Anthropic provider's review fixes: secrets in api_base, response
// headers and events; api_base with a query; metadata; prompt-cache tokens;
// context-limit errors and the repair budget; a slow consumer; its settings keys.
import assert from "node:assert/strict";
import {
  type AIEvent,
  type AnthropicProvider,
  ConnectionError,
  ContextLengthError,
  countTokens,
  createAI,
  createProvider,
  type ProviderSettings,
  type ProviderStreamEvent,
  registerTokenLimit,
  StreamInterruptedError,
} from "../mod.ts";
import { type AnthropicPeer, startAnthropicPeer } from "./_anthropic_peer.ts";

const KEY = "sk-ant-hardening-key-0123456789";
const USER = "basicuser4242";
const PASS = "basicpass-secret-5151";
const QUERY = "query-secret-token-6060";
const hi = [{ role: "user" as const, content: "hi there" }];

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

/** Asserts that none of `secrets` shows in the message, stack, JSON or inspection of `value`. */
function assertNone(value: unknown, secrets: readonly string[]): void {
  const shown = [
    value instanceof Error ? `${value.message} ${value.stack}` : "",
    JSON.stringify(value) ?? "",
    Deno.inspect(value, { depth: 10 }),
  ].join(" ");
  for (const secret of secrets) assert.ok(!shown.includes(secret), `"${secret}" leaked: ${shown}`);
}

async function closedPort(): Promise<number> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(),
  );
  const port = server.addr.port;
  await server.shutdown();
  return port;
}

Deno.test("anthropic never shows the userinfo or a key query parameter of api_base: errors, events, warnings", async () => {
  const port = await closedPort();
  const base = `http://${USER}:${PASS}@127.0.0.1:${port}/v1?api_key=${QUERY}`;
  const secrets = [KEY, USER, PASS, QUERY];
  const direct = createProvider({
    provider: "anthropic",
    model: "claude-sonnet-4-5",
    api_key: KEY,
    api_base: base,
    max_retries: 0,
  });
  await assert.rejects(direct.completion({ messages: hi }), (error: unknown) => {
    assert.ok(error instanceof ConnectionError, String(error));
    assertNone(error, secrets);
    return true;
  });
  await assert.rejects(
    (async () => {
      for await (const _ of direct.stream({ messages: hi })) { /* nothing comes */ }
    })(),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assertNone(error, secrets);
      return true;
    },
  );
  assertNone(direct, secrets);
  const events: AIEvent[] = [];
  const warnings: Error[] = [];
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        api_key: KEY,
        api_base: base,
        max_retries: 0,
      },
    },
  }, {
    onEvent: (event) => {
      events.push(event);
      throw new Error(`log failed for ${JSON.stringify(event)}`);
    },
    onWarning: (warning) => warnings.push(warning),
  });
  await assert.rejects(ai.getProvider().completion({ messages: hi }), (error: unknown) => {
    assertNone(error, secrets);
    return true;
  });
  assert.ok(events.some((event) => event.type === "error"));
  assertNone(events, secrets);
  assert.ok(warnings.length > 0);
  for (const warning of warnings) assertNone(warning, secrets);
});

Deno.test("anthropic scrubs a request-id header that echoes the key, in errors and events", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const events: AIEvent[] = [];
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        api_key: KEY,
        api_base: peer.url,
        max_retries: 0,
        headers: { "anthropic-beta": "beta-header-secret-7777" },
      },
    },
  }, { onEvent: (event) => void events.push(event) });
  const secrets = [KEY, "beta-header-secret-7777"];
  for (const id of [`req ${KEY}`, "x-beta-header-secret-7777"]) {
    peer.enqueue({ status: 500, error: "boom", headers: { "request-id": id } });
    await assert.rejects(ai.getProvider().completion({ messages: hi }), (error: unknown) => {
      assert.equal((error as { status?: number }).status, 500);
      assert.ok((error as { requestId?: string }).requestId?.includes("***"));
      assertNone(error, secrets);
      return true;
    });
  }
  // A started stream's request id (an unusable answer carries it).
  peer.enqueue({ raw: "not events", contentType: "text/plain", headers: { "request-id": KEY } });
  await assert.rejects(
    (async () => {
      for await (const _ of ai.getProvider().stream({ messages: hi })) { /* none */ }
    })(),
    (error: unknown) => {
      assertNone(error, secrets);
      return true;
    },
  );
  assert.ok(events.length >= 6);
  assertNone(events, secrets);
});

Deno.test("anthropic api_base with a query: the path goes before it, the query is kept", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  for (
    const base of [
      `${peer.url}?tenant=blog`,
      `${peer.url}/v1?tenant=blog`,
      `${peer.url}/?tenant=blog`,
    ]
  ) {
    const provider = claude(peer, { api_base: base });
    const answer = await provider.completion({ messages: hi });
    assert.equal(answer.choices[0].message.content, "Echo: hi there", base);
    assert.equal(peer.lastRequest().path, "/v1/messages", base);
    assert.equal(peer.lastRequest().search, "?tenant=blog", base);
  }
  const gateway = claude(peer, { api_base: `${peer.url}/anthropic/v1/?tenant=blog` });
  await gateway.completion({ messages: hi }).catch(() => {});
  assert.equal(peer.lastRequest().path, "/anthropic/v1/messages");
  assert.equal(peer.lastRequest().search, "?tenant=blog");
});

Deno.test("anthropic sends metadata.user_id from user only; the per-call metadata is for events, never sent", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer);
  const answer = await provider.completion({
    messages: hi,
    metadata: { site: "blog", user: "42" },
  });
  assert.equal(answer.choices[0].message.content, "Echo: hi there");
  assert.equal(peer.lastRequest().body.metadata, undefined);
  await provider.completion({ messages: hi, user: "editor-7", metadata: { site: "blog" } });
  assert.deepEqual(peer.lastRequest().body.metadata, { user_id: "editor-7" });
  for await (const _ of provider.stream({ messages: hi, metadata: { site: "blog" } })) {
    /* text */
  }
  assert.equal(peer.lastRequest().body.metadata, undefined);
  peer.enqueue({ object: { title: "T" } });
  await provider.completeObject(
    {
      messages: hi,
      schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
      options: { metadata: { site: "blog" } },
    } as Parameters<AnthropicProvider["completeObject"]>[0],
  );
  assert.equal(peer.lastRequest().body.metadata, undefined);
  await assert.rejects(
    provider.completion({ messages: hi, metadata: "user-42" as unknown as Record<string, string> }),
    TypeError,
  );
});

Deno.test("anthropic prompt-cache tokens: usage says them, PRICES price them, events carry them", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const cacheUsage = { cache_creation_input_tokens: 1000, cache_read_input_tokens: 4000 };
  const events: AIEvent[] = [];
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "anthropic",
        model: "claude-sonnet-4-5",
        api_key: KEY,
        api_base: peer.url,
        max_retries: 0,
      },
    },
    PRICES: {
      "claude-sonnet-4-5": { input: 3, output: 15, cached_input: 0.3, cache_write_input: 3.75 },
    },
  }, { onEvent: (event) => void events.push(event) });
  peer.enqueue({ text: "one two three", usage: cacheUsage });
  const answer = await ai.getProvider().completion({ messages: hi });
  // hi there: 2 uncached prompt words at the peer.
  assert.equal(answer.usage?.inputTokens, 5002);
  assert.equal(answer.usage?.cachedInputTokens, 4000);
  assert.equal(answer.usage?.cacheWriteInputTokens, 1000);
  peer.enqueue({ text: "one two three", usage: cacheUsage });
  const streamed: ProviderStreamEvent[] = [];
  for await (const event of ai.getProvider().stream({ messages: hi })) streamed.push(event);
  const usage = streamed.find((event) => event.type === "usage");
  assert.ok(usage?.type === "usage");
  assert.equal(usage.usage.cachedInputTokens, 4000);
  assert.equal(usage.usage.cacheWriteInputTokens, 1000);
  const answers = events.filter((event) => event.type === "answer");
  assert.equal(answers.length, 2);
  for (const event of answers) {
    assert.equal(event.usage?.cachedInputTokens, 4000);
    assert.equal(event.usage?.cacheWriteInputTokens, 1000);
    // 2 * $3 + 4000 * $0.30 + 1000 * $3.75 per million; 3 answer tokens at $15.
    assert.equal(event.cost?.input, (2 * 3 + 4000 * 0.3 + 1000 * 3.75) / 1e6);
    assert.equal(event.cost?.output, 3 * 15 / 1e6);
  }
  assert.throws(
    () =>
      createAI({
        PROVIDERS: { default: { provider: "anthropic", model: "m", api_key: KEY } },
        PRICES: { m: { input: 1, output: 1, cache_write_input: -1 } },
      }),
    /cache_write_input in PRICES\["m"\]/,
  );
});

Deno.test("anthropic context-limit answers are ContextLengthError, with the counts when the message gives them", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer);
  const messages = [
    "prompt is too long: 210000 tokens > 200000 maximum",
    "input length and `max_tokens` exceed context limit: 197000 + 8192 > 200000, decrease input length or `max_tokens` and try again",
  ];
  for (const message of messages) {
    peer.enqueue({ status: 400, error: { type: "invalid_request_error", message } });
    await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
      assert.ok(error instanceof ContextLengthError, `${message}: ${error}`);
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
      assert.equal(error.contextWindow, 200000);
      return true;
    });
    peer.enqueue({ status: 400, error: { type: "invalid_request_error", message } });
    await assert.rejects(
      (async () => {
        for await (const _ of provider.stream({ messages: hi })) { /* none */ }
      })(),
      ContextLengthError,
    );
  }
  peer.enqueue({
    errorEventAfter: 0,
    errorEvent: { type: "invalid_request_error", message: messages[0] },
  });
  await assert.rejects(
    (async () => {
      for await (const _ of provider.stream({ messages: hi })) { /* none */ }
    })(),
    (error: unknown) =>
      error instanceof ContextLengthError && !(error instanceof StreamInterruptedError),
  );
});

Deno.test("anthropic completeObject(): the repair request's max_tokens leaves room for the refused answer", async () => {
  registerTokenLimit("claude-hardening-small", 600);
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer, { model: "claude-hardening-small", structured_output: "prompt" });
  const refused = Array.from({ length: 120 }, (_, n) => `word${n}`).join(" ");
  peer.enqueue({ text: refused }, { text: JSON.stringify({ title: "T" }) });
  const result = await provider.completeObject({
    messages: hi,
    schema: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
  });
  assert.deepEqual(result.object, { title: "T" });
  const [first, repair] = peer.requests.slice(-2).map((request) => request.body.max_tokens);
  const answerTokens = await countTokens(refused, "claude-hardening-small");
  assert.ok(repair <= first - answerTokens, `repair ${repair}, first ${first}`);
  // A refused answer that leaves no room: the repair is a ContextLengthError, never over the window.
  const huge = Array.from({ length: 700 }, (_, n) => `w${n}`).join(" ");
  peer.enqueue({ text: huge });
  const before = peer.requests.length;
  await assert.rejects(
    provider.completeObject({
      messages: hi,
      schema: { type: "object", properties: { title: { type: "string" } } },
    }),
    ContextLengthError,
  );
  assert.equal(peer.requests.length, before + 1);
});

Deno.test("anthropic stream: a consumer slower than the timeout is not timed out (the server's silence is)", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer, { timeout: 0.5 });
  // The deltas come in chunks of their own, each well within the timeout.
  peer.enqueue({ text: "one two three four five six", chunkDelayMs: 20 });
  const texts: string[] = [];
  let paused = false;
  for await (const event of provider.stream({ messages: hi })) {
    if (event.type !== "text") continue;
    texts.push(event.text);
    if (!paused) {
      paused = true;
      // The peer sends the rest of the answer; the reader takes its time, well over the timeout.
      await peer.idle();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
    }
  }
  assert.equal(texts.join(""), "one two three four five six");
});

Deno.test("anthropic settings: max_answer_chars and max_event_chars as for the OpenAI-compatible providers", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer, { max_answer_chars: 10, max_event_chars: 100_000 });
  assert.equal(provider.config.maxAnswerChars, 10);
  assert.equal(provider.config.maxEventChars, 100_000);
  peer.enqueue({ text: "a long answer of many words" });
  await assert.rejects(
    (async () => {
      for await (const _ of provider.stream({ messages: hi })) { /* text */ }
    })(),
    /longer than 10 characters/,
  );
  peer.enqueue({ text: "a long answer of many words" });
  await assert.rejects(provider.completion({ messages: hi }), /longer than 10 characters/);
  const small = claude(peer, { max_event_chars: 50 });
  peer.enqueue({ text: "x".repeat(200) });
  await assert.rejects(
    (async () => {
      for await (const _ of small.stream({ messages: hi })) { /* text */ }
    })(),
    /50/,
  );
  assert.throws(() => claude(peer, { max_answer_chars: 0 }), /max_answer_chars/);
});

Deno.test("anthropic sends through the shared guarded fetch: same-origin redirects followed, another host refused, bodies capped", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer, { max_answer_chars: 1000 });
  // As the OpenAI-compatible providers: a redirect on the same host is followed...
  peer.enqueue({ status: 307, headers: { location: `${peer.url}/v1/messages` } });
  const answer = await provider.completion({ messages: hi });
  assert.equal(answer.choices[0].message.content, "Echo: hi there");
  assert.equal(peer.requests.length, 2);
  assert.equal(peer.lastRequest().headers["x-api-key"], KEY);
  // ...one to another host is refused before anything is sent there.
  peer.enqueue({ status: 308, headers: { location: `http://${USER}:${PASS}@evil.example:81/x` } });
  await assert.rejects(provider.completion({ messages: hi }), (error: unknown) => {
    assert.match(String(error), /redirect \(HTTP 308\) to host "evil\.example:81"/);
    assertNone(error, [KEY, USER, PASS]);
    return true;
  });
  // A JSON body over the cap (4 x max_answer_chars + 1 MiB) is not read whole.
  const big = JSON.stringify({ id: "m", type: "message", content: [], pad: "x".repeat(1_200_000) });
  peer.enqueue({ raw: big, contentType: "application/json" });
  await assert.rejects(
    provider.completion({ messages: hi }),
    /the body is larger than 1052576 bytes/,
  );
});
