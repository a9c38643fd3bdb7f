// migrateSettings() on each kind of backend, the CLI's migrate and providers commands, and the
// end-to-end promise: Wagtail AI 2 style settings migrated with one command run the same prompts.
import assert from "node:assert/strict";
import {
  type AISettings,
  BackendFeature,
  createAI,
  EchoBackend,
  migrateSettings,
  type ProviderBackend,
  registerPlugin,
  unregisterPlugin,
} from "../mod.ts";
import { parseYaml } from "../_yaml.ts";
import { startPeer } from "./_peer.ts";
import { runCli } from "./_cli.ts";

async function userDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "migrate_test_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

const SEED_PROXY_YAML = `- model_id: customgateway-gpt-3.5-turbo
  model_name: gpt-3.5-turbo
  api_base: "https://yourcustomproxy.example.com/"
  headers:
    apikey: your-api-key
`;

Deno.test("migrateSettings(): an OpenAI backend becomes an openai provider", () => {
  const { settings, notes } = migrateSettings({
    BACKENDS: {
      default: {
        CLASS: "wagtail_ai.ai.openai.OpenAIBackend",
        CONFIG: {
          MODEL_ID: "gpt-4",
          API_BASE: "https://proxy.example/v1",
          OPENAI_API_KEY: "sk-config",
          TIMEOUT_SECONDS: 30,
          MAX_RETRIES: 4,
          TOKEN_LIMIT: 8192,
          MAX_OUTPUT_TOKENS: 500,
          MAX_IMAGE_BYTES: 1000,
        },
      },
    },
  });
  assert.deepEqual(settings, {
    PROVIDERS: {
      default: {
        provider: "openai",
        model: "gpt-4",
        api_base: "https://proxy.example/v1",
        api_key: "sk-config",
        timeout: 30,
        max_retries: 4,
      },
    },
    BACKENDS: {
      default: {
        CLASS: "provider",
        CONFIG: {
          PROVIDER: "default",
          TOKEN_LIMIT: 8192,
          MAX_OUTPUT_TOKENS: 500,
          MAX_IMAGE_BYTES: 1000,
        },
      },
    },
  });
  assert.deepEqual(notes, []);
});

Deno.test("migrateSettings(): the OpenAI backend's defaults are kept (no API_BASE, timeout 15)", () => {
  for (const CLASS of ["openai", "OpenAIBackend"]) {
    const { settings } = migrateSettings({
      BACKENDS: {
        default: { CLASS, CONFIG: { MODEL_ID: "gpt-4o", API_BASE: "https://api.openai.com/v1" } },
      },
    });
    assert.deepEqual(settings.PROVIDERS?.default, {
      provider: "openai",
      model: "gpt-4o",
      timeout: 15,
    });
    assert.deepEqual(settings.BACKENDS?.default, {
      CLASS: "provider",
      CONFIG: { PROVIDER: "default" },
    });
  }
});

