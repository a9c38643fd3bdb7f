// ProviderBackend: the Backend interface on a provider, end to end against the test peer.
import assert from "node:assert/strict";
import {
  type Backend,
  ContextLengthError,
  createAI,
  ImproperlyConfigured,
  InvalidImageError,
  InvalidProviderError,
  MissingAPIKeyError,
  ProviderBackend,
  type ProviderSettings,
} from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

function backendOn(
  peer: Peer | undefined,
  config: Record<string, unknown> = {},
  provider: Partial<ProviderSettings> = {},
): ProviderBackend {
  const ai = createAI({
    PROVIDERS: {
      text: {
        provider: "openai",
        model: "gpt-4o-mini",
        api_key: "sk-backend-test",
        max_retries: 0,
        ...(peer ? { api_base: peer.url } : {}),
        ...provider,
      },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { PROVIDER: "text", ...config } } },
  });
  return ai.getAIBackend("default") as ProviderBackend;
}

Deno.test("ProviderBackend is registered as provider and ProviderBackend", () => {
  for (const name of ["provider", "ProviderBackend"]) {
    const ai = createAI({
      PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
      BACKENDS: { default: { CLASS: name, CONFIG: { TOKEN_LIMIT: 8192 } } },
    });
    assert.ok(ai.getAIBackend("default") instanceof ProviderBackend);
  }
  const byClass = createAI({
    PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
    BACKENDS: { default: { CLASS: ProviderBackend, CONFIG: { TOKEN_LIMIT: 8192 } } },
  });
  assert.ok(byClass.getBackend() instanceof ProviderBackend);
});

Deno.test("ProviderBackend config: defaults from the provider, camelCase keys", () => {
  const backend = backendOn(undefined);
  assert.equal(backend.config.providerAlias, "text");
  assert.equal(backend.config.modelId, "gpt-4o-mini");
  assert.equal(backend.config.tokenLimit, 128_000);
  assert.equal(backend.config.promptStyle, "openai");
  assert.equal(backend.config.systemPrompt, undefined);
  assert.equal(backend.config.maxImageBytes, 20 * 1024 * 1024);
  assert.equal(backend.getProvider().model, "gpt-4o-mini");
  const custom = backendOn(undefined, {
    MODEL_ID: "gpt-4.1-mini",
    TOKEN_LIMIT: 5000,
    PROMPT_STYLE: "llm",
    SYSTEM_PROMPT: "Be kind.",
    OPTIONS: { temperature: 0.3 },
    MAX_OUTPUT_TOKENS: 100,
    MAX_IMAGE_BYTES: 1000,
  });
  assert.equal(custom.config.modelId, "gpt-4.1-mini");
  assert.equal(custom.config.tokenLimit, 5000);
  assert.equal(custom.config.promptStyle, "llm");
  assert.equal(custom.config.systemPrompt, "Be kind.");
  assert.deepEqual(custom.config.options, { temperature: 0.3 });
  assert.equal(custom.config.maxOutputTokens, 100);
  assert.equal(custom.config.maxImageBytes, 1000);
});

Deno.test("ProviderBackend PROVIDER defaults to the default provider", () => {
  const ai = createAI({
    PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 8192 } } },
  });
  const backend = ai.getBackend() as ProviderBackend;
  assert.equal(backend.config.providerAlias, "default");
  assert.equal(backend.getProvider(), ai.getProvider());
});

