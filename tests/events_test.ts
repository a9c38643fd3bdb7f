// Usage events: one per request attempt and per answer, exact under load with failures,
// carrying the call's metadata and never a secret or prompt text; onEvent cannot break a
// request.
import assert from "node:assert/strict";
import { type AIEvent, countTokens, createAI } from "../mod.ts";
import { type RecordedRequest, startPeer } from "./_peer.ts";
import { chainSettings, chatRequests, SECRETS, sequence } from "./_operations.ts";

/** The prompt number of a request ("Please correct paragraph 17" is 17). */
function promptNumber(request: RecordedRequest): number {
  const match = /paragraph (\d+)/.exec(request.text);
  return match ? Number(match[1]) : -1;
}

/** Runs `tasks` with at most `limit` at once. */
async function pool(tasks: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let running = 0;
  let most = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      running++;
      most = Math.max(most, running);
      try {
        await task();
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  assert.equal(most, limit, "the pool ran at full concurrency");
}

Deno.test("events: exact counts of each type under 200 prompts at concurrency 20 with 20% failures", async () => {
  // 10% fail over (503), 10% fail for good (400: the caller's error, no fallback).
  await using primary = await startPeer({
    handler: (request) => {
      const n = promptNumber(request);
      if (n % 10 === 0) return { status: 503, error: "overloaded" };
      if (n % 10 === 5) return { status: 400, error: "bad request" };
      return { delayMs: n % 3 };
    },
  });
  await using backup = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(primary, backup), { onEvent: (event) => events.push(event) });
  const outcomes: { n: number; ok: boolean }[] = [];
  const tasks = Array.from({ length: 200 }, (_, n) => async () => {
    const metadata = { user: `u${n % 7}`, prompt: n, tags: ["load", n % 2 === 0] };
    const text = `Please correct paragraph ${n}`;
    const messages = [{ role: "user" as const, content: text }];
    try {
      if (n % 4 === 0) {
        const response = ai.getBackend().promptWithContext({
          prePrompt: "",
          context: text,
          metadata,
        });
        for await (const _ of response) { /* streamed */ }
      } else if (n % 4 === 1) {
        await ai.getBackend().promptWithContext({ prePrompt: "", context: text, metadata }).text();
      } else if (n % 4 === 2) {
        await ai.getProvider("primary").completion({ messages, metadata });
      } else {
        for await (
          const _ of ai.getProvider("primary").stream({ messages, metadata })
        ) { /* streamed */ }
      }
      outcomes.push({ n, ok: true });
    } catch {
      outcomes.push({ n, ok: false });
    }
  });
  await pool(tasks, 20);

  const count = (type: string) => events.filter((event) => event.type === type).length;
  assert.equal(count("fallback"), 20);
  assert.equal(count("error"), 20);
  assert.equal(count("answer"), 180);
  assert.equal(count("request"), 220);
  assert.equal(events.length, 440);
  assert.equal(outcomes.filter((outcome) => outcome.ok).length, 180);
  assert.equal(chatRequests(primary), 200);
  assert.equal(chatRequests(backup), 20);

  // Per call: its own sequence, its metadata on every event, one callId, attempts in order.
  const calls = new Map<string, AIEvent[]>();
  for (const event of events) calls.set(event.callId, [...calls.get(event.callId) ?? [], event]);
  assert.equal(calls.size, 200);
  for (const callEvents of calls.values()) {
    const n = callEvents[0].metadata.prompt as number;
    for (const event of callEvents) {
      assert.deepEqual(event.metadata, {
        user: `u${n % 7}`,
        prompt: n,
        tags: ["load", n % 2 === 0],
      });
      assert.equal(event.feature, "TEXT_COMPLETION");
      assert.equal(event.backend, n % 4 < 2 ? "default" : undefined);
      assert.ok(event.durationMs >= 0);
    }
    const expected = n % 10 === 0
      ? ["request:primary", "fallback:primary", "request:backup", "answer:backup"]
      : n % 10 === 5
      ? ["request:primary", "error:primary"]
      : ["request:primary", "answer:primary"];
    assert.deepEqual(sequence(callEvents), expected, `prompt ${n}`);
    assert.deepEqual(
      callEvents.map((event) => event.attempt),
      n % 10 === 0 ? [1, 1, 2, 2] : [1, 1],
    );
    const answer = callEvents.find((event) => event.type === "answer");
    if (answer) {
      assert.ok(answer.usage && answer.usage.totalTokens > 0);
      assert.equal(answer.usage.estimated, undefined, "the peer reports usage");
      assert.equal(answer.fallbackFrom?.length, n % 10 === 0 ? 1 : 0);
    }
  }

  // No key, no header value, no prompt or answer text in any event.
  const all = JSON.stringify(events);
  for (const secret of SECRETS) assert.ok(!all.includes(secret), `a secret in events`);
  assert.ok(!all.includes("Please correct"), "prompt text in events");
  assert.ok(!all.includes("Echo:"), "answer text in events");
});

