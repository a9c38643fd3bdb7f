// Fallbacks between providers and between backends, against two test peers on 127.0.0.1:
// when they fail over (retryable errors, windows), when they must not (a stream that has
// started, authentication), cooldowns, and the settings checks.
import assert from "node:assert/strict";
import {
  type AIEvent,
  AuthenticationError,
  ConnectionError,
  ContextLengthError,
  createAI,
  ImproperlyConfigured,
  InvalidAIBackendError,
  InvalidProviderError,
  MemoryCooldownStore,
  OpenAICompatibleProvider,
  ProviderBackend,
  RateLimitError,
  StreamInterruptedError,
  StructuredOutputError,
} from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { chainSettings, chatRequests, providerOn, refusedUrl, sequence } from "./_operations.ts";

const hello = [{ role: "user" as const, content: "Hello" }];

Deno.test("a provider fails over when its service is down (connection refused): the backup answers", async () => {
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(refusedUrl(), backup), {
    onEvent: (event) => events.push(event),
  });
  const answer = await ai.getProvider("primary").completion({ messages: hello });
  assert.equal(answer.choices[0].message.content, "Echo: Hello");
  assert.equal(chatRequests(backup), 1);
  assert.deepEqual(sequence(events), [
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
  ]);
  assert.equal(events[1].reason, "error");
  assert.equal(events[1].error?.name, "ConnectionError");
  assert.deepEqual(events[3].fallbackFrom?.map(({ alias, reason }) => ({ alias, reason })), [
    { alias: "primary", reason: "error" },
  ]);
  assert.equal(events[3].model, "gpt-4.1-mini");
});

Deno.test("a provider fails over on 503, streamed and whole: the backup answers, the events say so", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 503, error: "overloaded" }) });
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(primary, backup), { onEvent: (event) => events.push(event) });
  const provider = ai.getProvider("primary");
  const texts: string[] = [];
  for await (const event of provider.stream({ messages: hello })) {
    if (event.type === "text") texts.push(event.text);
  }
  assert.equal(texts.join(""), "Echo: Hello");
  const whole = await provider.completion({ messages: hello });
  assert.equal(whole.choices[0].message.content, "Echo: Hello");
  assert.equal(chatRequests(primary), 2);
  assert.equal(chatRequests(backup), 2);
  assert.deepEqual(sequence(events), [
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
  ]);
  assert.equal(events[1].error?.status, 503);
  assert.equal(events[3].fallbackFrom?.[0].error?.status, 503);
  assert.ok(events[3].firstChunkMs !== undefined, "a streamed answer has firstChunkMs");
  assert.equal(events[7].firstChunkMs, undefined, "a whole answer has none");
});

Deno.test("a provider fails over on 429 with Retry-After after its own retries", async () => {
  await using primary = await startPeer({
    handler: () => ({ status: 429, error: "slow down", headers: { "retry-after-ms": "5" } }),
  });
  await using backup = await startPeer();
  const ai = createAI(chainSettings(primary, backup, { primary: { max_retries: 1 } }));
  const answer = await ai.getProvider("primary").completion({ messages: hello });
  assert.equal(answer.choices[0].message.content, "Echo: Hello");
  assert.equal(chatRequests(primary), 2, "the primary's own retry first");
  assert.equal(chatRequests(backup), 1);
  // Without retries a long Retry-After does not hold the answer back: an hour's wait could not
  // end within the test run, so the answer itself shows that the backup was asked at once.
  primary.reset();
  backup.reset();
  primary.setHandler(() => ({
    status: 429,
    error: "slow down",
    headers: { "retry-after": "3600" },
  }));
  const events: AIEvent[] = [];
  const quick = createAI(chainSettings(primary, backup), {
    onEvent: (event) => events.push(event),
  });
  const answered = await quick.getProvider("primary").completion({ messages: hello });
  assert.equal(answered.choices[0].message.content, "Echo: Hello");
  assert.equal(chatRequests(primary), 1);
  assert.equal(chatRequests(backup), 1);
  assert.deepEqual(sequence(events), [
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
  ]);
  assert.equal(events[1].error?.status, 429);
});