Deno.test("ProviderBackend config: bad values name the key and the alias", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ NOPE: 1 }, /CONFIG of backend "default" has an unknown key "NOPE"/],
    [{ PROVIDER: "gone" }, /PROVIDER "gone" in CONFIG of backend "default": No provider "gone"/],
    [{ PROVIDER: 3 }, /PROVIDER in CONFIG of backend "default" must be a string/],
    [{ MODEL_ID: "my-private-model" }, /"my-private-model".*TOKEN_LIMIT/],
    [{ TOKEN_LIMIT: 0 }, /TOKEN_LIMIT in CONFIG of backend "default"/],
    [
      { PROMPT_STYLE: "chat" },
      /PROMPT_STYLE in CONFIG of backend "default" must be "openai" or "llm"/,
    ],
    [{ SYSTEM_PROMPT: 1 }, /SYSTEM_PROMPT in CONFIG of backend "default" must be a string/],
    [{ OPTIONS: [] }, /OPTIONS in CONFIG of backend "default" must be an object/],
    [{ OPTIONS: { max_tokens: 3 } }, /must not set "max_tokens" \(use MAX_OUTPUT_TOKENS\)/],
    [{ OPTIONS: { n: 2 } }, /must not set "n" \(one answer per request/],
    [{ OPTIONS: { messages: [] } }, /must not set "messages"/],
    [{ OPTIONS: { f: () => 1 } }, /OPTIONS\.f in CONFIG of backend "default" must be JSON data/],
    [{ MAX_OUTPUT_TOKENS: -1 }, /MAX_OUTPUT_TOKENS/],
    [{ MAX_IMAGE_BYTES: 0 }, /MAX_IMAGE_BYTES/],
  ];
  for (const [config, pattern] of bad) {
    assert.throws(() => backendOn(undefined, config), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured, `${error.name}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.throws(
    () => backendOn(undefined, {}, { provider: "groq", model: "llama", api_key: undefined }),
    MissingAPIKeyError,
  );
  assert.throws(() => backendOn(undefined, { PROVIDER: "gone" }), InvalidProviderError);
});

Deno.test("ProviderBackend outside createAI() needs a provider context", () => {
  assert.throws(
    () =>
      ProviderBackend.parseConfig({ TOKEN_LIMIT: 10 }, {
        alias: "x",
        textSplitterClass: class {} as never,
        textSplitterLengthCalculatorClass: class {} as never,
      }),
    /Backend "x" \(ProviderBackend\) needs PROVIDERS: build it with createAI\(\)/,
  );
});

Deno.test("ProviderBackend.promptWithContext() sends the OpenAI backend's messages by default", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer);
  const answer = await backend.promptWithContext({
    prePrompt: "Correct this:",
    context: "Teh cat",
    postPrompt: "Answer in English.",
  }).text();
  assert.equal(answer, "Echo: Teh cat");
  const body = peer.lastRequest().body;
  assert.equal(body.model, "gpt-4o-mini");
  assert.deepEqual(body.messages, [
    { role: "system", content: [{ type: "text", text: "Correct this:" }] },
    { role: "user", content: [{ type: "text", text: "Teh cat" }] },
    { role: "system", content: [{ type: "text", text: "Answer in English." }] },
  ]);
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-backend-test");
  assert.ok(body.max_tokens > 0 && body.max_tokens <= 16_384);
});

Deno.test("ProviderBackend PROMPT_STYLE llm sends one user message joined by newlines, SYSTEM_PROMPT first", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, {
    PROMPT_STYLE: "llm",
    SYSTEM_PROMPT: "A custom, global system prompt.",
    OPTIONS: { temperature: 0.2, seed: 7 },
  });
  const answer = await backend.promptWithContext({ prePrompt: "Fix:", context: "a b" }).text();
  assert.equal(answer, "Echo: Fix:\na b");
  const body = peer.lastRequest().body;
  assert.deepEqual(body.messages, [
    { role: "system", content: "A custom, global system prompt." },
    { role: "user", content: "Fix:\na b" },
  ]);
  assert.equal(body.temperature, 0.2);
  assert.equal(body.seed, 7);
  await backend.promptWithContext({ prePrompt: "P", context: "C", postPrompt: "Q" }).text();
  assert.equal(peer.lastRequest().body.messages[1].content, "P\nC\nQ");
});

Deno.test("ProviderBackend streams chunks in order and text() after iteration sends no second request", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer);
  const response = backend.promptWithContext({ prePrompt: "x", context: "one two three" });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.ok(chunks.length > 1);
  assert.equal(chunks.join(""), "Echo: one two three");
  assert.equal(await response.text(), "Echo: one two three");
  assert.equal(peer.requests.length, 1);
  assert.equal(peer.lastRequest().body.stream, true);
  const usage = await response.usage();
  assert.ok(usage && usage.outputTokens === 4);
});

Deno.test("ProviderBackend sends MODEL_ID when it differs from the provider's model", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { MODEL_ID: "gpt-4.1-mini" });
  await backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(peer.lastRequest().body.model, "gpt-4.1-mini");
});

Deno.test("ProviderBackend caps the answer and refuses a prompt over the window before any request", async () => {
  await using peer = await startPeer();
  const capped = backendOn(peer, { MAX_OUTPUT_TOKENS: 42 });
  await capped.promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(peer.lastRequest().body.max_tokens, 42);
  const reasoning = backendOn(peer, { MODEL_ID: "o4-mini" });
  await reasoning.promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.ok(peer.lastRequest().body.max_completion_tokens > 0);
  const small = backendOn(peer, { TOKEN_LIMIT: 20 });
  const before = peer.requests.length;
  await assert.rejects(
    small.promptWithContext({ prePrompt: "p", context: "word ".repeat(100) }).text(),
    (error: Error) => {
      assert.ok(error instanceof ContextLengthError);
      const over = /by (\d+) tokens/.exec(error.message);
      assert.ok(over, error.message);
      assert.equal(error.contextWindow, 20);
      assert.equal(error.promptTokens, 20 + Number(over[1]));
      return true;
    },
  );
  assert.equal(peer.requests.length, before);
});

Deno.test("ProviderBackend.describeImage() sends the prompt and a data URL in one user message", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { SYSTEM_PROMPT: "You write alt text." });
  const answer = await backend.describeImage({
    image: new File([PNG], "photo.jpg"),
    prompt: "Describe this image",
  }).text();
  assert.equal(answer, "Echo: Describe this image [image image/png 12 bytes]");
  const messages = peer.lastRequest().body.messages;
  assert.deepEqual(messages[0], { role: "system", content: "You write alt text." });
  assert.equal(messages[1].role, "user");
  assert.deepEqual(messages[1].content[0], { type: "text", text: "Describe this image" });
  assert.match(messages[1].content[1].image_url.url, /^data:image\/png;base64,/);
});

Deno.test("ProviderBackend.describeImage() refuses bad arguments before any request", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { MAX_IMAGE_BYTES: 8 });
  assert.throws(() => backend.describeImage({ image: PNG, prompt: "" }), TypeError);
  assert.throws(
    () => backend.describeImage({ image: new Uint8Array(), prompt: "x" }),
    InvalidImageError,
  );
  assert.throws(
    () => backend.describeImage({ image: PNG, prompt: "x" }),
    /over the limit of 8 bytes/,
  );
  assert.throws(
    () => backend.describeImage({ image: "x" as never, prompt: "x" }),
    InvalidImageError,
  );
  const pdf = new TextEncoder().encode("%PDF-1");
  await assert.rejects(
    backend.describeImage({ image: new Blob([pdf]), prompt: "x" }).text(),
    /"image" is not a PNG, JPEG, GIF or WebP image: its bytes are a PDF document/,
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("ProviderBackend.promptWithContext() checks its arguments at the call", () => {
  const backend: Backend = backendOn(undefined);
  assert.throws(
    () => backend.promptWithContext({ prePrompt: 1, context: "c" } as never),
    TypeError,
  );
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "p", context: null } as never),
    TypeError,
  );
});

Deno.test("ProviderBackend splits text by its token limit with TEXT_SPLITTING", async () => {
  const ai = createAI({
    PROVIDERS: { default: { provider: "ollama", model: "llama3.1:8b" } },
    BACKENDS: {
      default: {
        CLASS: "provider",
        CONFIG: { TOKEN_LIMIT: 30 },
        TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "naive" },
      },
    },
  });
  const backend = ai.getBackend();
  const splitter = await backend.getTextSplitter({ chunkOverlap: 0 });
  const text = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} is here.`).join(" ");
  const chunks = splitter.splitText(text);
  assert.ok(chunks.length > 3);
  const calculator = await backend.getSplitterLengthCalculator();
  for (const chunk of chunks) assert.ok(calculator.getSplitterLength(chunk) <= 30);
});

