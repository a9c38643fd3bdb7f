// Secrets (API keys, header values) never appear in messages, console output,
// JSON.stringify or Deno.inspect of settings, configs, backends or providers.
import assert from "node:assert/strict";
import { createAI, loadSettings } from "../mod.ts";
import { startPeer } from "./_peer.ts";

const KEY = "sk-very-secret-key-0123456789";
const HEADER = "header-secret-value-987";

function assertNoSecret(text: string, where: string): void {
  assert.ok(!text.includes(KEY), `${where} shows the key: ${text}`);
  assert.ok(!text.includes(HEADER), `${where} shows a header value: ${text}`);
}

function settings(apiBase = "http://127.0.0.1:9/v1") {
  return {
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: KEY, API_BASE: apiBase, MAX_RETRIES: 0 },
      },
      llm: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o", INIT_KWARGS: { key: KEY } } },
    },
    PROVIDERS: {
      default: {
        provider: "openai",
        model: "gpt-4.1-mini",
        api_key: KEY,
        api_base: apiBase,
        headers: { "x-secret": HEADER },
      },
    },
  };
}

Deno.test("secrets: settings, backends, configs and providers print *** instead of keys", () => {
  const ai = createAI(settings());
  const things: [string, unknown][] = [
    ["ai", ai],
    ["backend", ai.getAIBackend("default")],
    ["backend.config", ai.getAIBackend("default").config],
    ["llm backend", ai.getAIBackend("llm")],
    ["llm backend.config", ai.getAIBackend("llm").config],
    ["provider", ai.getProvider()],
    ["provider settings", ai.getProviderSettings()],
  ];
  for (const [where, value] of things) {
    assertNoSecret(JSON.stringify(value), `JSON.stringify(${where})`);
    assertNoSecret(Deno.inspect(value, { depth: 10 }), `Deno.inspect(${where})`);
  }
  assert.match(JSON.stringify(ai.getAIBackend("default")), /\*\*\*/);
});

Deno.test("secrets: console.log of a backend shows no key", () => {
  const original = console.log;
  let printed = "";
  console.log = (...args: unknown[]) => {
    printed += args.map((arg) => Deno.inspect(arg, { depth: 10 })).join(" ");
  };
  try {
    const ai = createAI(settings());
    console.log(ai, ai.getAIBackend("default"), ai.getProvider());
  } finally {
    console.log = original;
  }
  assert.ok(printed.length > 0);
  assertNoSecret(printed, "console.log");
});

Deno.test("secrets: API error messages never contain the key or header values", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer.url));
  peer.enqueue({ status: 401, error: `Incorrect API key provided: ${KEY}. Header ${HEADER}.` });
  // The backend knows its key (not the provider's header): the key is scrubbed.
  await assert.rejects(
    ai.getAIBackend("default").promptWithContext({ prePrompt: "p", context: "c" }).text(),
    (error: Error) => {
      assert.ok(!error.message.includes(KEY), error.message);
      assert.ok(!Deno.inspect(error).includes(KEY));
      return true;
    },
  );
  peer.enqueue({ status: 400, error: `Bad header ${HEADER} with key ${KEY}` });
  await assert.rejects(
    ai.getProvider().completion({ messages: [{ role: "user", content: "x" }] }),
    (error: Error) => {
      assertNoSecret(error.message, "provider error");
      return true;
    },
  );
});

Deno.test("secrets: ai.settings prints *** instead of keys, and the given object is left as it was", () => {
  const given = settings();
  const ai = createAI(given);
  assertNoSecret(JSON.stringify(ai.settings), "JSON.stringify(ai.settings)");
  assertNoSecret(Deno.inspect(ai.settings, { depth: 10 }), "Deno.inspect(ai.settings)");
  assert.equal(ai.settings.PROVIDERS?.default.api_key, KEY);
  assert.ok(JSON.stringify(given).includes(KEY));
});

