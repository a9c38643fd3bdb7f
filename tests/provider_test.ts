// The provider registry and the OpenAI-compatible providers, through the test peer.
import assert from "node:assert/strict";
import {
  APIError,
  type BasicProvider,
  type ChatCompletion,
  createProvider,
  getProviderInfo,
  ImproperlyConfigured,
  listProviders,
  MissingAPIKeyError,
  type OpenAICompatibleProvider,
  parseProviderModel,
  type ProviderStreamEvent,
  RateLimitError,
  registerProvider,
  resolveProviderSettings,
  StreamInterruptedError,
  unregisterProvider,
} from "../mod.ts";
import { startPeer } from "./_peer.ts";

const NO_ENV = (_name: string): string | undefined => undefined;

function envOf(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

// The table the issue and the vendors' docs give: [name, base URL, key variables, key needed].
const EXPECTED: [string, string | undefined, string[], boolean][] = [
  ["openai", "https://api.openai.com/v1", ["OPENAI_API_KEY"], true],
  ["azure", undefined, ["AZURE_OPENAI_API_KEY"], true],
  ["anthropic", "https://api.anthropic.com", ["ANTHROPIC_API_KEY"], true],
  ["anthropic_openai", "https://api.anthropic.com/v1", ["ANTHROPIC_API_KEY"], true],
  [
    "gemini",
    "https://generativelanguage.googleapis.com/v1beta/openai",
    ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    true,
  ],
  ["mistral", "https://api.mistral.ai/v1", ["MISTRAL_API_KEY"], true],
  ["groq", "https://api.groq.com/openai/v1", ["GROQ_API_KEY"], true],
  ["deepseek", "https://api.deepseek.com", ["DEEPSEEK_API_KEY"], true],
  ["openrouter", "https://openrouter.ai/api/v1", ["OPENROUTER_API_KEY"], true],
  ["together", "https://api.together.xyz/v1", ["TOGETHER_API_KEY"], true],
  ["fireworks", "https://api.fireworks.ai/inference/v1", ["FIREWORKS_API_KEY"], true],
  ["xai", "https://api.x.ai/v1", ["XAI_API_KEY"], true],
  ["perplexity", "https://api.perplexity.ai", ["PERPLEXITY_API_KEY"], true],
  ["cerebras", "https://api.cerebras.ai/v1", ["CEREBRAS_API_KEY"], true],
  ["ollama", "http://localhost:11434/v1", [], false],
  ["lmstudio", "http://localhost:1234/v1", ["LM_STUDIO_API_KEY"], false],
  ["llamacpp", "http://localhost:8080/v1", [], false],
  ["vllm", "http://localhost:8000/v1", ["VLLM_API_KEY"], false],
  ["openai_compatible", undefined, [], false],
];

function completionText(completion: ChatCompletion): string {
  return completion.choices[0].message.content;
}

async function collect(stream: AsyncIterable<ProviderStreamEvent>): Promise<ProviderStreamEvent[]> {
  const events: ProviderStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

Deno.test("listProviders() has every built-in provider with its base URL and key variables", () => {
  const infos = new Map(listProviders().map((info) => [info.name, info]));
  for (const [name, baseURL, keyEnv, requiresKey] of EXPECTED) {
    const info = infos.get(name);
    assert.ok(info, `missing provider ${name}`);
    assert.equal(info.baseURL, baseURL, name);
    assert.deepEqual(info.keyEnv, keyEnv, name);
    assert.equal(info.requiresKey, requiresKey, name);
    assert.equal(info.builtin, true);
    assert.equal(getProviderInfo(name), info);
  }
});

Deno.test("createProvider() resolves each built-in provider's default base URL and key variable", () => {
  for (const [name, baseURL, keyEnv] of EXPECTED) {
    if (baseURL === undefined) continue; // azure and openai_compatible need an endpoint
    // anthropic is the native provider (its config has the same fields): tests/anthropic_test.ts.
    const env = keyEnv.length ? { [keyEnv[0]]: `key-${name}` } : {};
    const provider = createProvider(
      { provider: name, model: "some-model" },
      { env: envOf(env) },
    ) as OpenAICompatibleProvider;
    assert.equal(provider.provider, name);
    assert.equal(provider.model, "some-model");
    assert.equal(provider.config.baseURL, baseURL.replace(/\/$/, ""), name);
    assert.deepEqual(provider.config.keyEnv, keyEnv, name);
    if (keyEnv.length) {
      assert.equal(provider.config.apiKey, `key-${name}`);
      assert.equal(provider.config.keySource, `env:${keyEnv[0]}`);
    } else {
      assert.equal(provider.config.apiKey, undefined);
    }
    assert.equal(provider.config.timeoutSeconds, 120);
    assert.equal(provider.config.maxRetries, 2);
  }
});

Deno.test("every built-in provider sends its key variable as a Bearer token to api_base", async () => {
  await using peer = await startPeer();
  for (const [name, , keyEnv] of EXPECTED) {
    if (name === "azure") continue; // tested below (api-key header)
    if (name === "anthropic") continue; // native Messages API: tests/anthropic_test.ts
    const env = keyEnv.length ? { [keyEnv[0]]: `key-${name}-123` } : {};
    const provider = createProvider(
      { provider: name, model: `model-of-${name}`, api_base: peer.url, max_retries: 0 },
      { env: envOf(env), alias: name },
    );
    const answer = await provider.completion({ messages: [{ role: "user", content: "hi" }] });
    assert.equal(completionText(answer), "Echo: hi");
    const request = peer.lastRequest();
    assert.equal(request.path, "/v1/chat/completions", name);
    assert.equal(request.body.model, `model-of-${name}`);
    if (keyEnv.length) {
      assert.equal(request.headers.authorization, `Bearer key-${name}-123`, name);
    } else {
      assert.equal(request.headers.authorization, undefined, name);
    }
  }
});

Deno.test("gemini also reads GOOGLE_API_KEY, and GEMINI_API_KEY wins", () => {
  const google = createProvider("gemini:gemini-2.5-flash", {
    env: envOf({ GOOGLE_API_KEY: "g-key" }),
  }) as OpenAICompatibleProvider;
  assert.equal(google.config.keySource, "env:GOOGLE_API_KEY");
  const both = createProvider("gemini:gemini-2.5-flash", {
    env: envOf({ GOOGLE_API_KEY: "g-key", GEMINI_API_KEY: "gem-key" }),
  }) as OpenAICompatibleProvider;
  assert.equal(both.config.apiKey, "gem-key");
});

Deno.test("api_key beats the environment; api_key_env names another variable", () => {
  const explicit = createProvider(
    { provider: "openai", model: "gpt-4.1-mini", api_key: "sk-explicit" },
    { env: envOf({ OPENAI_API_KEY: "sk-env" }) },
  ) as OpenAICompatibleProvider;
  assert.equal(explicit.config.apiKey, "sk-explicit");
  assert.equal(explicit.config.keySource, "api_key");
  const named = createProvider(
    { provider: "openai", model: "gpt-4.1-mini", api_key_env: "MY_PROXY_KEY" },
    { env: envOf({ OPENAI_API_KEY: "sk-env", MY_PROXY_KEY: "proxy-key" }) },
  ) as OpenAICompatibleProvider;
  assert.equal(named.config.apiKey, "proxy-key");
  assert.deepEqual(named.config.keyEnv, ["MY_PROXY_KEY"]);
});

Deno.test("createProvider() reads the real environment through the guarded helper", () => {
  const name = `CMS_AI_PROVIDER_TEST_KEY_${crypto.randomUUID().replaceAll("-", "")}`;
  Deno.env.set(name, "from-the-environment");
  try {
    const provider = createProvider({
      provider: "openai_compatible",
      model: "m",
      api_base: "http://127.0.0.1:9/v1",
      api_key_env: name,
    }) as OpenAICompatibleProvider;
    assert.equal(provider.config.apiKey, "from-the-environment");
  } finally {
    Deno.env.delete(name);
  }
});

Deno.test("a missing key is MissingAPIKeyError naming the environment variable and the alias", () => {
  for (const [name, baseURL, keyEnv, requiresKey] of EXPECTED) {
    if (!requiresKey) continue;
    const settings = baseURL === undefined
      ? { provider: name, model: "m", endpoint: "https://r.openai.azure.com" }
      : { provider: name, model: "m" };
    assert.throws(
      () => createProvider(settings, { env: NO_ENV, alias: "text" }),
      (error: Error) => {
        assert.ok(error instanceof MissingAPIKeyError, name);
        assert.ok(error instanceof ImproperlyConfigured);
        for (const variable of keyEnv) assert.ok(error.message.includes(variable), error.message);
        assert.match(error.message, /PROVIDERS\["text"\]/);
        assert.match(error.message, /api_key/);
        return true;
      },
    );
  }
  assert.throws(
    () =>
      createProvider(
        { provider: "ollama", model: "m", api_key_env: "MISSING_ONE" },
        { env: NO_ENV },
      ),
    /MISSING_ONE/,
  );
});

Deno.test("local providers need no key and send no Authorization header", async () => {
  await using peer = await startPeer();
  for (const name of ["ollama", "lmstudio", "llamacpp", "vllm"]) {
    const provider = createProvider(
      { provider: name, model: "llama3:8b", api_base: peer.url },
      { env: NO_ENV },
    );
    await provider.completion({ messages: [{ role: "user", content: "x" }] });
    assert.equal(peer.lastRequest().headers.authorization, undefined);
  }
});

Deno.test("an unknown provider is ImproperlyConfigured listing the known names", () => {
  assert.throws(() => createProvider({ provider: "nope", model: "x" }), (error: Error) => {
    assert.ok(error instanceof ImproperlyConfigured);
    assert.match(error.message, /Unknown provider "nope" in PROVIDERS\["default"\]/);
    for (const [name] of EXPECTED) assert.ok(error.message.includes(name), name);
    return true;
  });
});

Deno.test("parseProviderModel() splits on the first colon", () => {
  assert.deepEqual(parseProviderModel("ollama:llama3:8b"), {
    provider: "ollama",
    model: "llama3:8b",
  });
  assert.deepEqual(parseProviderModel("openai:gpt-4.1-mini"), {
    provider: "openai",
    model: "gpt-4.1-mini",
  });
  for (const bad of ["gpt-4", ":model", "ollama:", ""]) {
    assert.throws(() => parseProviderModel(bad), ImproperlyConfigured, bad);
  }
  assert.throws(() => parseProviderModel(3 as never), /provider:model string is needed/);
});

Deno.test("provider:model strings are accepted as provider, as model, and as the whole setting", () => {
  const expected = { provider: "ollama", model: "llama3:8b" };
  assert.deepEqual(resolveProviderSettings({ provider: "ollama:llama3:8b" }, "a"), expected);
  assert.deepEqual(resolveProviderSettings({ model: "ollama:llama3:8b" }, "a"), expected);
  assert.deepEqual(resolveProviderSettings("ollama:llama3:8b", "a"), expected);
  assert.deepEqual(
    resolveProviderSettings({ provider: "ollama", model: "llama3:8b" }, "a"),
    expected,
  );
  const provider = createProvider("ollama:llama3:8b");
  assert.equal(provider.model, "llama3:8b");
});

Deno.test("resolveProviderSettings() rejects bad entries naming the alias and the key", () => {
  const bad: [unknown, RegExp][] = [
    ["nope", /not a provider:model string/],
    [null, /PROVIDERS\["x"\] must be an object/],
    [[], /PROVIDERS\["x"\] must be an object/],
    [{}, /PROVIDERS\["x"\] is missing provider/],
    [
      { model: "gpt-4" },
      /PROVIDERS\["x"\] is missing provider \(or give model as "provider:model"\)/,
    ],
    [{ provider: "openai" }, /PROVIDERS\["x"\] is missing model/],
    [{ provider: 3, model: "m" }, /provider in PROVIDERS\["x"\] must be a string/],
    [{ provider: "openai", model: " " }, /model in PROVIDERS\["x"\] must not be empty/],
    [{ provider: "ollama:a", model: "b" }, /give one/],
    [
      JSON.parse('{"__proto__": 1, "provider": "openai", "model": "m"}'),
      /forbidden key "__proto__"/,
    ],
  ];
  for (const [raw, pattern] of bad) {
    assert.throws(() => resolveProviderSettings(raw as never, "x"), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured, String(raw));
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("OpenAI-compatible settings are checked, naming the alias and the key", () => {
  const base = { provider: "ollama", model: "m" };
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ temperature: 1 }, /PROVIDERS\["p"\] has an unknown key "temperature"/],
    [{ api_key: 12 }, /api_key in PROVIDERS\["p"\] must be a string/],
    [{ api_base: "ftp://x" }, /api_base in PROVIDERS\["p"\] must be an http\(s\) URL/],
    [{ headers: { a: 1 } }, /headers\.a in PROVIDERS\["p"\] must be a string/],
    [{ headers: "x" }, /headers in PROVIDERS\["p"\] must be an object/],
    [{ timeout: 0 }, /timeout in PROVIDERS\["p"\] must be more than 0/],
    [{ timeout: "5" }, /timeout in PROVIDERS\["p"\]/],
    [{ timeout: 1e9 }, /timeout in PROVIDERS\["p"\]/],
    [{ max_retries: -1 }, /max_retries in PROVIDERS\["p"\]/],
    [{ max_retries: 1.5 }, /max_retries in PROVIDERS\["p"\]/],
    [{ organization: "" }, /organization in PROVIDERS\["p"\] must not be empty/],
    [{ api_version: false }, /api_version in PROVIDERS\["p"\]/],
  ];
  for (const [extra, pattern] of bad) {
    assert.throws(
      () => createProvider({ ...base, ...extra }, { alias: "p", env: NO_ENV }),
      (error: Error) => {
        assert.ok(error instanceof ImproperlyConfigured);
        assert.match(error.message, pattern);
        return true;
      },
    );
  }
  assert.throws(
    () => createProvider({ provider: "openai_compatible", model: "m" }, { alias: "p" }),
    /PROVIDERS\["p"\] \(provider "openai_compatible"\) needs api_base/,
  );
});

Deno.test("extra settings pass through: headers, organization, timeout, max_retries, api_version", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "openai",
    model: "gpt-4.1-mini",
    api_key: "sk-pass-through",
    api_base: peer.url,
    headers: { "X-Gateway-Key": "gw-secret-value" },
    organization: "org-123",
    timeout: 7.5,
    max_retries: 1,
    api_version: "2024-06-01",
  }) as OpenAICompatibleProvider;
  assert.equal(provider.config.timeoutSeconds, 7.5);
  assert.equal(provider.config.maxRetries, 1);
  await provider.completion({ messages: [{ role: "user", content: "hi" }] });
  const request = peer.lastRequest();
  assert.equal(request.headers["x-gateway-key"], "gw-secret-value");
  assert.equal(request.headers["openai-organization"], "org-123");
  assert.equal(request.query["api-version"], "2024-06-01");
  // max_retries: 1 means one retry after a failure.
  const quick = { "retry-after-ms": "1" };
  peer.enqueue({ status: 500, error: "boom", headers: quick }, {});
  const answer = await provider.completion({ messages: [{ role: "user", content: "again" }] });
  assert.equal(completionText(answer), "Echo: again");
  peer.enqueue(
    { status: 500, error: "boom", headers: quick },
    { status: 500, error: "boom", headers: quick },
  );
  await assert.rejects(
    provider.completion({ messages: [{ role: "user", content: "x" }] }),
    (error: Error) => error instanceof APIError && error.status === 500,
  );
});