Deno.test("ProviderBackend abort stops a streaming response", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer);
  const controller = new AbortController();
  peer.enqueue({ stream: ["a ", "b ", "c"], chunkDelayMs: 5000 });
  const response = backend.promptWithContext({
    prePrompt: "p",
    context: "c",
    signal: controller.signal,
  });
  await assert.rejects(
    (async () => {
      for await (const _chunk of response) controller.abort();
    })(),
    (error: Error) => error.name === "AbortError",
  );
});

Deno.test("ProviderBackend never prints its provider's key", () => {
  const backend = backendOn(undefined);
  for (const text of [JSON.stringify(backend), Deno.inspect(backend, { depth: 10 })]) {
    assert.ok(!text.includes("sk-backend-test"));
  }
});

Deno.test("ProviderBackend: an already aborted signal rejects with its reason before any work", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { TOKEN_LIMIT: 20 });
  const reason = new Error("the user left");
  const signal = AbortSignal.abort(reason);
  const long = "word ".repeat(100);
  await assert.rejects(
    backend.promptWithContext({ prePrompt: "p", context: long, signal }).text(),
    reason,
  );
  await assert.rejects(async () => {
    for await (const _ of backend.promptWithContext({ prePrompt: "p", context: long, signal })) {
      // nothing arrives
    }
  }, reason);
  await assert.rejects(
    backend.describeImage({ image: new Blob([PNG]), prompt: "d", signal }).text(),
    reason,
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("ProviderBackend sends per-call options over OPTIONS, a per-call cap within MAX_OUTPUT_TOKENS", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, {
    OPTIONS: { temperature: 0.3, seed: 7 },
    MAX_OUTPUT_TOKENS: 42,
  });
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { temperature: 0.9 } })
    .text();
  let body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.9);
  assert.equal(body.seed, 7);
  assert.equal(body.max_tokens, 42);
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 10 } })
    .text();
  body = peer.lastRequest().body;
  assert.equal(body.max_tokens, 10);
  assert.equal(body.temperature, 0.3);
  // MAX_OUTPUT_TOKENS is the operator's ceiling.
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 100 } })
    .text();
  assert.equal(peer.lastRequest().body.max_tokens, 42);
  await backend.describeImage({ image: PNG, prompt: "Alt", options: { top_p: 0.5 } }).text();
  assert.equal(peer.lastRequest().body.top_p, 0.5);
  assert.equal(peer.lastRequest().body.seed, 7);
  // Window and model key.
  await backendOn(peer, { TOKEN_LIMIT: 100 }).promptWithContext({
    prePrompt: "p",
    context: "hello world",
    options: { max_tokens: 5000 },
  }).text();
  body = peer.lastRequest().body;
  assert.ok(body.max_tokens > 50 && body.max_tokens < 100, String(body.max_tokens));
  await backendOn(peer, { MODEL_ID: "o4-mini" }).promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { max_tokens: 500, max_completion_tokens: 66 },
  }).text();
  body = peer.lastRequest().body;
  assert.equal(body.max_completion_tokens, 66);
  assert.equal(body.max_tokens, undefined);
});