Deno.test("secrets: printing settings that hold a cycle ends, showing [Circular]", () => {
  const cyclic: Record<string, unknown> = { api_key: KEY };
  cyclic.self = cyclic;
  const ai = createAI({
    PROVIDERS: { default: { provider: "ollama", model: "m", extra: cyclic } },
  });
  const printed = JSON.stringify(ai);
  assert.match(printed, /\[Circular\]/);
  assertNoSecret(printed, "JSON.stringify(ai)");
  // Three references to itself: without cycle detection this takes 3^20 steps.
  cyclic.again = cyclic;
  cyclic.list = [cyclic];
  assert.match(Deno.inspect(ai, { depth: 30 }), /\[Circular\]/);
});

Deno.test("secrets: loadSettings() results print *** for keys, and JSON.stringify keeps the data", async () => {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      path,
      `PROVIDERS:
  default: {provider: openai, model: gpt-4o, api_key: sk-loaded-secret}
  proxy:
    provider: openai_compatible
    model: m
    api_base: "https://user:pa55word@gw.example/v1?api-key=sk-query-secret&region=eu"
`,
    );
    const settings = await loadSettings(path);
    for (const shown of [Deno.inspect(settings, { depth: 10 }), Deno.inspect({ settings })]) {
      assert.doesNotMatch(shown, /sk-loaded-secret|pa55word|sk-query-secret/);
    }
    assert.match(Deno.inspect(settings, { depth: 10 }), /region=eu/);
    // The data is as read, for code that converts or copies settings.
    assert.equal(settings.PROVIDERS?.default.api_key, "sk-loaded-secret");
    assert.match(JSON.stringify(settings), /sk-loaded-secret/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("secrets: a provider whose api_base holds credentials prints them as ***", () => {
  const ai = createAI({
    PROVIDERS: {
      a: {
        provider: "openai_compatible",
        model: "m",
        api_base: "https://user:pa55word@gw.example/v1?token=tok-secret-1",
      },
    },
  });
  const provider = ai.getProvider("a");
  for (
    const shown of [
      Deno.inspect(provider, { depth: 10 }),
      JSON.stringify(provider),
      Deno.inspect(ai.getProviderSettings("a")),
      JSON.stringify(ai.getProviderSettings("a")),
    ]
  ) {
    assert.doesNotMatch(shown, /pa55word|tok-secret-1/, shown);
  }
});

Deno.test("secrets: a secret nested anywhere in printed settings is masked (headers under any name, token, password...)", () => {
  const settings = {
    BACKENDS: {
      default: {
        CLASS: "echo",
        CONFIG: {
          MODEL_ID: "echo",
          TOKEN_LIMIT: 100,
          INIT_KWARGS: {
            default_headers: {
              Authorization: "Bearer sk-n1",
              "X-Api-Key": "sk-n2",
              "x-trace": "n3",
            },
            extraHeaders: { "api-key": "sk-n4" },
            list: [{ api_key: "sk-n5" }, { nested: [{ client_secret: "sk-n6" }] }],
            access_token: "sk-n7",
            password: "sk-n8",
            "Ocp-Apim-Subscription-Key": "sk-n9",
            max_tokens: 77,
          },
        },
      },
    },
    PROVIDERS: { default: { provider: "ollama", model: "llama3.1", api_key_env: "MY_KEY_VAR" } },
  };
  const ai = createAI(settings as never);
  for (
    const shown of [
      Deno.inspect(ai.settings, { depth: 20 }),
      JSON.stringify(ai.settings),
      Deno.inspect(ai, { depth: 20 }),
    ]
  ) {
    for (let n = 1; n <= 9; n++) assert.ok(!shown.includes(`sk-n${n}`), `sk-n${n} in ${shown}`);
    assert.ok(!shown.includes('"n3"') && !shown.includes(" n3"), shown); // every header value
    // What is not secret still shows: limits, token counts, the name of a key variable.
    assert.match(shown, /TOKEN_LIMIT"?: ?100/);
    assert.match(shown, /max_tokens"?: ?77/);
    assert.match(shown, /MY_KEY_VAR/);
  }
});
