// createAI()'s provider methods: settings, instances per alias, image routing, the legacy fallback.
import assert from "node:assert/strict";
import {
  BackendFeature,
  createAI,
  DeprecationWarning,
  ImproperlyConfigured,
  type OpenAICompatibleProvider,
} from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { prng } from "./_text.ts";

const TWO_PROVIDERS = {
  PROVIDERS: {
    default: {
      provider: "openai",
      model: "gpt-oss-120b",
      api_key: "my-scaleway-key",
      api_base: "https://api.scaleway.ai/my-project-id/v1",
    },
    vision: {
      provider: "mistral",
      model: "mistral-small-3.2-24b-instruct-2506",
      api_key: "my-own-secret-key",
      api_base: "https://my-llm-host.com/v1",
    },
  },
  IMAGE_DESCRIPTION_PROVIDER: "vision",
};

Deno.test("getProviderSettings() returns the entry with provider and model resolved", () => {
  const ai = createAI({
    PROVIDERS: {
      default: { provider: "openai", model: "gpt-4.1-mini" },
      local: { provider: "ollama:llama3:8b", timeout: 300 },
    },
  });
  assert.deepEqual(ai.getProviderSettings(), { provider: "openai", model: "gpt-4.1-mini" });
  assert.deepEqual(ai.getProviderSettings("local"), {
    provider: "ollama",
    model: "llama3:8b",
    timeout: 300,
  });
});

Deno.test("getProviderSettings() of an unknown alias is ImproperlyConfigured listing the aliases", () => {
  const ai = createAI(TWO_PROVIDERS);
  assert.throws(() => ai.getProviderSettings("other"), (error: Error) => {
    assert.ok(error instanceof ImproperlyConfigured);
    assert.equal(error.message, 'No provider "other" in PROVIDERS (known: default, vision)');
    return true;
  });
  assert.throws(() => createAI({}).getProviderSettings("x"), /known: none/);
  assert.throws(() => ai.getProviderSettings(""), TypeError);
});

Deno.test("getProviderSettings() checks the entry, naming the alias and the key", () => {
  const ai = createAI({
    PROVIDERS: {
      default: { provider: "nope", model: "m" },
      broken: "text" as never,
      nomodel: { provider: "openai" },
    },
  });
  assert.throws(
    () => ai.getProviderSettings(),
    /Unknown provider "nope" in PROVIDERS\["default"\]/,
  );
  assert.throws(() => ai.getProviderSettings("broken"), /not a provider:model string/);
  assert.throws(() => ai.getProviderSettings("nomodel"), /PROVIDERS\["nomodel"\] is missing model/);
  assert.throws(
    () =>
      createAI({ PROVIDERS: { default: { provider: "ollama", model: "m", nope: 1 } } })
        .getProvider(),
    /PROVIDERS\["default"\] has an unknown key "nope"/,
  );
});

Deno.test("without PROVIDERS.default, the default backend's MODEL_ID is used with one deprecation warning", () => {
  const warnings: Error[] = [];
  const ai = createAI(
    {
      BACKENDS: {
        default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk" } },
      },
    },
    { onWarning: (warning) => warnings.push(warning) },
  );
  assert.deepEqual(ai.getProviderSettings(), { provider: "openai", model: "gpt-4o" });
  assert.deepEqual(ai.getProviderSettings("default"), { provider: "openai", model: "gpt-4o" });
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof DeprecationWarning);
  assert.match(warnings[0].message, /PROVIDERS has no "default" provider/);
  assert.match(warnings[0].message, /"gpt-4o"/);
  assert.match(warnings[0].message, /deprecated/);
});

Deno.test("the legacy fallback without settings uses gpt-3.5-turbo and warns once on the console", () => {
  const original = console.warn;
  const printed: string[] = [];
  console.warn = (...args: unknown[]) => void printed.push(args.join(" "));
  try {
    const ai = createAI();
    assert.deepEqual(ai.getProviderSettings(), { provider: "openai", model: "gpt-3.5-turbo" });
    ai.getProviderSettings();
    ai.getProviderSettings();
  } finally {
    console.warn = original;
  }
  assert.equal(printed.length, 1);
  assert.match(printed[0], /^Warning: PROVIDERS has no "default" provider/);
});

