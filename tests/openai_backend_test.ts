import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  APIError,
  AuthenticationError,
  ContextLengthError,
  createAI,
  imagePartFromBytes,
  ImproperlyConfigured,
  InvalidImageError,
  MissingAPIKeyError,
  type OpenAIBackend,
  RateLimitError,
} from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const GIF = new TextEncoder().encode("GIF89a....");
const WEBP = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50, 1, 2]);

function backendFor(peer: Peer | undefined, config: Record<string, unknown> = {}): OpenAIBackend {
  return createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: "sk-test-secret-123",
          ...(peer ? { API_BASE: peer.url } : {}),
          MAX_RETRIES: 0,
          ...config,
        },
      },
    },
  }).getAIBackend("default") as OpenAIBackend;
}

Deno.test("OpenAIBackend config: defaults and camelCase keys", () => {
  const backend = backendFor(undefined);
  assert.equal(backend.config.modelId, "gpt-4o-mini");
  assert.equal(backend.config.tokenLimit, 128_000);
  assert.equal(backend.config.timeoutSeconds, 15);
  assert.equal(backend.config.apiBase, "https://api.openai.com/v1");
  assert.equal(backend.config.maxRetries, 0);
  assert.equal(backend.config.maxImageBytes, 20 * 1024 * 1024);
  assert.equal(backend.config.openaiApiKey, "sk-test-secret-123");
});

Deno.test("OpenAIBackend config: bad values name the key and alias", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ TIMEOUT_SECONDS: 0 }, /TIMEOUT_SECONDS in CONFIG of backend "default"/],
    [{ TIMEOUT_SECONDS: "15" }, /TIMEOUT_SECONDS/],
    [{ API_BASE: "ftp://x" }, /API_BASE in CONFIG of backend "default" must be an http\(s\) URL/],
    [{ API_BASE: "not a url" }, /API_BASE/],
    [{ OPENAI_API_KEY: 12 }, /OPENAI_API_KEY in CONFIG of backend "default" must be a string/],
    [{ MAX_RETRIES: -1 }, /MAX_RETRIES/],
    [{ MAX_OUTPUT_TOKENS: 0 }, /MAX_OUTPUT_TOKENS/],
    [{ MODEL_ID: "gpt-99" }, /"gpt-99".*TOKEN_LIMIT/],
  ];
  for (const [config, pattern] of bad) {
    assert.throws(() => backendFor(undefined, config), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("sk-test-secret-123"));
      return true;
    });
  }
});

Deno.test("OpenAIBackend.promptWithContext() sends system, user and system text parts", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const text = await backend.promptWithContext({
    prePrompt: "Fix:",
    context: "teh cat",
    postPrompt: "Be brief.",
  }).text();
  assert.equal(text, "Echo: teh cat");
  const request = peer.lastRequest();
  assert.equal(request.path, "/v1/chat/completions");
  assert.equal(request.headers.authorization, "Bearer sk-test-secret-123");
  assert.equal(request.body.model, "gpt-4o-mini");
  assert.deepEqual(request.body.messages, [
    { role: "system", content: [{ type: "text", text: "Fix:" }] },
    { role: "user", content: [{ type: "text", text: "teh cat" }] },
    { role: "system", content: [{ type: "text", text: "Be brief." }] },
  ]);
  assert.notEqual(request.body.stream, true);
});

Deno.test("OpenAIBackend.promptWithContext() without a post prompt sends two messages", async () => {
  await using peer = await startPeer();
  await backendFor(peer).promptWithContext({ prePrompt: "Fix:", context: "x" }).text();
  assert.equal(peer.lastRequest().body.messages.length, 2);
});

Deno.test("OpenAIBackend streams chunks in order and text() after iteration sends no second request", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["One", " two", " three"] });
  const response = backendFor(peer).promptWithContext({ prePrompt: "p", context: "c" });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.deepEqual(chunks, ["One", " two", " three"]);
  assert.equal(await response.text(), "One two three");
  assert.equal(peer.requests.length, 1);
  assert.equal(peer.lastRequest().body.stream, true);
  const usage = await response.usage();
  assert.ok(usage && usage.outputTokens >= 0);
});