Deno.test("events: metadata is checked at the call (JSON data) and never sent to the service", async () => {
  await using peer = await startPeer();
  const settings = chainSettings(peer, peer);
  for (const ai of [createAI(settings), createAI(settings, { onEvent: () => {} })]) {
    const backend = ai.getBackend();
    const provider = ai.getProvider("primary");
    const messages = [{ role: "user" as const, content: "Hi" }];
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: [unknown, RegExp][] = [
      ["user-42", /metadata of promptWithContext\(\) must be an object of JSON data, got a string/],
      [
        { when: new Date() },
        /metadata\.when of promptWithContext\(\) must be JSON data, got a Date/,
      ],
      [
        { run: () => 1 },
        /metadata\.run of promptWithContext\(\) must be JSON data, got a function/,
      ],
      [
        circular,
        /metadata\.self of promptWithContext\(\) must be JSON data, got a circular reference/,
      ],
      [{ many: Array(2000).fill(1) }, /metadata of promptWithContext\(\) is too large/],
      [{ big: 10n }, /must be JSON data, got a bigint/],
    ];
    for (const [metadata, pattern] of bad) {
      assert.throws(
        () =>
          backend.promptWithContext({ prePrompt: "", context: "x", metadata: metadata as never }),
        (error: Error) => error instanceof TypeError && pattern.test(error.message),
      );
    }
    assert.throws(
      () =>
        backend.describeImage({
          image: new Uint8Array([0xff, 0xd8, 0xff]),
          prompt: "Alt",
          metadata: [] as never,
        }),
      /metadata of describeImage\(\) must be an object of JSON data, got an array/,
    );
    await assert.rejects(
      provider.completion({ messages, metadata: { at: new Date() } as never }),
      /metadata\.at of completion\(\) must be JSON data, got a Date/,
    );
    assert.throws(
      () => provider.stream({ messages, metadata: "x" as never }),
      /metadata of stream\(\) must be an object of JSON data/,
    );
    const metadata = { user: "42", site: "blog" };
    await backend.promptWithContext({ prePrompt: "", context: "x", metadata }).text();
    await provider.completion({ messages, metadata });
    for await (const _ of provider.stream({ messages, metadata })) { /* read */ }
  }
  assert.ok(peer.requests.length >= 6);
  for (const request of peer.requests) {
    assert.equal(request.body.metadata, undefined, "metadata was sent");
    assert.ok(!request.text.includes("blog"));
  }
});