Deno.test("azure sends to /openai/deployments/<deployment> with api-version and the api-key header", async () => {
  await using peer = await startPeer();
  const provider = createProvider(
    {
      provider: "azure",
      model: "gpt-4o-mini",
      endpoint: peer.origin,
      deployment: "my-deployment",
      api_version: "2024-10-21",
    },
    { env: envOf({ AZURE_OPENAI_API_KEY: "azure-key-123" }) },
  ) as OpenAICompatibleProvider;
  assert.equal(provider.config.baseURL, `${peer.origin}/openai/deployments/my-deployment`);
  const answer = await provider.completion({ messages: [{ role: "user", content: "hi azure" }] });
  assert.equal(completionText(answer), "Echo: hi azure");
  const request = peer.lastRequest();
  assert.equal(request.path, "/openai/deployments/my-deployment/chat/completions");
  assert.equal(request.query["api-version"], "2024-10-21");
  assert.equal(request.headers["api-key"], "azure-key-123");
  assert.equal(request.headers.authorization, undefined);
});

Deno.test("azure takes the endpoint from api_base or AZURE_OPENAI_ENDPOINT and the deployment from model", () => {
  const fromEnv = createProvider({ provider: "azure", model: "gpt-4o" }, {
    env: envOf({
      AZURE_OPENAI_API_KEY: "k-1234",
      AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com/",
      OPENAI_API_VERSION: "2025-01-01-preview",
    }),
  }) as OpenAICompatibleProvider;
  assert.equal(fromEnv.config.baseURL, "https://res.openai.azure.com/openai/deployments/gpt-4o");
  assert.equal(fromEnv.config.query?.["api-version"], "2025-01-01-preview");
  const fromBase = createProvider(
    {
      provider: "azure",
      model: "gpt-4o",
      api_base: "https://other.openai.azure.com",
      api_key: "k-1",
    },
    { env: NO_ENV },
  ) as OpenAICompatibleProvider;
  assert.equal(fromBase.config.baseURL, "https://other.openai.azure.com/openai/deployments/gpt-4o");
  assert.equal(fromBase.config.query?.["api-version"], "2024-10-21");
  const full = createProvider(
    {
      provider: "azure",
      model: "gpt-4o",
      endpoint: "https://x.openai.azure.com/openai/deployments/dep",
      api_key: "k-1",
    },
    { env: NO_ENV },
  ) as OpenAICompatibleProvider;
  assert.equal(full.config.baseURL, "https://x.openai.azure.com/openai/deployments/dep");
});