Deno.test("OpenAIBackend.usage() reports the server's token counts", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    json: {
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 },
    },
  });
  const response = backendFor(peer).promptWithContext({ prePrompt: "p", context: "c" });
  assert.deepEqual(await response.usage(), {
    inputTokens: 11,
    outputTokens: 2,
    totalTokens: 13,
    alias: "default",
    provider: "openai",
    model: "gpt-4o-mini",
    backend: "default",
    fallbackFrom: [],
  });
  assert.equal(await response.text(), "ok");
});

Deno.test("OpenAIBackend uses a custom API_BASE path", async () => {
  await using peer = await startPeer();
  const backend = backendFor(undefined, { API_BASE: `${peer.origin}/proxy/openai/v1/` });
  await backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(peer.lastRequest().path, "/proxy/openai/v1/chat/completions");
});

Deno.test("OpenAIBackend caps max_tokens at the model's maximum output", async () => {
  await using peer = await startPeer();
  await backendFor(peer).promptWithContext({ prePrompt: "p", context: "c" }).text();
  assert.equal(peer.lastRequest().body.max_tokens, 16_384);
});

Deno.test("OpenAIBackend caps max_tokens at what the window leaves and at MAX_OUTPUT_TOKENS", async () => {
  await using peer = await startPeer();
  await backendFor(peer, { MODEL_ID: "gpt-4", TOKEN_LIMIT: 100 }).promptWithContext({
    prePrompt: "Fix:",
    context: "hello world",
  }).text();
  const small = peer.lastRequest().body.max_tokens;
  assert.ok(small > 50 && small < 100, String(small));
  await backendFor(peer, { MAX_OUTPUT_TOKENS: 50 }).promptWithContext({
    prePrompt: "p",
    context: "c",
  }).text();
  assert.equal(peer.lastRequest().body.max_tokens, 50);
});

Deno.test("OpenAIBackend uses max_completion_tokens for o-series and gpt-5 models", async () => {
  await using peer = await startPeer();
  await backendFor(peer, { MODEL_ID: "o4-mini" }).promptWithContext({
    prePrompt: "p",
    context: "c",
  }).text();
  assert.equal(peer.lastRequest().body.max_completion_tokens, 100_000);
  assert.equal(peer.lastRequest().body.max_tokens, undefined);
});

Deno.test("OpenAIBackend refuses a prompt over the window before any request, saying by how much", async () => {
  await using peer = await startPeer();
  const response = backendFor(peer, { MODEL_ID: "gpt-4", TOKEN_LIMIT: 20 })
    .promptWithContext({ prePrompt: "Fix:", context: "word ".repeat(50) });
  await assert.rejects(response.text(), (error: Error) => {
    assert.ok(error instanceof ContextLengthError);
    assert.match(
      error.message,
      /over the context window of model "gpt-4" \(20 tokens\) by \d+ tokens/,
    );
    return true;
  });
  assert.equal(peer.requests.length, 0);
});

Deno.test("OpenAIBackend.describeImage() sends the prompt and a data URL in one user message", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const text = await backend.describeImage({
    image: new File([PNG], "photo.jpg"),
    prompt: "Alt text",
  }).text();
  assert.equal(text, `Echo: Alt text [image image/png ${PNG.length} bytes]`);
  const [message] = peer.lastRequest().body.messages;
  assert.equal(message.role, "user");
  assert.deepEqual(message.content[0], { type: "text", text: "Alt text" });
  assert.equal(message.content[1].type, "image_url");
  assert.match(message.content[1].image_url.url, /^data:image\/png;base64,/);
});