Deno.test("a stream that fails after its first chunk is a StreamInterruptedError: no fallback, no splice", async () => {
  await using primary = await startPeer({
    handler: () => ({ stream: ["Primary", " says", " hello"], cutAfter: 1 }),
  });
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(primary, backup), { onEvent: (event) => events.push(event) });
  const texts: string[] = [];
  await assert.rejects(async () => {
    for await (const event of ai.getProvider("primary").stream({ messages: hello })) {
      if (event.type === "text") texts.push(event.text);
    }
  }, StreamInterruptedError);
  assert.deepEqual(texts, ["Primary"]);
  // Through a backend: the caller saw the primary's first chunk, then the error.
  const response = ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" });
  const chunks: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of response) chunks.push(chunk);
  }, StreamInterruptedError);
  assert.deepEqual(chunks, ["Primary"]);
  await assert.rejects(response.text(), StreamInterruptedError);
  assert.equal(chatRequests(backup), 0);
  assert.deepEqual(sequence(events), [
    "request:primary",
    "error:primary",
    "request:primary",
    "error:primary",
  ]);
});

Deno.test('401 on the primary does not fail over; with fallback_on "any" it does', async () => {
  await using primary = await startPeer({ handler: () => ({ status: 401, error: "bad key" }) });
  await using backup = await startPeer();
  const strict = createAI(chainSettings(primary, backup));
  await assert.rejects(
    strict.getProvider("primary").completion({ messages: hello }),
    AuthenticationError,
  );
  await assert.rejects(
    strict.getBackend().promptWithContext({ prePrompt: "p", context: "c" }).text(),
    AuthenticationError,
  );
  assert.equal(chatRequests(backup), 0);
  const any = createAI(chainSettings(primary, backup, { primary: { fallback_on: "any" } }));
  const answer = await any.getProvider("primary").completion({ messages: hello });
  assert.equal(answer.choices[0].message.content, "Echo: Hello");
  const text = await any.getBackend().promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(text, "Echo: c");
  assert.equal(chatRequests(backup), 2);
});

Deno.test("cooldown: after 3 failures the primary gets no request for the cooldown, then one", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 503, error: "down" }) });
  await using backup = await startPeer();
  let now = 1_000_000;
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(primary, backup, { primary: { cooldown_seconds: 60 } }), {
    cooldownStore: new MemoryCooldownStore({ now: () => now }),
    onEvent: (event) => events.push(event),
  });
  const provider = ai.getProvider("primary");
  for (let i = 0; i < 3; i++) await provider.completion({ messages: hello });
  assert.equal(chatRequests(primary), 3);
  for (let i = 0; i < 5; i++) await provider.completion({ messages: hello });
  assert.equal(chatRequests(primary), 3, "skipped while cooling down");
  assert.equal(chatRequests(backup), 8);
  const skipped = events.filter((event) => event.type === "answer").at(-1)!;
  assert.deepEqual(skipped.fallbackFrom, [{ alias: "primary", reason: "cooldown" }]);
  now += 59_000;
  await provider.completion({ messages: hello });
  assert.equal(chatRequests(primary), 3);
  now += 1_000;
  // The cooldown is over: one request tries the primary again (still down: it cools again).
  await Promise.all([1, 2, 3].map(() => provider.completion({ messages: hello })));
  assert.equal(chatRequests(primary), 4);
  // Back up: after the next cooldown, its first answer ends the cooldown for good.
  primary.setHandler(() => ({ text: "Primary is back" }));
  now += 60_000;
  const back = await provider.completion({ messages: hello });
  assert.equal(back.choices[0].message.content, "Primary is back");
  await provider.completion({ messages: hello });
  assert.equal(chatRequests(primary), 6);
});