Deno.test("azure without an endpoint or with a bad deployment is ImproperlyConfigured", () => {
  assert.throws(
    () => createProvider({ provider: "azure", model: "gpt-4o", api_key: "k" }, { env: NO_ENV }),
    /needs endpoint .*AZURE_OPENAI_ENDPOINT/,
  );
  assert.throws(
    () =>
      createProvider(
        {
          provider: "azure",
          model: "gpt-4o",
          api_key: "k",
          endpoint: "https://x.openai.azure.com",
          deployment: "a/b",
        },
        { env: NO_ENV },
      ),
    /deployment in PROVIDERS\["default"\]/,
  );
  assert.throws(
    () =>
      createProvider(
        { provider: "azure", model: "m", api_key: "k", endpoint: "x", deployment: "d" },
        { env: NO_ENV },
      ),
    /endpoint in PROVIDERS\["default"\] must be an http\(s\) URL/,
  );
});

Deno.test("completion() returns the OpenAI chat-completion shape with usage", async () => {
  await using peer = await startPeer();
  const provider = createProvider({ provider: "ollama", model: "llama3:8b", api_base: peer.url });
  const answer = await provider.completion({
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hello" }, { type: "text", text: "there" }] },
    ],
    temperature: 0.2,
    max_tokens: 50,
  });
  assert.equal(answer.object, "chat.completion");
  assert.equal(answer.choices[0].message.role, "assistant");
  assert.equal(answer.choices[0].message.content, "Echo: Hello there");
  assert.equal(answer.choices[0].finish_reason, "stop");
  assert.ok(answer.usage && answer.usage.totalTokens > 0);
  assert.equal(answer.usage.totalTokens, answer.usage.raw?.total_tokens);
  const body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.2);
  assert.equal(body.max_tokens, 50);
  assert.notEqual(body.stream, true);
  assert.deepEqual(body.messages[0], { role: "system", content: "Be brief." });
});