Deno.test("OpenAIBackend.describeImage() sends the same data URL as imagePartFromBytes()", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const bytes = new Uint8Array(100_001);
  bytes.set(JPEG);
  for (let i = JPEG.length; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  const image = new File([bytes], "photo.png");
  await backend.describeImage({ image, prompt: "d" }).text();
  const sent = peer.lastRequest().body.messages[0].content[1];
  assert.deepEqual(sent, await imagePartFromBytes(image));
  assert.equal(
    sent.image_url.url,
    `data:image/jpeg;base64,${Buffer.from(bytes).toString("base64")}`,
  );
});

Deno.test("OpenAIBackend.describeImage() takes the type from the bytes, never from the name", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  const cases: [Uint8Array | Blob, string | undefined, string][] = [
    [JPEG, "x.png", "image/jpeg"],
    [GIF, undefined, "image/gif"],
    [WEBP, undefined, "image/webp"],
    [PNG, "pic.webp", "image/png"],
    [WEBP, "pic.png", "image/webp"],
    [JPEG, undefined, "image/jpeg"],
    [new Blob([GIF]), "noext", "image/gif"],
  ];
  for (const [image, fileName, mime] of cases) {
    const options = fileName === undefined
      ? { image, prompt: "d" }
      : { image, prompt: "d", fileName };
    await backend.describeImage(options).text();
    const url: string = peer.lastRequest().body.messages[0].content[1].image_url.url;
    assert.ok(url.startsWith(`data:${mime};base64,`), `${fileName}: ${url.slice(0, 30)}`);
  }
});

Deno.test("OpenAIBackend.describeImage() refuses empty prompts, empty, oversize and unsupported images before any request", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer, { MAX_IMAGE_BYTES: 100 });
  assert.throws(
    () => backend.describeImage({ image: PNG, prompt: "" }),
    /prompt must be a non-empty string/,
  );
  assert.throws(() => backend.describeImage({ image: PNG, prompt: "   " }), TypeError);
  assert.throws(
    () => backend.describeImage({ image: new Uint8Array(), prompt: "d" }),
    InvalidImageError,
  );
  assert.throws(
    () => backend.describeImage({ image: new Uint8Array(101), prompt: "d" }),
    /101 bytes, over the limit of 100 bytes/,
  );
  assert.throws(
    () => backend.describeImage({ image: new Blob([new Uint8Array(101)]), prompt: "d" }),
    InvalidImageError,
  );
  assert.throws(
    () => backend.describeImage({ image: new TextEncoder().encode("%PDF-1.4"), prompt: "d" }),
    /bytes are a PDF document \(application\/pdf\)/,
  );
  assert.throws(
    () =>
      backend.describeImage({
        image: new Uint8Array([0x42, 0x4d, 1, 2]),
        prompt: "d",
        fileName: "a.bmp",
      }),
    /image\/bmp/,
  );
  const blob = new File([new Uint8Array([0x49, 0x49, 0x2a, 0x00])], "scan.tiff");
  await assert.rejects(
    backend.describeImage({ image: blob, prompt: "d" }).text(),
    /"scan\.tiff" is not a PNG, JPEG, GIF or WebP image: its bytes are a TIFF image \(image\/tiff\)/,
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("OpenAIBackend.getOpenAIApiKey(): CONFIG beats the environment", () => {
  const previous = Deno.env.get("OPENAI_API_KEY");
  Deno.env.set("OPENAI_API_KEY", "sk-from-env");
  try {
    assert.equal(backendFor(undefined).getOpenAIApiKey(), "sk-test-secret-123");
    assert.equal(
      backendFor(undefined, { OPENAI_API_KEY: undefined }).getOpenAIApiKey(),
      "sk-from-env",
    );
  } finally {
    if (previous === undefined) Deno.env.delete("OPENAI_API_KEY");
    else Deno.env.set("OPENAI_API_KEY", previous);
  }
});

Deno.test("OpenAIBackend without a key throws MissingAPIKeyError naming both places, at the call", () => {
  const previous = Deno.env.get("OPENAI_API_KEY");
  Deno.env.delete("OPENAI_API_KEY");
  try {
    const backend = backendFor(undefined, { OPENAI_API_KEY: undefined });
    assert.throws(
      () => backend.promptWithContext({ prePrompt: "p", context: "c" }),
      (error: Error) => {
        assert.ok(error instanceof MissingAPIKeyError);
        assert.match(error.message, /OPENAI_API_KEY in CONFIG of backend "default"/);
        assert.match(error.message, /OPENAI_API_KEY environment variable/);
        return true;
      },
    );
  } finally {
    if (previous !== undefined) Deno.env.set("OPENAI_API_KEY", previous);
  }
});

Deno.test("OpenAIBackend: abort stops a streaming response", async () => {
  await using peer = await startPeer();
  // The second chunk would come in an hour: only the abort can end this stream (a chunk
  // timeout would end it with a TimeoutError, not an AbortError).
  peer.enqueue({ stream: ["a", " b", " c", " d", " e"], chunkDelayMs: 3_600_000 });
  const controller = new AbortController();
  const response = backendFor(peer).promptWithContext({
    prePrompt: "p",
    context: "c",
    signal: controller.signal,
  });
  const chunks: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of response) {
      chunks.push(chunk);
      controller.abort();
    }
  }, (error: Error) => error.name === "AbortError");
  assert.deepEqual(chunks, ["a"]);
  assert.equal(peer.requests.length, 1);
  // The same abort is what text() reports afterwards: nothing else arrived or was sent.
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
  assert.equal(peer.requests.length, 1);
});