Deno.test("migrateSettings(): an LLM backend on a built-in model becomes an openai provider", async () => {
  const llmUserPath = await userDir();
  try {
    const { settings, notes } = migrateSettings({
      BACKENDS: {
        default: {
          CLASS: "wagtail_ai.ai.llm.LLMBackend",
          CONFIG: {
            MODEL_ID: "4o",
            INIT_KWARGS: { key: "sk-init", temperature: 0.5 },
            PROMPT_KWARGS: {
              system: "A custom, global system prompt.",
              max_tokens: 300,
              json_object: true,
              top_p: 0.9,
              stream: false,
            },
          },
        },
      },
    }, { llmUserPath });
    assert.deepEqual(settings.PROVIDERS, {
      default: { provider: "openai", model: "gpt-4o", api_key: "sk-init" },
    });
    assert.deepEqual(settings.BACKENDS?.default, {
      CLASS: "provider",
      CONFIG: {
        PROVIDER: "default",
        PROMPT_STYLE: "llm",
        SYSTEM_PROMPT: "A custom, global system prompt.",
        MAX_OUTPUT_TOKENS: 300,
        OPTIONS: { temperature: 0.5, top_p: 0.9, response_format: { type: "json_object" } },
      },
    });
    assert.equal(notes.length, 1);
    assert.match(notes[0], /PROMPT_KWARGS\.stream of backend "default" was left out/);
    // The result is valid settings.
    const backend = createAI(settings, { llmUserPath }).getBackend() as ProviderBackend;
    assert.equal(backend.config.tokenLimit, 128_000);
    assert.equal(backend.config.modelId, "gpt-4o");
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings(): the seed's extra-openai-models.yaml proxy becomes an openai_compatible provider", async () => {
  const llmUserPath = await userDir({ "extra-openai-models.yaml": SEED_PROXY_YAML });
  try {
    const { settings, notes } = migrateSettings({
      BACKENDS: {
        default: {
          CLASS: "wagtail_ai.ai.llm.LLMBackend",
          CONFIG: { MODEL_ID: "customgateway-gpt-3.5-turbo", TOKEN_LIMIT: 4096 },
        },
      },
    }, { llmUserPath });
    assert.deepEqual(settings.PROVIDERS?.default, {
      provider: "openai_compatible",
      model: "gpt-3.5-turbo",
      api_base: "https://yourcustomproxy.example.com",
      headers: { apikey: "your-api-key" },
    });
    assert.deepEqual(settings.BACKENDS?.default, {
      CLASS: "provider",
      CONFIG: { PROVIDER: "default", PROMPT_STYLE: "llm", TOKEN_LIMIT: 4096 },
    });
    assert.deepEqual(notes, []);
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings(): an extra model without api_base keeps openai with its model_name", async () => {
  const llmUserPath = await userDir({
    "extra-openai-models.yaml":
      "- model_id: my-gpt4\n  model_name: gpt-4\n  api_version: '2024-06-01'\n",
  });
  try {
    const { settings } = migrateSettings({
      BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "my-gpt4", TOKEN_LIMIT: 8192 } } },
    }, { llmUserPath });
    assert.deepEqual(settings.PROVIDERS?.default, {
      provider: "openai",
      model: "gpt-4",
      api_version: "2024-06-01",
    });
    // gpt-4's known window is 8192: TOKEN_LIMIT need not be repeated.
    assert.deepEqual(settings.BACKENDS?.default, {
      CLASS: "provider",
      CONFIG: { PROVIDER: "default", PROMPT_STYLE: "llm" },
    });
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings(): keys.json names are explained, never copied", async () => {
  const llmUserPath = await userDir({
    "keys.json": JSON.stringify({ work: "sk-stored-work", openai: "sk-stored-openai" }),
    "extra-openai-models.yaml":
      "- model_id: router-model\n  model_name: meta/llama\n  api_base: https://router.example/v1\n  api_key_name: router\n",
  });
  try {
    const { settings, notes } = migrateSettings({
      BACKENDS: {
        default: {
          CLASS: "llm",
          CONFIG: { MODEL_ID: "gpt-4o-mini", INIT_KWARGS: { key: "work" } },
        },
        builtin: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o-mini" } },
        router: { CLASS: "llm", CONFIG: { MODEL_ID: "router-model", TOKEN_LIMIT: 1000 } },
      },
    }, { llmUserPath });
    const text = JSON.stringify(settings);
    assert.ok(!text.includes("sk-stored"));
    assert.equal(settings.PROVIDERS?.default.api_key, undefined);
    assert.ok(
      notes.some((note) =>
        /INIT_KWARGS\.key of backend "default" names the keys\.json entry "work"/.test(note)
      ),
    );
    assert.ok(
      notes.some((note) =>
        /backend "builtin" takes its key from keys\.json \("openai"\)/.test(note)
      ),
    );
    assert.ok(
      notes.some((note) =>
        /backend "router" takes its key from keys\.json \("router"\)/.test(note)
      ),
    );
    assert.deepEqual(settings.PROVIDERS?.router, {
      provider: "openai_compatible",
      model: "meta/llama",
      api_base: "https://router.example/v1",
    });
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings(): echo, plugin models, unknown models and custom classes are kept with notes", async () => {
  const llmUserPath = await userDir();
  registerPlugin({
    name: "migrate-test-plugin",
    registerModels(register) {
      register({
        modelId: "shout-model",
        contextWindow: 1000,
        async *execute(prompt) {
          yield { type: "text", text: prompt.prompt.toUpperCase() };
        },
      });
    },
  });
  try {
    class MyBackend extends EchoBackend {}
    const input: AISettings = {
      BACKENDS: {
        default: {
          CLASS: "wagtail_ai.ai.echo.EchoBackend",
          CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 },
        },
        plugin: { CLASS: "llm", CONFIG: { MODEL_ID: "shout-model" } },
        unknown: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-17" } },
        custom: { CLASS: MyBackend, CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
        dotted: { CLASS: "my.module.Backend", CONFIG: { MODEL_ID: "x" } },
        broken: { CLASS: "openai" } as never,
        nomodel: { CLASS: "openai", CONFIG: {} } as never,
      },
    };
    const { settings, notes } = migrateSettings(input, { llmUserPath });
    assert.deepEqual(settings.BACKENDS, input.BACKENDS);
    assert.equal(settings.PROVIDERS, undefined);
    const expected = [
      /Backend "default" is the echo backend/,
      /Backend "plugin" uses model "shout-model", which is not an OpenAI-compatible chat model/,
      /Backend "unknown" was kept as it is: its model could not be looked up \(.*"gpt-17"/,
      /Backend "custom" uses class MyBackend/,
      /Backend "dotted" uses "my.module.Backend"/,
      /Backend "broken" was kept as it is: it has no CONFIG object/,
      /Backend "nomodel" was kept as it is: its CONFIG has no MODEL_ID/,
      /PROVIDERS has no "default" entry/,
    ];
    assert.equal(notes.length, expected.length, notes.join("\n"));
    expected.forEach((pattern, index) => assert.match(notes[index], pattern));
  } finally {
    unregisterPlugin("migrate-test-plugin");
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings(): TEXT_SPLITTING stays on the backend, with a note", () => {
  const TEXT_SPLITTING = {
    SPLITTER_CLASS: "wagtail_ai.text_splitters.langchain.LangchainRecursiveCharacterTextSplitter",
    SPLITTER_LENGTH_CALCULATOR_CLASS:
      "wagtail_ai.text_splitters.length.NaiveTextSplitterCalculator",
  };
  const { settings, notes } = migrateSettings({
    BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o" }, TEXT_SPLITTING } },
  });
  assert.deepEqual(settings.BACKENDS?.default.TEXT_SPLITTING, TEXT_SPLITTING);
  assert.match(notes[0], /TEXT_SPLITTING of backend "default" stays on the backend/);
});

Deno.test("migrateSettings(): IMAGE_DESCRIPTION_BACKEND becomes IMAGE_DESCRIPTION_PROVIDER", () => {
  const { settings, notes } = migrateSettings({
    BACKENDS: {
      default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4", OPENAI_API_KEY: "sk-1" } },
      vision: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4-vision-preview", TOKEN_LIMIT: 300, OPENAI_API_KEY: "sk-2" },
      },
    },
    IMAGE_DESCRIPTION_BACKEND: "vision",
    TEXT_COMPLETION_BACKEND: "default",
  });
  assert.equal(settings.IMAGE_DESCRIPTION_PROVIDER, "vision");
  assert.equal(settings.IMAGE_DESCRIPTION_BACKEND, undefined);
  assert.equal(settings.TEXT_COMPLETION_BACKEND, "default");
  assert.deepEqual(Object.keys(settings), [
    "PROVIDERS",
    "BACKENDS",
    "TEXT_COMPLETION_BACKEND",
    "IMAGE_DESCRIPTION_PROVIDER",
  ]);
  assert.deepEqual(notes, []);
  // Code written against backends keeps working, and no deprecation is reported.
  const warnings: Error[] = [];
  const ai = createAI(settings, { onWarning: (warning) => warnings.push(warning) });
  assert.equal(ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).alias, "vision");
  assert.equal(ai.getProviderFor(BackendFeature.IMAGE_DESCRIPTION).model, "gpt-4-vision-preview");
  assert.deepEqual(warnings, []);
});

Deno.test("migrateSettings(): an image backend that cannot move keeps IMAGE_DESCRIPTION_BACKEND", () => {
  const { settings, notes } = migrateSettings({
    BACKENDS: {
      default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o" } },
      vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } },
    },
    IMAGE_DESCRIPTION_BACKEND: "vision",
  });
  assert.equal(settings.IMAGE_DESCRIPTION_BACKEND, "vision");
  assert.equal(settings.IMAGE_DESCRIPTION_PROVIDER, undefined);
  assert.ok(
    notes.some((note) =>
      /IMAGE_DESCRIPTION_BACKEND names backend "vision", which did not move/.test(note)
    ),
  );
});

