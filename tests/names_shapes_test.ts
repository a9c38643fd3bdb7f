// One name and one shape for the same thing across backends and providers: a service on its own
// API_BASE is named by its host in errors, completion() usage has our camelCase shape, and an
// unknown feature points to the alias methods.
import assert from "node:assert/strict";
import {
  type BackendFeature,
  ConnectionError,
  createAI,
  createProvider,
  RateLimitError,
} from "../mod.ts";
import { startPeer } from "./_peer.ts";

Deno.test("the OpenAI and provider backends name the host of a local API_BASE in errors, not openai", async () => {
  await using peer = await startPeer();
  const host = new URL(peer.url).host;
  const ai = createAI({
    PROVIDERS: {
      local: {
        provider: "openai",
        model: "gpt-4o",
        api_key: "k",
        api_base: peer.url,
        max_retries: 0,
      },
    },
    BACKENDS: {
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "k", API_BASE: peer.url, MAX_RETRIES: 0 },
      },
      provider: { CLASS: "provider", CONFIG: { PROVIDER: "local" } },
    },
  });
  for (const alias of ["openai", "provider"]) {
    for (const read of ["text", "stream"] as const) {
      peer.enqueue({ status: 429, error: "Slow down" });
      const response = ai.getAIBackend(alias).promptWithContext({ prePrompt: "p", context: "c" });
      const reading = read === "text" ? response.text() : Array.fromAsync(response);
      await assert.rejects(reading, (error: Error) => {
        assert.ok(error instanceof RateLimitError, String(error));
        assert.ok(error.message.startsWith(`${host} is rate limiting (HTTP 429)`), error.message);
        assert.doesNotMatch(error.message, /\bopenai\b/);
        return true;
      }, `${alias} ${read}`);
    }
  }
  // The provider itself, and a connection error.
  peer.enqueue({ status: 429, error: "Slow down" });
  await assert.rejects(
    ai.getProvider("local").completion({ messages: [{ role: "user", content: "hi" }] }),
    (error: Error) => error.message.startsWith(`${host} is rate limiting`),
  );
  const gone = createProvider({
    provider: "openai",
    model: "gpt-4o",
    api_key: "k",
    api_base: "http://127.0.0.1:9/v1",
    max_retries: 0,
  });
  await assert.rejects(
    gone.completion({ messages: [{ role: "user", content: "hi" }] }),
    (error: Error) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(
        error.message,
        /^Cannot connect to 127\.0\.0\.1:9 at http:\/\/127\.0\.0\.1:9\/v1/,
      );
      return true;
    },
  );
});

Deno.test("a provider at its own default URL is named by its name in errors", async () => {
  // lmstudio's default is http://localhost:1234/v1; nothing listens on a port the OS gave up.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { openAICompatibleFactory, registerProvider } = await import("../mod.ts");
  const baseURL = `http://127.0.0.1:${port}/v1`;
  registerProvider("names-test-local", openAICompatibleFactory({ baseURL, keyEnv: [] }), {
    description: "a local server for this test",
    baseURL,
    keyEnv: [],
  });
  const provider = createProvider({ provider: "names-test-local", model: "m", max_retries: 0 });
  await assert.rejects(
    provider.completion({ messages: [{ role: "user", content: "hi" }] }),
    (error: Error) => error.message.startsWith("Cannot connect to names-test-local at "),
  );
});

Deno.test("provider.completion() gives usage in our shape, with the service's usage under raw", async () => {
  await using peer = await startPeer();
  const provider = createProvider({ provider: "ollama", model: "llama3:8b", api_base: peer.url });
  const answer = await provider.completion({
    messages: [{ role: "user", content: "Hello there" }],
  });
  assert.deepEqual(answer.usage, {
    inputTokens: 2,
    outputTokens: 3,
    totalTokens: 5,
    raw: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
  });
  // The same shape as a stream's usage event (raw aside).
  const events = await Array.fromAsync(
    provider.stream({ messages: [{ role: "user", content: "Hello there" }] }),
  );
  const last = events.at(-1)!;
  assert.ok(last.type === "usage");
  const { raw: _raw, ...counts } = answer.usage!;
  assert.deepEqual(Object.keys(last.usage).sort(), Object.keys(counts).sort());
});

Deno.test("AIResponse.usage() of a completion read whole has our shape, without raw", async () => {
  await using peer = await startPeer();
  const ai = createAI({
    PROVIDERS: { default: { provider: "ollama", model: "llama3:8b", api_base: peer.url } },
    BACKENDS: {
      default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 1000 } },
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "k", API_BASE: peer.url },
      },
    },
  });
  for (const alias of ["default", "openai"]) {
    const response = ai.getAIBackend(alias).promptWithContext({ prePrompt: "p", context: "c" });
    await response.text();
    const usage = await response.usage();
    assert.ok(usage !== undefined, alias);
    // The counts and who answered (issue 17's usage()); never raw, never the wire's names.
    assert.deepEqual(Object.keys(usage).sort(), [
      "alias",
      "backend",
      "fallbackFrom",
      "inputTokens",
      "model",
      "outputTokens",
      "provider",
      "totalTokens",
    ]);
  }
});

Deno.test("getBackend() and getProviderFor() of an unknown feature point to the alias methods", () => {
  const ai = createAI({
    BACKENDS: { vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
    PROVIDERS: { vision: { provider: "ollama", model: "llava" } },
  });
  assert.throws(
    () => ai.getBackend("vision" as BackendFeature),
    (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.equal(
        error.message,
        'Unknown feature "vision" (features: TEXT_COMPLETION, IMAGE_DESCRIPTION): use getAIBackend(alias) for an alias',
      );
      return true;
    },
  );
  assert.throws(
    () => ai.getProviderFor("vision" as BackendFeature),
    /^TypeError: Unknown feature "vision" .*use getProvider\(alias\) for an alias$/,
  );
});