Deno.test("OpenAIBackend: non-2xx answers become typed errors with status", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  peer.enqueue({
    status: 401,
    error: {
      message: "Incorrect API key provided: sk-test-secret-123",
      type: "invalid_request_error",
      code: "invalid_api_key",
    },
  });
  await assert.rejects(
    backend.promptWithContext({ prePrompt: "p", context: "c" }).text(),
    (error: Error) => {
      assert.ok(error instanceof AuthenticationError);
      assert.equal(error.status, 401);
      assert.equal(error.backend, "default");
      assert.ok(!error.message.includes("sk-test-secret-123"), error.message);
      return true;
    },
  );
  peer.enqueue({ status: 429, error: "slow down" });
  await assert.rejects(
    backend.promptWithContext({ prePrompt: "p", context: "c" }).text(),
    (error: Error) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.retryable, true);
      return true;
    },
  );
  peer.enqueue({ status: 500, error: "boom" });
  await assert.rejects(
    backend.promptWithContext({ prePrompt: "p", context: "c" }).text(),
    (error: Error) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 500);
      return true;
    },
  );
});

Deno.test("OpenAIBackend retries per MAX_RETRIES", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 503, error: "busy", headers: { "retry-after-ms": "5" } }, {
    status: 500,
    error: "busy",
    headers: { "retry-after-ms": "5" },
  });
  const text = await backendFor(peer, { MAX_RETRIES: 2 }).promptWithContext({
    prePrompt: "p",
    context: "ok",
  }).text();
  assert.equal(text, "Echo: ok");
  assert.equal(peer.requests.length, 3);
});

Deno.test("OpenAIBackend.describeImage() takes a name ending in a prototype key as no extension", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  for (const fileName of ["photo.constructor", "photo.CONSTRUCTOR"]) {
    await backend.describeImage({ image: JPEG, prompt: "d", fileName }).text();
    const url: string = peer.lastRequest().body.messages[0].content[1].image_url.url;
    assert.ok(url.startsWith("data:image/jpeg;base64,"), `${fileName}: ${url.slice(0, 30)}`);
    assert.throws(
      () => backend.describeImage({ image: new Uint8Array([1, 2, 3]), prompt: "d", fileName }),
      new RegExp(`"${fileName.replace(".", "\\.")}" is not a PNG.*bytes are unknown bytes\\)?$`),
    );
  }
});