Deno.test("window fallback: a prompt too long for the primary goes to a bigger model, never to the primary", async () => {
  await using primary = await startPeer();
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(
    chainSettings(primary, backup, {
      primary: { context_window: 50 },
      backup: { context_window: 10_000 },
    }),
    { onEvent: (event) => events.push(event) },
  );
  const long = "word ".repeat(200);
  const answer = await ai.getProvider("primary").completion({
    messages: [{ role: "user", content: long }],
  });
  assert.ok(answer.choices[0].message.content.startsWith("Echo: word"));
  assert.equal(chatRequests(primary), 0);
  assert.equal(chatRequests(backup), 1);
  assert.equal(events[1].type, "fallback");
  assert.equal(events[1].reason, "context_window");
  // A short prompt still goes to the primary.
  await ai.getProvider("primary").completion({ messages: hello });
  assert.equal(chatRequests(primary), 1);
  // Through the provider backend: each alias's own window (context_window) and model.
  const response = ai.getBackend().promptWithContext({ prePrompt: "Summarise:", context: long });
  assert.ok((await response.text()).startsWith("Echo: word"));
  assert.equal(chatRequests(primary), 1);
  const usage = await response.usage();
  assert.equal(usage?.alias, "backup");
  assert.equal(usage?.model, "gpt-4.1-mini");
  assert.equal(usage?.fallbackFrom?.[0].reason, "context_window");
  assert.equal(backup.lastRequest().body.model, "gpt-4.1-mini");
});

Deno.test("window fallback: when no alias's window fits, a ContextLengthError before any request", async () => {
  await using primary = await startPeer();
  await using backup = await startPeer();
  const ai = createAI(chainSettings(primary, backup, {
    primary: { context_window: 50 },
    backup: { context_window: 60 },
  }));
  const messages = [{ role: "user" as const, content: "word ".repeat(200) }];
  await assert.rejects(
    ai.getProvider("primary").completion({ messages }),
    (error: Error) => {
      assert.ok(error instanceof ContextLengthError);
      assert.match(error.message, /"primary" \(50 tokens\), "backup" \(60 tokens\)/);
      assert.equal(error.contextWindow, 60);
      assert.ok((error.promptTokens ?? 0) > 60);
      return true;
    },
  );
  assert.equal(chatRequests(primary) + chatRequests(backup), 0);
});

Deno.test("backend FALLBACKS: a down backend's prompt goes to the next backend; usage() says who answered", async () => {
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          API_BASE: refusedUrl(),
          OPENAI_API_KEY: "sk-primary-secret-0001",
          MAX_RETRIES: 0,
          FALLBACKS: ["spare"],
        },
      },
      spare: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4.1-mini",
          API_BASE: backup.url,
          OPENAI_API_KEY: "sk-backup-secret-0002",
        },
      },
    },
  }, { onEvent: (event) => events.push(event) });
  const backend = ai.getBackend();
  assert.equal(backend.config.modelId, "gpt-4o-mini", "the asked backend's config");
  const response = backend.promptWithContext({ prePrompt: "p", context: "streamed" });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.equal(chunks.join(""), "Echo: streamed");
  const usage = await response.usage();
  assert.equal(usage?.alias, "spare");
  assert.equal(usage?.backend, "spare");
  assert.equal(usage?.model, "gpt-4.1-mini");
  assert.equal(usage?.fallbackFrom?.[0].alias, "default");
  assert.equal(usage?.fallbackFrom?.[0].error?.name, "ConnectionError");
  assert.equal(await backend.promptWithContext({ prePrompt: "p", context: "x" }).text(), "Echo: x");
  assert.deepEqual(sequence(events).slice(0, 4), [
    "request:default",
    "fallback:default",
    "request:spare",
    "answer:spare",
  ]);
  assert.equal(events[3].backend, "spare");
});