Deno.test("completion() sends image_url parts and a per-request model", async () => {
  await using peer = await startPeer();
  const provider = createProvider({ provider: "ollama", model: "llava", api_base: peer.url });
  const answer = await provider.completion({
    model: "llava:13b",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "Describe" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    }],
  });
  assert.equal(answer.choices[0].message.content, "Echo: Describe [image image/png 8 bytes]");
  assert.equal(peer.lastRequest().body.model, "llava:13b");
});

Deno.test("stream() yields text events in order, then usage at the end", async () => {
  await using peer = await startPeer();
  const provider = createProvider({ provider: "ollama", model: "llama3:8b", api_base: peer.url });
  const events = await collect(
    provider.stream({ messages: [{ role: "user", content: "one two three" }] }),
  );
  const texts = events.filter((e) => e.type === "text").map((e) => e.type === "text" ? e.text : "");
  assert.equal(texts.join(""), "Echo: one two three");
  assert.ok(texts.length > 1);
  const last = events.at(-1)!;
  assert.equal(last.type, "usage");
  assert.ok(last.type === "usage" && last.usage.outputTokens === 4);
  assert.equal(peer.lastRequest().body.stream, true);
});

Deno.test("stream() abort and a cut stream give errors, never a short answer", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "ollama",
    model: "m",
    api_base: peer.url,
    max_retries: 0,
  });
  peer.enqueue({ stream: ["a ", "b ", "c"], cutAfter: 1 });
  await assert.rejects(
    collect(provider.stream({ messages: [{ role: "user", content: "x" }] })),
    StreamInterruptedError,
  );
  const controller = new AbortController();
  peer.enqueue({ stream: ["a ", "b ", "c"], chunkDelayMs: 5000 });
  const stream = provider.stream({
    messages: [{ role: "user", content: "x" }],
    signal: controller.signal,
  });
  await assert.rejects(
    (async () => {
      for await (const _event of stream) controller.abort();
    })(),
    (error: Error) => error.name === "AbortError",
  );
});