Deno.test("OpenAIBackend: an already aborted signal rejects with its reason before any work", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer, { TOKEN_LIMIT: 20 });
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

Deno.test("OpenAIBackend.describeImage() works with the seed's vision settings (TOKEN_LIMIT 300)", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer, { MODEL_ID: "gpt-4-vision-preview", TOKEN_LIMIT: 300 });
  const text = await backend.describeImage({ image: PNG, prompt: "Describe this image" }).text();
  assert.equal(text, `Echo: Describe this image [image image/png ${PNG.length} bytes]`);
  const maxTokens = peer.lastRequest().body.max_tokens;
  assert.ok(maxTokens > 0 && maxTokens < 300, String(maxTokens));
});

// Per-call options that must throw at the call, and what the message names.
function badCallOptions(): [unknown, RegExp][] {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  return [
    [[], /options of \w+\(\) must be an object, got an array/],
    ["temperature", /options of \w+\(\) must be an object, got a string/],
    [null, /options of \w+\(\) must be an object, got null/],
    [new Map(), /must be an object, got a Map/],
    [{ messages: [] }, /must not set "messages"/],
    [{ model: "gpt-4o" }, /must not set "model"/],
    [{ stream: true }, /must not set "stream"/],
    [{ stream_options: {} }, /must not set "stream_options"/],
    [{ n: 2 }, /must not set "n"/],
    [{ signal: new AbortController().signal }, /must not set "signal"/],
    [{ f: () => 1 }, /options\.f of \w+\(\) must be JSON data, got a function/],
    [{ big: 1n }, /options\.big of \w+\(\) must be JSON data, got a bigint/],
    [{ t: NaN }, /options\.t of \w+\(\) must be JSON data, got NaN/],
    [{ deep: { list: [1, () => 2] } }, /options\.deep\.list\.1 of \w+\(\) must be JSON data/],
    [{ when: new Date(0) }, /options\.when of \w+\(\) must be JSON data, got a Date/],
    [cycle, /options\.self of \w+\(\) must be JSON data, got a circular reference/],
    [JSON.parse('{"__proto__": 1}'), /forbidden key "__proto__"/],
    [{ max_tokens: 0 }, /options\.max_tokens of \w+\(\) must be a positive integer, got 0/],
    [{ max_tokens: 1.5 }, /options\.max_tokens .*must be a positive integer, got 1\.5/],
    [{ max_completion_tokens: "9" }, /options\.max_completion_tokens .*positive integer/],
  ];
}

Deno.test("OpenAIBackend sends per-call options over its own, a per-call cap within MAX_OUTPUT_TOKENS", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer, { MAX_OUTPUT_TOKENS: 50 });
  const options = { temperature: 0.1, seed: 3, response_format: { type: "json_object" } };
  await backend.promptWithContext({ prePrompt: "p", context: "c", options }).text();
  let body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.1);
  assert.equal(body.seed, 3);
  assert.deepEqual(body.response_format, { type: "json_object" });
  assert.equal(body.max_tokens, 50, "MAX_OUTPUT_TOKENS without a per-call cap");
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 20 } })
    .text();
  assert.equal(peer.lastRequest().body.max_tokens, 20);
  // MAX_OUTPUT_TOKENS is the operator's ceiling: a per-call cap cannot go over it.
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 200 } })
    .text();
  assert.equal(peer.lastRequest().body.max_tokens, 50);
  // Both keys: the smaller; never more than the model's maximum output.
  await backendFor(peer).promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { max_tokens: 300, max_completion_tokens: 120 },
  }).text();
  body = peer.lastRequest().body;
  assert.equal(body.max_tokens, 120);
  assert.equal(body.max_completion_tokens, undefined);
  await backendFor(peer).promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { max_tokens: 10_000_000 },
  }).text();
  assert.equal(peer.lastRequest().body.max_tokens, 16_384);
  // describeImage takes them too.
  await backend.describeImage({ image: PNG, prompt: "Alt text", options: { temperature: 0 } })
    .text();
  assert.equal(peer.lastRequest().body.temperature, 0);
  assert.equal(peer.lastRequest().body.max_tokens, 50);
});