Deno.test("backend FALLBACKS: a prompt over TOKEN_LIMIT goes to a backend whose window fits, sending nothing first", async () => {
  await using small = await startPeer();
  await using big = await startPeer();
  const openai = (peer: typeof small, limit: number, extra: Record<string, unknown> = {}) => ({
    CLASS: "openai",
    CONFIG: {
      MODEL_ID: "gpt-4o-mini",
      API_BASE: peer.url,
      OPENAI_API_KEY: "sk-test",
      TOKEN_LIMIT: limit,
      ...extra,
    },
  });
  const ai = createAI({
    BACKENDS: {
      default: openai(small, 40, { FALLBACKS: ["medium", "large"] }),
      medium: openai(small, 60),
      large: openai(big, 10_000),
    },
  });
  const response = ai.getBackend().promptWithContext({
    prePrompt: "Correct:",
    context: "word ".repeat(100),
  });
  assert.ok((await response.text()).startsWith("Echo: word"));
  assert.equal(chatRequests(small), 0);
  assert.equal(chatRequests(big), 1);
  const usage = await response.usage();
  assert.deepEqual(usage?.fallbackFrom?.map((record) => record.reason), [
    "context_window",
    "context_window",
  ]);
  // None fits: a ContextLengthError naming every backend.
  await assert.rejects(
    ai.getBackend().promptWithContext({ prePrompt: "", context: "word ".repeat(20_000) }).text(),
    /"default" \(40 tokens\), "medium" \(60 tokens\), "large" \(10000 tokens\)/,
  );
});

Deno.test("describeImage() fails over too", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 500, error: "boom" }) });
  await using backup = await startPeer();
  const ai = createAI(chainSettings(primary, backup));
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const text = await ai.getBackend().describeImage({ image: png, prompt: "Alt text" }).text();
  assert.equal(text, "Echo: Alt text [image image/png 8 bytes]");
  assert.equal(chatRequests(backup), 1);
});