Deno.test("the legacy fallback needs a default backend with a MODEL_ID", () => {
  assert.throws(
    () => createAI({ BACKENDS: {} }).getProviderSettings(),
    /No provider "default" in PROVIDERS, and no backend "default" to fall back on/,
  );
  assert.throws(
    () => createAI({ BACKENDS: { default: { CLASS: "echo" } as never } }).getProviderSettings(),
    /no MODEL_ID in CONFIG of backend "default"/,
  );
});

Deno.test("getProvider() builds one instance per alias", () => {
  const ai = createAI(TWO_PROVIDERS);
  const first = ai.getProvider();
  assert.equal(ai.getProvider("default"), first);
  assert.equal(ai.getProvider(), first);
  const vision = ai.getProvider("vision");
  assert.notEqual(vision, first);
  assert.equal(ai.getProvider("vision"), vision);
  assert.equal(first.model, "gpt-oss-120b");
  assert.equal(
    (first as OpenAICompatibleProvider).config.baseURL,
    "https://api.scaleway.ai/my-project-id/v1",
  );
  // A new AI has its own instances.
  assert.notEqual(createAI(TWO_PROVIDERS).getProvider(), first);
});

Deno.test("getProviderFor() routes images to IMAGE_DESCRIPTION_PROVIDER and text to default", () => {
  const ai = createAI(TWO_PROVIDERS);
  assert.equal(ai.getProviderFor(BackendFeature.TEXT_COMPLETION), ai.getProvider("default"));
  assert.equal(ai.getProviderFor(BackendFeature.IMAGE_DESCRIPTION), ai.getProvider("vision"));
  assert.equal(ai.getProviderFor(BackendFeature.IMAGE_DESCRIPTION).provider, "mistral");
  const single = createAI({ PROVIDERS: TWO_PROVIDERS.PROVIDERS });
  assert.equal(single.getProviderFor(BackendFeature.IMAGE_DESCRIPTION), single.getProvider());
  assert.throws(() => ai.getProviderFor("AUDIO" as never), TypeError);
  assert.throws(
    () =>
      createAI({ PROVIDERS: TWO_PROVIDERS.PROVIDERS, IMAGE_DESCRIPTION_PROVIDER: "gone" })
        .getProviderFor(BackendFeature.IMAGE_DESCRIPTION),
    /No provider "gone" in PROVIDERS/,
  );
});

Deno.test("text and vision run on different services through their providers", async () => {
  await using textPeer = await startPeer();
  await using visionPeer = await startPeer();
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "openai",
        model: "gpt-oss-120b",
        api_key: "text-key",
        api_base: textPeer.url,
      },
      vision: {
        provider: "mistral",
        model: "mistral-small-3.2-24b-instruct-2506",
        api_key: "vision-key",
        api_base: visionPeer.url,
      },
    },
    IMAGE_DESCRIPTION_PROVIDER: "vision",
  });
  const text = await ai.getProviderFor(BackendFeature.TEXT_COMPLETION).completion({
    messages: [{ role: "user", content: "Summarise this." }],
  });
  assert.equal(text.choices[0].message.content, "Echo: Summarise this.");
  const image = await ai.getProviderFor(BackendFeature.IMAGE_DESCRIPTION).completion({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "Alt text?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    }],
  });
  assert.equal(image.choices[0].message.content, "Echo: Alt text? [image image/png 8 bytes]");
  assert.equal(textPeer.requests.length, 1);
  assert.equal(visionPeer.requests.length, 1);
  assert.equal(textPeer.lastRequest().headers.authorization, "Bearer text-key");
  assert.equal(visionPeer.lastRequest().headers.authorization, "Bearer vision-key");
  assert.equal(visionPeer.lastRequest().body.model, "mistral-small-3.2-24b-instruct-2506");
});