Deno.test("ProviderBackend PROMPT_STYLE llm sends a per-call cap, and no cap without one", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { PROMPT_STYLE: "llm" });
  await backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(peer.lastRequest().body.max_tokens, undefined);
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 33 } })
    .text();
  assert.equal(peer.lastRequest().body.max_tokens, 33);
});

Deno.test("ProviderBackend without per-call options sends the same request as with none", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer, { OPTIONS: { temperature: 0.3 } });
  await backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
  const without = peer.lastRequest().body;
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: {} }).text();
  assert.deepEqual(peer.lastRequest().body, without);
  assert.equal(without.temperature, 0.3);
});

Deno.test("ProviderBackend refuses bad per-call options at the call, naming the key", async () => {
  await using peer = await startPeer();
  const backend = backendOn(peer);
  const bad: [unknown, RegExp][] = [
    [[], /options of promptWithContext\(\) must be an object, got an array/],
    [{ messages: [] }, /options of promptWithContext\(\) must not set "messages"/],
    [{ model: "other" }, /must not set "model"/],
    [{ stream: false }, /must not set "stream"/],
    [{ stream_options: { include_usage: true } }, /must not set "stream_options"/],
    [{ n: 2 }, /must not set "n"/],
    [{ signal: null }, /must not set "signal"/],
    [{ f: () => 1 }, /options\.f of promptWithContext\(\) must be JSON data, got a function/],
    [{ max_tokens: -1 }, /options\.max_tokens .*positive integer, got -1/],
  ];
  for (const [options, pattern] of bad) {
    assert.throws(
      () => backend.promptWithContext({ prePrompt: "p", context: "c", options: options as never }),
      (error: Error) => error instanceof TypeError && pattern.test(error.message),
    );
  }
  assert.throws(
    () => backend.describeImage({ image: PNG, prompt: "p", options: { n: 2 } }),
    /options of describeImage\(\) must not set "n"/,
  );
  assert.equal(peer.requests.length, 0);
});