Deno.test("an aborted call never fails over", async () => {
  await using primary = await startPeer({ handler: () => ({ delayMs: 30_000 }) });
  await using backup = await startPeer();
  const ai = createAI(chainSettings(primary, backup));
  const controller = new AbortController();
  const pending = ai.getProvider("primary").completion({
    messages: hello,
    signal: controller.signal,
  });
  while (primary.active === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  controller.abort();
  await assert.rejects(pending, { name: "AbortError" });
  const response = ai.getBackend().promptWithContext({
    prePrompt: "p",
    context: "c",
    signal: AbortSignal.abort(),
  });
  await assert.rejects(response.text(), { name: "AbortError" });
  assert.equal(chatRequests(backup), 0);
});

Deno.test("when every alias fails, the last one's error is thrown", async () => {
  const ai = createAI(chainSettings(refusedUrl(), refusedUrl()));
  await assert.rejects(
    ai.getProvider("primary").completion({ messages: hello }),
    (error: Error) => error instanceof ConnectionError && /backup|127\.0\.0\.1/.test(error.message),
  );
  await using limited = await startPeer({ handler: () => ({ status: 429, error: "quota" }) });
  const mixed = createAI(chainSettings(refusedUrl(), limited));
  await assert.rejects(
    mixed.getProvider("primary").completion({ messages: hello }),
    RateLimitError,
  );
});

Deno.test("a fallback chain is transitive and each alias is asked once", async () => {
  await using down = await startPeer({ handler: () => ({ status: 502, error: "bad gateway" }) });
  await using up = await startPeer();
  const events: string[] = [];
  const ai = createAI({
    PROVIDERS: {
      a: providerOn(down, "primary", { fallbacks: ["b", "c"] }),
      b: providerOn(down, "primary", { fallbacks: ["d"] }),
      c: providerOn(down, "primary", { fallbacks: ["b"] }),
      d: providerOn(up, "backup"),
    },
  }, { onEvent: (event) => event.type === "request" && events.push(event.alias) });
  await ai.getProvider("a").completion({ messages: hello });
  assert.deepEqual(events, ["a", "b", "c", "d"]);
  assert.equal(chatRequests(down), 3);
});

Deno.test("a provider with fallbacks is still its class, with its config and other methods", () => {
  const ai = createAI(chainSettings("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1"));
  const provider = ai.getProvider("primary");
  assert.ok(provider instanceof OpenAICompatibleProvider);
  assert.equal((provider as OpenAICompatibleProvider).config.alias, "primary");
  assert.equal(provider.model, "gpt-4o-mini");
  assert.equal(ai.getProvider("primary"), provider);
  assert.ok(ai.getBackend() instanceof ProviderBackend);
  assert.equal((ai.getBackend() as ProviderBackend).getProvider().model, "gpt-4o-mini");
  assert.ok(!JSON.stringify(provider).includes("sk-primary"));
  assert.throws(() => provider.stream({ messages: [] }), TypeError);
});

Deno.test("check() reports an unknown fallback alias and a cycle, for providers and backends", () => {
  const echo = (extra: Record<string, unknown> = {}) => ({
    CLASS: "echo",
    CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100, ...extra },
  });
  const ai = createAI({
    PROVIDERS: {
      a: { provider: "ollama", model: "llama3.1", fallbacks: ["b"] },
      b: { provider: "ollama", model: "llama3.1", fallbacks: ["a"] },
      c: { provider: "ollama", model: "llama3.1", fallbacks: ["nope"] },
      d: { provider: "ollama", model: "llama3.1", fallbacks: ["d"] },
    },
    BACKENDS: {
      default: echo({ FALLBACKS: ["other"] }),
      other: echo({ FALLBACKS: ["default"] }),
      lost: echo({ FALLBACKS: ["a"] }),
    },
  });
  const messages = ai.check().map((problem) => `${problem.name}: ${problem.message}`);
  assert.equal(messages.length, 5, messages.join("\n"));
  const has = (pattern: RegExp) =>
    assert.ok(messages.some((message) => pattern.test(message)), `${pattern} in ${messages}`);
  has(
    /ImproperlyConfigured: FALLBACKS in CONFIG of backend "default" makes a cycle: "default" -> "other" -> "default"/,
  );
  has(
    /InvalidAIBackendError: FALLBACKS in CONFIG of backend "lost" names "a", which is not in BACKENDS \(it is a PROVIDERS alias/,
  );
  has(/ImproperlyConfigured: fallbacks in PROVIDERS\["a"\] makes a cycle: "a" -> "b" -> "a"/);
  has(
    /InvalidProviderError: fallbacks in PROVIDERS\["c"\] names "nope", which is not in PROVIDERS/,
  );
  has(/fallbacks in PROVIDERS\["d"\] makes a cycle: "d" -> "d"/);
  assert.throws(() => ai.getProvider("c"), InvalidProviderError);
  assert.throws(() => ai.getBackend(), ImproperlyConfigured);
  assert.throws(() => ai.getAIBackend("lost"), InvalidAIBackendError);
});

Deno.test("bad fallback settings are ImproperlyConfigured naming the key and the alias", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ fallbacks: "b" }, /fallbacks in PROVIDERS\["a"\] must be a list of aliases/],
    [{ fallbacks: [""] }, /fallbacks\[0\] in PROVIDERS\["a"\] must be a non-empty alias/],
    [
      { fallback_on: "all" },
      /fallback_on in PROVIDERS\["a"\] must be "retryable" or "any", got "all"/,
    ],
    [{ cooldown_failures: -1 }, /cooldown_failures in PROVIDERS\["a"\] must be an integer from 0/],
    [{ cooldown_seconds: "30" }, /cooldown_seconds in PROVIDERS\["a"\] must be a number/],
    [{ context_window: 0 }, /context_window in PROVIDERS\["a"\] must be a positive integer/],
  ];
  for (const [extra, pattern] of bad) {
    const ai = createAI({ PROVIDERS: { a: { provider: "ollama", model: "m", ...extra } } });
    assert.throws(() => ai.getProvider("a"), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, pattern);
      return true;
    });
    assert.ok(ai.check().some((problem) => pattern.test(problem.message)));
  }
  const backend = createAI({
    BACKENDS: {
      default: {
        CLASS: "echo",
        CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 9, FALLBACK_ON: 1 as never },
      },
    },
  });
  assert.throws(
    () => backend.getBackend(),
    /FALLBACK_ON in CONFIG of backend "default" must be "retryable" or "any", got a number/,
  );
});