Deno.test("IMAGE_DESCRIPTION_BACKEND is reported as deprecated in favour of IMAGE_DESCRIPTION_PROVIDER", () => {
  const warnings: Error[] = [];
  createAI(
    { BACKENDS: {}, IMAGE_DESCRIPTION_BACKEND: "vision" },
    { onWarning: (warning) => warnings.push(warning) },
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0].message,
    /IMAGE_DESCRIPTION_BACKEND is deprecated: set IMAGE_DESCRIPTION_PROVIDER/,
  );
});

Deno.test("getBackend(IMAGE_DESCRIPTION) uses the backend named like IMAGE_DESCRIPTION_PROVIDER", () => {
  const echo = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } };
  const ai = createAI({
    PROVIDERS: { vision: { provider: "ollama", model: "llava" } },
    BACKENDS: { default: echo, vision: echo },
    IMAGE_DESCRIPTION_PROVIDER: "vision",
  });
  assert.equal(ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).alias, "vision");
  const none = createAI({ BACKENDS: { default: echo }, IMAGE_DESCRIPTION_PROVIDER: "vision" });
  assert.throws(() => none.getBackend(BackendFeature.IMAGE_DESCRIPTION), /No backend found/);
});

Deno.test("the AI's printed form masks provider keys", () => {
  const ai = createAI(TWO_PROVIDERS);
  ai.getProvider();
  for (const text of [JSON.stringify(ai), Deno.inspect(ai, { depth: 10 })]) {
    assert.ok(!text.includes("my-scaleway-key"));
    assert.ok(!text.includes("my-own-secret-key"));
  }
});

Deno.test("2000 random PROVIDERS entries and provider backends give only our errors, never a TypeError", () => {
  const random = prng(5150);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const VALUES: unknown[] = [
    undefined,
    null,
    "",
    " ",
    "openai",
    "ollama:llama3:8b",
    "azure",
    "nope",
    "gpt-4o",
    "http://127.0.0.1:9/v1",
    "ftp://x",
    0,
    -1,
    1.5,
    30,
    1e12,
    NaN,
    true,
    [],
    {},
    { a: "b" },
    { a: 1 },
    () => 1,
    Symbol("s"),
    10n,
  ];
  const KEYS = [
    "provider",
    "model",
    "api_key",
    "api_key_env",
    "api_base",
    "headers",
    "organization",
    "timeout",
    "max_retries",
    "api_version",
    "endpoint",
    "deployment",
    "extra",
  ];
  const CONFIG_KEYS = [
    "PROVIDER",
    "MODEL_ID",
    "TOKEN_LIMIT",
    "PROMPT_STYLE",
    "SYSTEM_PROMPT",
    "OPTIONS",
  ];
  let built = 0;
  for (let i = 0; i < 2000; i++) {
    const entry: Record<string, unknown> = {};
    for (const key of KEYS) if (random() < 0.08) entry[key] = pick(VALUES);
    if (random() < 0.6) entry.provider = pick(["openai", "ollama", "azure", "vllm", "groq", "x:y"]);
    if (random() < 0.6) entry.model = pick(["gpt-4o", "llama3:8b", "m"]);
    if (random() < 0.4) entry.api_key = "sk-random";
    const config: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) if (random() < 0.1) config[key] = pick(VALUES);
    const settings = {
      PROVIDERS: { default: random() < 0.95 ? entry : pick(VALUES) },
      BACKENDS: { default: { CLASS: "provider", CONFIG: config } },
    };
    try {
      const ai = createAI(settings as never, { onWarning: () => {} });
      try {
        ai.getProvider();
        ai.getAIBackend("default");
        built++;
      } catch (error) {
        assert.ok(
          error instanceof ImproperlyConfigured,
          `case ${i}: ${(error as Error).name}: ${(error as Error).message}`,
        );
      }
    } catch (error) {
      assert.ok(
        error instanceof ImproperlyConfigured,
        `case ${i}: ${(error as Error).name}: ${(error as Error).message}`,
      );
    }
  }
  assert.ok(built > 20, `only ${built} built`);
});