Deno.test("events: an onEvent that throws (or rejects) never breaks a request; onWarning gets it", async () => {
  await using peer = await startPeer();
  const warnings: Error[] = [];
  let calls = 0;
  const ai = createAI(chainSettings(peer, peer), {
    onEvent: (event) => {
      calls++;
      if (event.type === "request") throw new Error("log server is down");
      return Promise.reject(new Error("async log failed"));
    },
    onWarning: (warning) => warnings.push(warning),
  });
  const text = await ai.getBackend().promptWithContext({ prePrompt: "", context: "ok" }).text();
  assert.equal(text, "Echo: ok");
  const answer = await ai.getProvider("primary").completion({
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(answer.choices[0].message.content, "Echo: Hi");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(calls, 4);
  assert.equal(warnings.length, 4);
  assert.match(warnings[0].message, /onEvent threw for a "request" event: log server is down/);
  assert.ok(warnings.some((warning) => /"answer" event: async log failed/.test(warning.message)));
  // An onWarning that throws too changes nothing.
  const worst = createAI(chainSettings(peer, peer), {
    onEvent: () => {
      throw new Error("no");
    },
    onWarning: () => {
      throw new Error("no either");
    },
  });
  assert.equal(
    await worst.getBackend().promptWithContext({ prePrompt: "", context: "y" }).text(),
    "Echo: y",
  );
});

Deno.test("events: includePrompts adds the prompt and the answer's text (image data left out)", async () => {
  await using peer = await startPeer();
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(peer, peer), {
    onEvent: (event) => events.push(event),
    events: { includePrompts: true },
  });
  await ai.getBackend().promptWithContext({ prePrompt: "Correct:", context: "teh cat" }).text();
  assert.deepEqual(events[0].prompt, [
    { role: "system", content: "Correct:" },
    { role: "user", content: "teh cat" },
  ]);
  assert.equal(events[1].text, "Echo: teh cat");
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const part = {
    type: "image_url" as const,
    image_url: { url: "data:image/png;base64,iVBORw0KGgo=" },
  };
  await ai.getProvider("primary").completion({
    messages: [{ role: "user", content: [{ type: "text", text: "Alt text" }, part] }],
  });
  assert.equal(events[2].feature, "IMAGE_DESCRIPTION");
  assert.deepEqual(events[2].prompt, [{
    role: "user",
    content: [
      { type: "text", text: "Alt text" },
      { type: "image_url", image_url: { url: "(image data left out)" } },
    ],
  }]);
  await ai.getBackend().describeImage({ image: png, prompt: "Describe" }).text();
  assert.equal(events[4].feature, "IMAGE_DESCRIPTION");
  assert.ok(!JSON.stringify(events).includes("iVBORw0KGgo"));
  for (const secret of SECRETS) assert.ok(!JSON.stringify(events).includes(secret));
});

Deno.test("events: one answer event however the response is read; a reader that leaves ends with an error event", async () => {
  await using peer = await startPeer({
    handler: () => ({ text: "one two three four", chunkDelayMs: 5 }),
  });
  const events: AIEvent[] = [];
  const ai = createAI(chainSettings(peer, peer), { onEvent: (event) => events.push(event) });
  const response = ai.getBackend().promptWithContext({ prePrompt: "", context: "x" });
  for await (const _ of response) { /* streamed */ }
  await response.text();
  await response.usage();
  for await (const _ of response) { /* replayed */ }
  assert.deepEqual(sequence(events), ["request:primary", "answer:primary"]);
  events.length = 0;
  const early = ai.getBackend().promptWithContext({ prePrompt: "", context: "x" });
  for await (const _ of early) break;
  await assert.rejects(early.text(), { name: "AbortError" });
  assert.deepEqual(sequence(events), ["request:primary", "error:primary"]);
  assert.equal(events[1].error?.name, "AbortError");
  events.length = 0;
  for await (
    const _ of ai.getProvider("primary").stream({ messages: [{ role: "user", content: "x" }] })
  ) {
    break;
  }
  assert.deepEqual(sequence(events), ["request:primary", "error:primary"]);
});

Deno.test("events: every backend reports, the echo backend with estimated usage", async () => {
  const events: AIEvent[] = [];
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "gpt-4o", TOKEN_LIMIT: 1000 } } },
  }, { onEvent: (event) => events.push(event) });
  const response = ai.getBackend().promptWithContext({
    prePrompt: "Echo:",
    context: "hello world",
  });
  assert.equal(await response.text(), "This is an echo backend: hello world");
  assert.deepEqual(sequence(events), ["request:default", "answer:default"]);
  assert.equal(events[1].provider, "echo");
  assert.equal(events[1].backend, "default");
  // Counted for the model: the prompt as the echo backend reads it, and the answer.
  const inputTokens = await countTokens("Echo:\nhello world\n", "gpt-4o");
  const outputTokens = await countTokens("This is an echo backend: hello world", "gpt-4o");
  const totalTokens = inputTokens + outputTokens;
  assert.deepEqual(events[1].usage, { inputTokens, outputTokens, totalTokens, estimated: true });
  assert.deepEqual(await response.usage(), {
    inputTokens,
    outputTokens,
    totalTokens,
    estimated: true,
    alias: "default",
    provider: "echo",
    model: "gpt-4o",
    backend: "default",
    fallbackFrom: [],
  });
});

Deno.test("events: without onEvent, tracer or fallbacks, backends and providers are the plain ones", async () => {
  await using peer = await startPeer();
  const ai = createAI({
    PROVIDERS: { default: { provider: "openai_compatible", model: "m", api_base: peer.url } },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 1000 } } },
  });
  // The backend's provider is the plain one; with nothing to add, getProvider() gives it too.
  const provider = ai.getProvider();
  assert.equal(provider, (ai.getBackend() as unknown as { getProvider(): unknown }).getProvider());
  const observed = createAI(ai.settings as never, { onEvent: () => {} });
  assert.notEqual(
    observed.getProvider(),
    (observed.getBackend() as unknown as { getProvider(): unknown }).getProvider(),
  );
});

Deno.test("events: secretsIn() finds secrets under any headers object and secret-like names, as printed settings mask them", async () => {
  const { secretsIn, scrubMessage } = await import("../operations/_events.ts");
  const config = {
    MODEL_ID: "gpt-4o-mini",
    INIT_KWARGS: { default_headers: { "X-Session": "hdr-value-1" }, password: "pw-value-2" },
    extra: [{ access_token: "tok-value-3" }],
    max_tokens: 100,
  };
  const secrets = secretsIn(config);
  for (const secret of ["hdr-value-1", "pw-value-2", "tok-value-3"]) {
    assert.ok(secrets.includes(secret), `${secret} found`);
  }
  assert.ok(!secrets.includes("gpt-4o-mini"), "a model name is no secret");
  const message = scrubMessage("refused hdr-value-1 with pw-value-2 and tok-value-3", secrets);
  assert.equal(message, "refused *** with *** and ***");
});