Deno.test("a provider fallback of a provider backend needs a known window", () => {
  const ai = createAI({
    PROVIDERS: {
      primary: {
        provider: "ollama",
        model: "llama3.1:8b",
        fallbacks: ["other"],
        context_window: 8192,
      },
      other: { provider: "ollama", model: "my-own-model" },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { PROVIDER: "primary" } } },
  });
  const problems = ai.check();
  assert.equal(problems.length, 1, String(problems));
  assert.match(
    problems[0].message,
    /No context window is known for model "my-own-model" of PROVIDERS\["other"\], a fallback of backend "default": set context_window in PROVIDERS\["other"\]/,
  );
});

Deno.test("structured output fails over too: completeObject() and promptForObject(), with events", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 503, error: "down" }) });
  await using backup = await startPeer({ handler: () => ({ text: '{"title":"Spring"}' }) });
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(primary, backup), { onEvent: (event) => events.push(event) });
  const schema = {
    type: "object",
    properties: { title: { type: "string" } },
    required: ["title"],
    additionalProperties: false,
  };
  const direct = await ai.getProvider("primary").completeObject({
    messages: hello,
    schema,
    metadata: { user: "7" },
  });
  assert.deepEqual(direct.object, { title: "Spring" });
  const through = await ai.getBackend().promptForObject({
    prePrompt: "Title:",
    context: "A page about spring",
    schema,
    metadata: { user: "8" },
  });
  assert.deepEqual(through.object, { title: "Spring" });
  assert.equal(chatRequests(backup), 2);
  assert.deepEqual(sequence(events), [
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
    "request:primary",
    "fallback:primary",
    "request:backup",
    "answer:backup",
  ]);
  assert.equal(events[3].metadata.user, "7");
  assert.equal(events[7].metadata.user, "8");
  assert.equal(events[7].backend, "default");
  assert.ok(events[7].usage && events[7].usage.totalTokens > 0);
  // Wrong arguments still throw at the call (or reject, for a provider), before any request.
  assert.throws(
    () => ai.getBackend().promptForObject({ prePrompt: "", context: "x", schema: 1 as never }),
    TypeError,
  );
  await assert.rejects(
    ai.getProvider("primary").completeObject({ messages: hello, schema, metadata: "x" as never }),
    /metadata of completeObject\(\) must be an object of JSON data/,
  );
  assert.equal(chatRequests(primary), 2);
});

Deno.test("an answer off its schema (StructuredOutputError) never fails over, also with fallback_on: 'any'", async () => {
  for (const fallback_on of [undefined, "any" as const]) {
    await using primary = await startPeer({ handler: () => ({ text: '{"name":"not a title"}' }) });
    await using backup = await startPeer({ handler: () => ({ text: '{"title":"Spring"}' }) });
    const events: AIEvent[] = [];
    const ai = createAI(
      chainSettings(primary, backup, {
        primary: fallback_on === undefined ? {} : { fallback_on },
      }),
      { onEvent: (event) => events.push(event) },
    );
    const schema = {
      type: "object",
      properties: { title: { type: "string" } },
      required: ["title"],
      additionalProperties: false,
    };
    await assert.rejects(
      ai.getProvider("primary").completeObject({ messages: hello, schema }),
      StructuredOutputError,
    );
    await assert.rejects(
      ai.getBackend().promptForObject({ prePrompt: "Title:", context: "spring", schema }),
      StructuredOutputError,
    );
    assert.equal(chatRequests(backup), 0, `fallback_on ${fallback_on}`);
    assert.equal(chatRequests(primary), 4); // each: the answer and its repair
    assert.deepEqual(sequence(events), [
      "request:primary",
      "error:primary",
      "request:primary",
      "error:primary",
    ]);
    // The model answered: no failure towards the alias's cooldown.
    for (let n = 0; n < 3; n++) {
      await ai.getProvider("primary").completeObject({ messages: hello, schema }).catch(() => {});
    }
    primary.setHandler(() => ({ text: '{"title":"Summer"}' }));
    const answer = await ai.getProvider("primary").completeObject({ messages: hello, schema });
    assert.deepEqual(answer.object, { title: "Summer" });
    assert.equal(chatRequests(backup), 0);
  }
});