Deno.test("service errors are typed APIErrors with status and provider", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "mistral",
    model: "mistral-small-latest",
    api_key: "sk-do-not-leak-9876",
    api_base: peer.url,
    max_retries: 0,
  });
  peer.enqueue({ status: 429, error: "Too many requests for sk-do-not-leak-9876" });
  await assert.rejects(
    provider.completion({ messages: [{ role: "user", content: "x" }] }),
    (error: Error) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.status, 429);
      assert.equal(error.provider, "mistral");
      assert.ok(!error.message.includes("sk-do-not-leak-9876"));
      return true;
    },
  );
});

Deno.test("completion() rejects bad arguments and stream() throws them at the call", async () => {
  const provider = createProvider("ollama:m");
  const bad: [unknown, RegExp][] = [
    [undefined, /options object/],
    [{ messages: [] }, /non-empty array/],
    [{ messages: "hi" }, /non-empty array/],
    [{ messages: [null] }, /messages\[0\] must be an object/],
    [{ messages: [{ role: "tool", content: "x" }] }, /messages\[0\]\.role/],
    [
      { messages: [{ role: "user", content: 3 }] },
      /messages\[0\]\.content must be a string or an array/,
    ],
    [{ messages: [{ role: "user", content: [{ type: "audio" }] }] }, /content\[0\]\.type/],
    [{ messages: [{ role: "user", content: [{ type: "text" }] }] }, /content\[0\]\.text/],
    [
      { messages: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] },
      /image_url\.url/,
    ],
    [{ messages: [{ role: "user", content: "x" }], signal: "no" }, /signal/],
    [{ messages: [{ role: "user", content: "x" }], model: "" }, /model must be a non-empty string/],
    [{ messages: [{ role: "user", content: "x" }], stream: true }, /call stream\(\)/],
  ];
  for (const [options, pattern] of bad) {
    let answer: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      answer = provider.completion(options as never);
    });
    await assert.rejects(answer!, (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, pattern);
      return true;
    });
    assert.throws(() => provider.stream(options as never), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

Deno.test("completion() with bad arguments is a rejection that Promise.allSettled and .catch() see", async () => {
  const provider = createProvider("ollama:m");
  const results = await Promise.allSettled(
    [[], [{ role: "user", content: 3 }]].map((messages) =>
      provider.completion({ messages } as never)
    ),
  );
  assert.deepEqual(results.map((result) => result.status), ["rejected", "rejected"]);
  const caught = await provider.completion(undefined as never).catch((error: Error) => error);
  assert.ok(caught instanceof TypeError);
  assert.match(caught.message, /completion\(\) takes an options object with messages/);
});

Deno.test("keys and header values never appear in JSON, inspect or String of a provider", () => {
  const provider = createProvider({
    provider: "openai",
    model: "gpt-4.1-mini",
    api_key: "sk-secret-provider-key",
    headers: { apikey: "header-secret-value" },
  });
  for (
    const text of [
      JSON.stringify(provider),
      Deno.inspect(provider, { depth: 10 }),
      Deno.inspect((provider as OpenAICompatibleProvider).config, { depth: 10 }),
      JSON.stringify((provider as OpenAICompatibleProvider).config),
    ]
  ) {
    assert.ok(!text.includes("sk-secret-provider-key"), text);
    assert.ok(!text.includes("header-secret-value"), text);
    assert.ok(text.includes("***"));
  }
});

Deno.test("registerProvider() adds a provider usable by name, listed as not built in", async () => {
  const calls: string[] = [];
  // A factory returns a BasicProvider (completion and stream); createProvider() adds completeObject.
  const factory = (settings: { model: string }): BasicProvider => ({
    provider: "test-reverse",
    model: settings.model,
    completion(options) {
      const text = String(options.messages.at(-1)?.content).split("").reverse().join("");
      calls.push(text);
      return Promise.resolve({
        id: "r",
        object: "chat.completion",
        created: 0,
        model: settings.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: text },
          finish_reason: "stop",
        }],
      });
    },
    async *stream() {
      yield { type: "text", text: "x" };
    },
  });
  registerProvider("test-reverse", factory, { description: "Reverses", requiresKey: false });
  const provider = createProvider("test-reverse:r1");
  const answer = await provider.completion({ messages: [{ role: "user", content: "abc" }] });
  assert.equal(answer.choices[0].message.content, "cba");
  assert.equal(typeof provider.completeObject, "function");
  const info = getProviderInfo("test-reverse");
  assert.equal(info?.builtin, false);
  assert.equal(info?.description, "Reverses");
  assert.throws(() => registerProvider("a:b", factory), TypeError);
  assert.throws(() => registerProvider("", factory), TypeError);
  assert.throws(() => registerProvider("ok", "no" as never), TypeError);
});