Deno.test("migrateSettings(): the text backend's provider becomes PROVIDERS.default", () => {
  const { settings, notes } = migrateSettings({
    BACKENDS: { main: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o" } } },
    TEXT_COMPLETION_BACKEND: "main",
  });
  assert.deepEqual(settings.PROVIDERS?.default, settings.PROVIDERS?.main);
  assert.match(notes[0], /PROVIDERS\.default is a copy of PROVIDERS\["main"\]/);
});

Deno.test("migrateSettings(): existing PROVIDERS are kept; a clash gets a new alias", () => {
  const { settings, notes } = migrateSettings({
    PROVIDERS: { default: { provider: "mistral", model: "mistral-small-latest" } },
    BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o" } } },
  });
  assert.deepEqual(settings.PROVIDERS?.default, {
    provider: "mistral",
    model: "mistral-small-latest",
  });
  assert.deepEqual(settings.PROVIDERS?.default_migrated, {
    provider: "openai",
    model: "gpt-4o",
    timeout: 15,
  });
  assert.deepEqual(settings.BACKENDS?.default.CONFIG, { PROVIDER: "default_migrated" });
  assert.match(notes[0], /PROVIDERS already has a different "default" entry/);
});

Deno.test("migrateSettings(): settings without BACKENDS migrate Wagtail AI's default", async () => {
  const llmUserPath = await userDir();
  try {
    const { settings, notes } = migrateSettings({}, { llmUserPath });
    assert.deepEqual(settings, {
      PROVIDERS: { default: { provider: "openai", model: "gpt-3.5-turbo" } },
      BACKENDS: {
        default: { CLASS: "provider", CONFIG: { PROVIDER: "default", PROMPT_STYLE: "llm" } },
      },
    });
    assert.match(notes[0], /Without BACKENDS the default applies/);
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings() leaves its input unchanged and is idempotent", async () => {
  const llmUserPath = await userDir({ "extra-openai-models.yaml": SEED_PROXY_YAML });
  try {
    const input: AISettings = {
      BACKENDS: {
        default: {
          CLASS: "llm",
          CONFIG: { MODEL_ID: "customgateway-gpt-3.5-turbo", TOKEN_LIMIT: 4096 },
        },
        vision: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o" } },
      },
      IMAGE_DESCRIPTION_BACKEND: "vision",
    };
    const copy = structuredClone(input);
    const first = migrateSettings(input, { llmUserPath });
    assert.deepEqual(input, copy);
    const second = migrateSettings(first.settings, { llmUserPath });
    assert.deepEqual(second.settings, first.settings);
    assert.deepEqual(second.notes, []);
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

Deno.test("migrateSettings() rejects what is not a settings object", () => {
  for (const bad of [null, "x", [], 3]) {
    assert.throws(() => migrateSettings(bad as never), TypeError);
  }
  assert.throws(() => migrateSettings({}, null as never), TypeError);
  const { settings, notes } = migrateSettings({ BACKENDS: "nope" as never });
  assert.equal(settings.BACKENDS, "nope");
  assert.match(notes[0], /BACKENDS is not an object/);
});

// ---------------------------------------------------------------------------
// The end-to-end promise.

/** The seed's settings (Wagtail AI 2): a proxied LLM-backend model for text, the OpenAI backend for images. */
function wagtail2Settings(peerUrl: string): string {
  return `# Wagtail AI 2 settings (WAGTAIL_AI)
BACKENDS:
  default:
    CLASS: wagtail_ai.ai.llm.LLMBackend
    CONFIG:
      MODEL_ID: customgateway-gpt-3.5-turbo
      TOKEN_LIMIT: 4096
      PROMPT_KWARGS:
        system: A custom, global system prompt.
  vision:
    CLASS: wagtail_ai.ai.openai.OpenAIBackend
    CONFIG:
      MODEL_ID: gpt-4-vision-preview
      TOKEN_LIMIT: 128000
      API_BASE: ${peerUrl}
      OPENAI_API_KEY: sk-vision-secret
IMAGE_DESCRIPTION_BACKEND: vision
`;
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

async function runPrompts(settings: AISettings, llmUserPath: string) {
  const ai = createAI(settings, { llmUserPath, onWarning: () => {} });
  const text = ai.getBackend(BackendFeature.TEXT_COMPLETION);
  const splitter = await text.getTextSplitter();
  const answers: string[] = [];
  for (const chunk of splitter.splitText("Teh first paragraph.\n\nTeh second one.")) {
    const response = text.promptWithContext({ prePrompt: "Correct this:", context: chunk });
    let streamed = "";
    for await (const piece of response) streamed += piece;
    answers.push(streamed);
  }
  // Read whole, without iterating.
  answers.push(await text.promptWithContext({ prePrompt: "Summarise:", context: "One." }).text());
  const image = ai.getBackend(BackendFeature.IMAGE_DESCRIPTION);
  answers.push(await image.describeImage({ image: PNG, prompt: "Alt text for this image" }).text());
  return answers;
}

Deno.test("a Wagtail AI 2 settings file migrated with one command runs the same prompts against the peer", async () => {
  await using peer = await startPeer();
  const proxyYaml = SEED_PROXY_YAML.replace("https://yourcustomproxy.example.com/", peer.url);
  const llmUserPath = await userDir({ "extra-openai-models.yaml": proxyYaml });
  const oldFile = `${llmUserPath}/wagtail2.yaml`;
  const newFile = `${llmUserPath}/wagtail3.yaml`;
  try {
    await Deno.writeTextFile(oldFile, wagtail2Settings(peer.url));
    const before = await runPrompts(
      parseYaml(await Deno.readTextFile(oldFile), oldFile) as AISettings,
      llmUserPath,
    );
    const oldRequests = peer.requests.map((request) => ({ ...request }));
    peer.reset();

    // The one command.
    const run = await runCli(["--user-dir", llmUserPath, "migrate", "-o", newFile, oldFile]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /Migrated settings written to/);
    assert.equal((await Deno.stat(newFile)).mode! & 0o777, 0o600);

    const migrated = parseYaml(await Deno.readTextFile(newFile), newFile) as AISettings;
    assert.deepEqual(migrated.PROVIDERS, {
      default: {
        provider: "openai_compatible",
        model: "gpt-3.5-turbo",
        api_base: peer.url,
        headers: { apikey: "your-api-key" },
      },
      vision: {
        provider: "openai",
        model: "gpt-4-vision-preview",
        api_base: peer.url,
        api_key: "sk-vision-secret",
        timeout: 15,
      },
    });
    assert.equal(migrated.IMAGE_DESCRIPTION_PROVIDER, "vision");
    assert.equal(migrated.IMAGE_DESCRIPTION_BACKEND, undefined);

    const after = await runPrompts(migrated, llmUserPath);
    assert.deepEqual(after, before);
    assert.equal(before[0], "Echo: Correct this:\nTeh first paragraph.\n\nTeh second one.");
    assert.equal(before.at(-1), "Echo: Alt text for this image [image image/png 12 bytes]");
    assert.equal(peer.requests.length, oldRequests.length);
    peer.requests.forEach((request, index) => {
      const old = oldRequests[index];
      assert.equal(request.path, old.path);
      // The whole body: messages, model, options, stream flags, no added answer cap.
      assert.deepEqual(request.body, old.body);
      assert.equal(request.headers.apikey, old.headers.apikey);
      assert.equal(request.headers.authorization, old.headers.authorization);
    });
    // The proxy model got no OpenAI key, as with the llm tool; the vision one its own.
    assert.equal(peer.requests[0].headers.authorization, undefined);
    assert.equal(peer.requests[0].headers.apikey, "your-api-key");
    assert.equal(peer.requests.at(-1)!.headers.authorization, "Bearer sk-vision-secret");
  } finally {
    await Deno.remove(llmUserPath, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// CLI

Deno.test("cli migrate prints YAML then the notes as comments, with secrets hidden behind TODO placeholders", async () => {
  const dir = await userDir();
  const file = `${dir}/settings.yaml`;
  try {
    await Deno.writeTextFile(
      file,
      `BACKENDS:
  default:
    CLASS: openai
    CONFIG: {MODEL_ID: gpt-4o, OPENAI_API_KEY: sk-cli-secret}
  echo:
    CLASS: echo
    CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 10}
`,
    );
    const run = await runCli(["--user-dir", dir, "migrate", file]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes("sk-cli-secret"));
    const parsed = parseYaml(run.stdout, "stdout") as AISettings;
    assert.deepEqual(parsed.PROVIDERS?.default, {
      provider: "openai",
      model: "gpt-4o",
      api_key: "TODO: hidden here (migrate -o FILE or --show-secrets writes it)",
      timeout: 15,
    });
    assert.match(run.stdout, /\n# Migration notes:\n# - Backend "echo" is the echo backend/);
    assert.match(
      run.stdout,
      /# - Keys, header values and URLs with credentials are hidden behind "TODO: " placeholders/,
    );

    const shown = await runCli(["--user-dir", dir, "migrate", "--show-secrets", file]);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /api_key: sk-cli-secret/);
    assert.ok(!shown.stdout.includes("TODO"));

    const jsonFile = `${dir}/out.json`;
    const written = await runCli(["--user-dir", dir, "migrate", "--output", jsonFile, file]);
    assert.equal(written.code, 0);
    assert.ok(!written.stdout.includes("sk-cli-secret"));
    const json = JSON.parse(await Deno.readTextFile(jsonFile));
    assert.equal(json.PROVIDERS.default.api_key, "sk-cli-secret");
    assert.equal(json.BACKENDS.default.CLASS, "provider");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli migrate: bad arguments exit 2 with usage, a bad file exits 1 with one line", async () => {
  const missing = await runCli(["migrate"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Missing SETTINGS_FILE/);
  assert.match(missing.stderr, /Usage: migrate/);
  const extra = await runCli(["migrate", "a.yaml", "b.yaml"]);
  assert.equal(extra.code, 2);
  const unknown = await runCli(["migrate", "--nope", "a.yaml"]);
  assert.equal(unknown.code, 2);
  const absent = await runCli(["migrate", "/nonexistent/settings.yaml"]);
  assert.equal(absent.code, 1);
  assert.equal(absent.stderr.trim().split("\n").length, 1);
  assert.match(absent.stderr, /does not exist/);
  const dir = await userDir({ "bad.yaml": "BACKENDS: [\n" });
  try {
    const broken = await runCli(["migrate", `${dir}/bad.yaml`]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /line \d+, column \d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const help = await runCli(["migrate", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--show-secrets/);
});

Deno.test("cli providers lists each provider with its API, base URL and key variable", async () => {
  const run = await runCli(["providers"]);
  assert.equal(run.code, 0);
  const lines = run.stdout.trim().split("\n");
  assert.match(lines[0], /^PROVIDER\s+API\s+BASE URL\s+KEY VARIABLE$/);
  assert.ok(
    lines.some((line) =>
      /^openai\s+openai\s+https:\/\/api\.openai\.com\/v1\s+OPENAI_API_KEY$/.test(line)
    ),
  );
  // anthropic speaks the native Messages API; the OpenAI-compatible endpoint stays reachable.
  assert.ok(
    lines.some((line) =>
      /^anthropic\s+anthropic\s+https:\/\/api\.anthropic\.com\s+ANTHROPIC_API_KEY$/.test(line)
    ),
  );
  assert.ok(
    lines.some((line) =>
      /^anthropic_openai\s+openai\s+https:\/\/api\.anthropic\.com\/v1\s+ANTHROPIC_API_KEY$/
        .test(line)
    ),
  );
  assert.ok(
    lines.some((line) => /^gemini\s+openai\s+\S+\s+GEMINI_API_KEY or GOOGLE_API_KEY$/.test(line)),
  );
  assert.ok(
    lines.some((line) =>
      /^ollama\s+openai\s+http:\/\/localhost:11434\/v1\s+\(no key\)$/.test(line)
    ),
  );
  assert.ok(
    lines.some((line) => /^azure\s+openai\s+\(set api_base\)\s+AZURE_OPENAI_API_KEY$/.test(line)),
  );
  assert.ok(lines.some((line) => /^vllm\s+openai\s+\S+\s+VLLM_API_KEY \(optional\)$/.test(line)));
  const json = await runCli(["providers", "--json"]);
  assert.equal(json.code, 0);
  const infos = JSON.parse(json.stdout);
  const groq = infos.find((info: { name: string }) => info.name === "groq");
  assert.deepEqual(groq, {
    name: "groq",
    builtin: true,
    description: "Groq",
    baseURL: "https://api.groq.com/openai/v1",
    keyEnv: ["GROQ_API_KEY"],
    requiresKey: true,
    protocol: "openai",
    structuredOutput: "json_object",
  });
  const anthropic = infos.find((info: { name: string }) => info.name === "anthropic");
  assert.equal(anthropic.protocol, "anthropic");
  assert.equal(anthropic.structuredOutput, "auto");
  const bad = await runCli(["providers", "extra"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unexpected argument "extra"/);
});

Deno.test("cli usage lists the providers and migrate commands", async () => {
  const run = await runCli(["--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /providers\s+List the known providers/);
  assert.match(run.stdout, /migrate\s+Migrate a settings file/);
});

Deno.test("migrateSettings(): MAX_ANSWER_CHARS and MAX_EVENT_CHARS move to the provider", () => {
  const { settings, notes } = migrateSettings({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", MAX_ANSWER_CHARS: 100_000, MAX_EVENT_CHARS: 20_000 },
      },
    },
  });
  assert.deepEqual(settings.PROVIDERS?.default, {
    provider: "openai",
    model: "gpt-4o",
    timeout: 15,
    max_answer_chars: 100_000,
    max_event_chars: 20_000,
  });
  assert.deepEqual(notes, []);
});

Deno.test("cli migrate never prints a masked URL as a value: a URL with credentials becomes a TODO that createAI() refuses", async () => {
  const dir = await userDir();
  const file = `${dir}/settings.yaml`;
  try {
    await Deno.writeTextFile(
      file,
      `BACKENDS:
  default:
    CLASS: openai
    CONFIG:
      MODEL_ID: gpt-4o
      API_BASE: "https://user:pw-secret@proxy.example/v1?api-key=sk-in-url&region=eu"
`,
    );
    const run = await runCli(["--user-dir", dir, "migrate", file]);
    assert.equal(run.code, 0, run.stderr);
    for (const secret of ["sk-in-url", "pw-secret"]) assert.ok(!run.stdout.includes(secret));
    assert.ok(!run.stdout.includes("***"), run.stdout);
    const parsed = parseYaml(run.stdout, "stdout") as AISettings;
    assert.match(String(parsed.PROVIDERS?.default.api_base), /^TODO: /);
    assert.throws(
      () => createAI(parsed).getProvider(),
      (error: Error) =>
        error.name === "ImproperlyConfigured" && /api_base .*placeholder/.test(error.message),
    );

    // Written to a file, the URL is the real one.
    const out = `${dir}/out.yaml`;
    const written = await runCli(["--user-dir", dir, "migrate", "-o", out, file]);
    assert.equal(written.code, 0, written.stderr);
    assert.ok(!written.stdout.includes("sk-in-url"));
    const saved = parseYaml(await Deno.readTextFile(out), out) as AISettings;
    assert.equal(
      saved.PROVIDERS?.default.api_base,
      "https://user:pw-secret@proxy.example/v1?api-key=sk-in-url&region=eu",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createAI() refuses an api_base or API_BASE whose credentials are the mask of printed settings", () => {
  for (
    const url of [
      "https://***:***@proxy.example/v1",
      "https://proxy.example/v1?api-key=***",
      "https://proxy.example/v1?token=%2A%2A%2A",
    ]
  ) {
    assert.throws(
      () =>
        createAI({ PROVIDERS: { default: { provider: "openai", model: "gpt-4o", api_base: url } } })
          .getProvider(),
      (error: Error) =>
        error.name === "ImproperlyConfigured" && /api_base .*placeholder/.test(error.message),
      url,
    );
    assert.throws(
      () =>
        createAI({
          BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", API_BASE: url } } },
        }).getBackend(),
      (error: Error) =>
        error.name === "ImproperlyConfigured" && /API_BASE .*placeholder/.test(error.message),
      url,
    );
  }
});