Deno.test("OpenAIBackend caps a per-call max_tokens at what the window leaves, under the model's key", async () => {
  await using peer = await startPeer();
  await backendFor(peer, { MODEL_ID: "gpt-4", TOKEN_LIMIT: 100 }).promptWithContext({
    prePrompt: "Fix:",
    context: "hello world",
    options: { max_tokens: 5000 },
  }).text();
  const small = peer.lastRequest().body.max_tokens;
  assert.ok(small > 50 && small < 100, String(small));
  await backendFor(peer, { MODEL_ID: "o4-mini" }).promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { max_tokens: 77 },
  }).text();
  assert.equal(peer.lastRequest().body.max_completion_tokens, 77);
  assert.equal(peer.lastRequest().body.max_tokens, undefined);
});

Deno.test("OpenAIBackend without per-call options sends the same request as with none", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  await backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
  const without = peer.lastRequest().body;
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: {} }).text();
  assert.deepEqual(peer.lastRequest().body, without);
  await backend.promptWithContext({ prePrompt: "p", context: "c", options: { seed: undefined } })
    .text();
  assert.deepEqual(peer.lastRequest().body, without);
  assert.deepEqual(Object.keys(without).sort(), ["max_tokens", "messages", "model", "stream"]);
});

Deno.test("OpenAIBackend fixes per-call options when the response is made", async () => {
  await using peer = await startPeer();
  const options: Record<string, unknown> = { temperature: 0.5, stop: ["END"] };
  const response = backendFor(peer).promptWithContext({ prePrompt: "p", context: "c", options });
  options.temperature = 1.5;
  (options.stop as string[]).push("MORE");
  options.n = 3;
  await response.text();
  await response.text();
  assert.equal(peer.requests.length, 1);
  const body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.5);
  assert.deepEqual(body.stop, ["END"]);
  assert.equal(body.n, undefined);
});

Deno.test("OpenAIBackend refuses bad per-call options at the call, naming the key", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer);
  for (const [options, pattern] of badCallOptions()) {
    const calls = [
      () => backend.promptWithContext({ prePrompt: "p", context: "c", options: options as never }),
      () => backend.describeImage({ image: PNG, prompt: "p", options: options as never }),
    ];
    for (const call of calls) {
      assert.throws(call, (error: Error) => {
        assert.ok(error instanceof TypeError, `${error.name}: ${error.message}`);
        assert.match(error.message, pattern);
        return true;
      });
    }
  }
  assert.throws(
    () => backend.describeImage({ image: PNG, prompt: "p", options: { model: "x" } }),
    /options of describeImage\(\) must not set "model"/,
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("per-call options: null leaves the configured value; deep or huge data is refused at the call", async () => {
  await using peer = await startPeer();
  const backend = backendFor(peer, { MAX_OUTPUT_TOKENS: 50 });
  await backend.promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { max_tokens: null, temperature: null } as never,
  }).text();
  const body = peer.lastRequest().body;
  assert.equal(body.max_tokens, 50);
  assert.equal("temperature" in body, false);
  const requests = peer.requests.length;
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 100; i++) deep = (deep.next = {}) as Record<string, unknown>;
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "p", context: "c", options: { tree: root } }),
    (error: Error) =>
      error instanceof TypeError && /nested more than 64 levels/.test(error.message),
  );
  // One object reused at every level: refused, not copied 2^30 times.
  let shared: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 30; i++) shared = { a: shared, b: shared };
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "p", context: "c", options: { shared } }),
    (error: Error) => error instanceof TypeError && /too large/.test(error.message),
  );
  assert.equal(peer.requests.length, requests);
});