Deno.test("without env permission a set key variable reads as not set: MissingAPIKeyError, no prompt", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { createProvider, MissingAPIKeyError } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
try {
  createProvider("openai:gpt-4.1-mini");
  console.log("built");
} catch (error) {
  console.log(error instanceof MissingAPIKeyError ? "MissingAPIKeyError: " + error.message : "other: " + error);
}
`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--quiet",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        script,
      ],
      env: { OPENAI_API_KEY: "sk-set-but-not-permitted", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
    assert.match(stdout, /^MissingAPIKeyError: .*OPENAI_API_KEY environment variable/);
    assert.ok(!stdout.includes("sk-set-but-not-permitted"));
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("header values never appear when a provider's config.headers is printed", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "openai",
    model: "gpt-4.1-mini",
    api_key: "sk-secret-provider-key",
    api_base: peer.url,
    headers: { apikey: "header-secret-value" },
  }) as OpenAICompatibleProvider;
  const headers = provider.config.headers;
  for (const text of [JSON.stringify(headers), Deno.inspect(headers)]) {
    assert.ok(!text.includes("header-secret-value"), text);
    assert.match(text, /apikey/);
  }
  // The header is still sent.
  await provider.completion({ messages: [{ role: "user", content: "hi" }] });
  assert.equal(peer.lastRequest().headers.apikey, "header-secret-value");
});

Deno.test("azure: an unknown key is an error listing azure's keys, endpoint and deployment included", () => {
  assert.throws(
    () =>
      createProvider({
        provider: "azure",
        model: "m",
        endpoint: "https://r.openai.azure.com",
        api_key: "k",
        bogus: 1,
      }, { alias: "p", env: NO_ENV }),
    (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, /PROVIDERS\["p"\] has an unknown key "bogus" \(known keys: .*\)/);
      assert.match(error.message, /\bendpoint\b/);
      assert.match(error.message, /\bdeployment\b/);
      return true;
    },
  );
});

Deno.test("unregisterProvider() removes a registration and restores a built-in it replaced", () => {
  const canned = (text: string) => () =>
    ({
      provider: "x",
      model: "m",
      completion: () => Promise.reject(new Error(text)),
      stream: () => ({ async *[Symbol.asyncIterator]() {} }),
    }) as never;
  registerProvider("test-unregister", canned("mine"));
  assert.equal(unregisterProvider("test-unregister"), true);
  assert.equal(unregisterProvider("test-unregister"), false);
  assert.throws(() => createProvider("test-unregister:m"), /test-unregister/);
  // A built-in replaced, then restored.
  const before = getProviderInfo("ollama");
  registerProvider("ollama", canned("replaced"));
  assert.equal(getProviderInfo("ollama")?.builtin, false);
  assert.equal(unregisterProvider("ollama"), true);
  assert.equal(getProviderInfo("ollama"), before);
  assert.equal(unregisterProvider("ollama"), false, "a built-in stays");
  assert.equal(createProvider("ollama:llama3.1").provider, "ollama");
});
