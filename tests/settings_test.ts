import assert from "node:assert/strict";
import {
  BackendFeature,
  BackendNotFound,
  createAI,
  DeprecationWarning,
  DummyLengthCalculator,
  DummyTextSplitter,
  EchoBackend,
  ImproperlyConfigured,
  InvalidAIBackendError,
  InvalidProviderError,
  loadSettings,
  NaiveTextSplitterCalculator,
  RecursiveCharacterTextSplitter,
  registerBackendClass,
  registerLengthCalculatorClass,
  registerTextSplitterClass,
  type TextSplitterOptions,
  TiktokenLengthCalculator,
  unregisterBackendClass,
} from "../mod.ts";
import { runScript } from "./_llm.ts";

const echo = (config: Record<string, unknown> = {}) => ({
  CLASS: "echo",
  CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1024, ...config },
});

Deno.test("getAIBackend() accepts upstream dotted, short and registered CLASS names and classes", () => {
  class MyEcho extends EchoBackend {}
  registerBackendClass("my-echo", MyEcho);
  const ai = createAI({
    BACKENDS: {
      dotted: { ...echo(), CLASS: "wagtail_ai.ai.echo.EchoBackend" },
      short: echo(),
      registered: { ...echo(), CLASS: "my-echo" },
      cls: { ...echo(), CLASS: MyEcho },
    },
  });
  assert.ok(ai.getAIBackend("dotted") instanceof EchoBackend);
  assert.ok(ai.getAIBackend("short") instanceof EchoBackend);
  assert.ok(ai.getAIBackend("registered") instanceof MyEcho);
  assert.ok(ai.getAIBackend("cls") instanceof MyEcho);
  assert.equal(ai.getAIBackend("short").alias, "short");
});

Deno.test("getAIBackend() rejects an unknown alias", () => {
  const ai = createAI({ BACKENDS: { default: echo() } });
  assert.throws(() => ai.getAIBackend("nope"), (error: Error) => {
    assert.ok(error instanceof InvalidAIBackendError);
    assert.match(error.message, /"nope"/);
    assert.match(error.message, /default/);
    return true;
  });
});

Deno.test("getAIBackend() rejects an unknown CLASS", () => {
  const ai = createAI({ BACKENDS: { default: { ...echo(), CLASS: "no.such.Backend" } } });
  assert.throws(() => ai.getAIBackend("default"), (error: Error) => {
    assert.ok(error instanceof InvalidAIBackendError);
    assert.ok(error instanceof ImproperlyConfigured);
    assert.match(error.message, /"default"/);
    assert.match(error.message, /"no\.such\.Backend" cannot be imported/);
    return true;
  });
});

Deno.test("registerBackendClass() rejects what is not a backend class", () => {
  assert.throws(() => registerBackendClass("x", (() => {}) as never), TypeError);
  assert.throws(() => registerBackendClass("", EchoBackend), TypeError);
  const arrow = Object.assign(() => {}, { parseConfig: () => ({}) });
  assert.throws(() => registerBackendClass("arrow", arrow as never), TypeError);
  // A bound class is still a class.
  const Bound = EchoBackend.bind(null) as unknown as typeof EchoBackend;
  Object.assign(Bound, { parseConfig: EchoBackend.parseConfig });
  registerBackendClass("bound-echo", Bound);
});

// deno-lint-ignore no-explicit-any
const BAD_BACKENDS: [string, unknown, new (...args: any[]) => Error, RegExp][] = [
  ["missing CONFIG", { CLASS: "echo" }, ImproperlyConfigured, /BACKENDS\["b"\] is missing CONFIG/],
  [
    "CONFIG not an object",
    { CLASS: "echo", CONFIG: "x" },
    ImproperlyConfigured,
    /CONFIG of backend "b" must be an object, got a string/,
  ],
  [
    "CONFIG an array",
    { CLASS: "echo", CONFIG: [] },
    ImproperlyConfigured,
    /CONFIG of backend "b" must be an object, got an array/,
  ],
  [
    "missing MODEL_ID",
    { CLASS: "echo", CONFIG: { TOKEN_LIMIT: 10 } },
    ImproperlyConfigured,
    /CONFIG of backend "b" is missing MODEL_ID/,
  ],
  [
    "empty MODEL_ID",
    { CLASS: "echo", CONFIG: { MODEL_ID: " ", TOKEN_LIMIT: 10 } },
    ImproperlyConfigured,
    /MODEL_ID in CONFIG of backend "b" must not be empty/,
  ],
  [
    "MODEL_ID a number",
    { CLASS: "echo", CONFIG: { MODEL_ID: 4, TOKEN_LIMIT: 10 } },
    ImproperlyConfigured,
    /MODEL_ID in CONFIG of backend "b" must be a string, got a number/,
  ],
  [
    "TOKEN_LIMIT zero",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 0 } },
    ImproperlyConfigured,
    /TOKEN_LIMIT in CONFIG of backend "b" must be a positive integer, got 0/,
  ],
  [
    "TOKEN_LIMIT fraction",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1.5 } },
    ImproperlyConfigured,
    /TOKEN_LIMIT .* got 1\.5/,
  ],
  [
    "TOKEN_LIMIT string",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: "100" } },
    ImproperlyConfigured,
    /TOKEN_LIMIT .* got a string/,
  ],
  [
    "TOKEN_LIMIT huge",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1e300 } },
    ImproperlyConfigured,
    /TOKEN_LIMIT/,
  ],
  [
    "TOKEN_LIMIT NaN",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: NaN } },
    ImproperlyConfigured,
    /TOKEN_LIMIT .* got NaN/,
  ],
  [
    "unknown model without TOKEN_LIMIT",
    { CLASS: "echo", CONFIG: { MODEL_ID: "mystery" } },
    ImproperlyConfigured,
    /"mystery".*TOKEN_LIMIT.*"b"/,
  ],
  [
    "unknown CONFIG key",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1, TOKEN_LIMT: 3 } },
    ImproperlyConfigured,
    /unknown key "TOKEN_LIMT"/,
  ],
  [
    "MAX_WORD_SLEEP_SECONDS negative",
    { CLASS: "echo", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1, MAX_WORD_SLEEP_SECONDS: -0.5 } },
    ImproperlyConfigured,
    /MAX_WORD_SLEEP_SECONDS in CONFIG of backend "b" must be a number from 0 to 2147483\.647/,
  ],
  [
    "missing CLASS",
    { CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1 } },
    InvalidAIBackendError,
    /"b": CLASS is missing/,
  ],
  [
    "CLASS a number",
    { CLASS: 3, CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1 } },
    InvalidAIBackendError,
    /"b": CLASS must be a name or a class/,
  ],
  [
    "CLASS a plain function",
    { CLASS: () => {}, CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1 } },
    InvalidAIBackendError,
    /not a backend class/,
  ],
  [
    "unknown short CLASS",
    { CLASS: "gpt", CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1 } },
    InvalidAIBackendError,
    /"gpt" is not a known backend/,
  ],
  ["entry not an object", "echo", ImproperlyConfigured, /BACKENDS\["b"\] must be an object/],
  [
    "unknown entry key",
    { ...echo(), EXTRA: 1 },
    ImproperlyConfigured,
    /BACKENDS\["b"\] has an unknown key "EXTRA"/,
  ],
  [
    "unknown splitter",
    { ...echo(), TEXT_SPLITTING: { SPLITTER_CLASS: "x.Y" } },
    ImproperlyConfigured,
    /SPLITTER_CLASS in TEXT_SPLITTING of backend "b" names an unknown class "x\.Y"/,
  ],
  [
    "unknown calculator",
    { ...echo(), TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "nah" } },
    ImproperlyConfigured,
    /SPLITTER_LENGTH_CALCULATOR_CLASS .* "nah"/,
  ],
  [
    "TEXT_SPLITTING not an object",
    { ...echo(), TEXT_SPLITTING: 1 },
    ImproperlyConfigured,
    /TEXT_SPLITTING of backend "b" must be an object/,
  ],
  [
    "unknown TEXT_SPLITTING key",
    { ...echo(), TEXT_SPLITTING: { SPLITER_CLASS: "dummy" } },
    ImproperlyConfigured,
    /unknown key "SPLITER_CLASS"/,
  ],
  [
    "CLASS an arrow function with a parseConfig (not constructible)",
    {
      CLASS: Object.assign(() => {}, { parseConfig: () => ({}) }),
      CONFIG: { MODEL_ID: "e", TOKEN_LIMIT: 1 },
    },
    InvalidAIBackendError,
    /"b": CLASS is a function but not a backend class/,
  ],
  [
    "SPLITTER_CLASS an arrow function",
    { ...echo(), TEXT_SPLITTING: { SPLITTER_CLASS: () => {} } },
    ImproperlyConfigured,
    /SPLITTER_CLASS in TEXT_SPLITTING of backend "b" is a function but not a usable class/,
  ],
  [
    "SPLITTER_LENGTH_CALCULATOR_CLASS an arrow function",
    { ...echo(), TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: () => 1 } },
    ImproperlyConfigured,
    /SPLITTER_LENGTH_CALCULATOR_CLASS in TEXT_SPLITTING of backend "b" is a function but not a usable class/,
  ],
  [
    "prototype pollution in CONFIG",
    { CLASS: "echo", CONFIG: JSON.parse('{"MODEL_ID":"e","TOKEN_LIMIT":1,"__proto__":{"x":1}}') },
    ImproperlyConfigured,
    /forbidden key "__proto__"/,
  ],
];

for (const [name, entry, errorClass, pattern] of BAD_BACKENDS) {
  Deno.test(`getAIBackend() rejects bad settings: ${name}`, () => {
    const ai = createAI({ BACKENDS: { b: entry as never } });
    assert.throws(() => ai.getAIBackend("b"), (error: Error) => {
      assert.ok(error instanceof errorClass, `${error.name}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    });
  });
}

const BAD_TOP: [string, unknown, RegExp][] = [
  ["settings not an object", "x", /AI settings must be an object, got a string/],
  ["unknown top-level key", { BACKEND: {} }, /unknown key "BACKEND"/],
  ["BACKENDS an array", { BACKENDS: [] }, /BACKENDS must be an object, got an array/],
  ["PROVIDERS a string", { PROVIDERS: "x" }, /PROVIDERS must be an object/],
  [
    "TEXT_COMPLETION_BACKEND a number",
    { TEXT_COMPLETION_BACKEND: 1 },
    /TEXT_COMPLETION_BACKEND in AI settings must be a string/,
  ],
  [
    "IMAGE_DESCRIPTION_PROVIDER empty",
    { IMAGE_DESCRIPTION_PROVIDER: "" },
    /IMAGE_DESCRIPTION_PROVIDER in AI settings must not be empty/,
  ],
  ["__proto__ at the top", JSON.parse('{"__proto__": {}}'), /forbidden key "__proto__"/],
];

for (const [name, settings, pattern] of BAD_TOP) {
  Deno.test(`createAI() rejects bad settings: ${name}`, () => {
    assert.throws(() => createAI(settings as never), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, pattern);
      return true;
    });
  });
}

Deno.test("getBackend() uses TEXT_COMPLETION_BACKEND, else default", () => {
  const ai = createAI({ BACKENDS: { default: echo(), other: echo({ TOKEN_LIMIT: 7 }) } });
  assert.equal(ai.getBackend().alias, "default");
  assert.equal(ai.getBackend(BackendFeature.TEXT_COMPLETION).alias, "default");
  const ai2 = createAI({ BACKENDS: { other: echo() }, TEXT_COMPLETION_BACKEND: "other" });
  assert.equal(ai2.getBackend().alias, "other");
});

Deno.test("getBackend() raises BackendNotFound for IMAGE_DESCRIPTION without a backend", () => {
  const ai = createAI({ BACKENDS: { default: echo() } });
  assert.throws(() => ai.getBackend(BackendFeature.IMAGE_DESCRIPTION), (error: Error) => {
    assert.ok(error instanceof BackendNotFound);
    assert.equal(error.message, "No backend found for IMAGE_DESCRIPTION");
    return true;
  });
});

Deno.test("getBackend() uses IMAGE_DESCRIPTION_BACKEND and warns that it is deprecated", () => {
  const warnings: Error[] = [];
  const ai = createAI(
    { BACKENDS: { vision: echo() }, IMAGE_DESCRIPTION_BACKEND: "vision" },
    { onWarning: (w) => warnings.push(w) },
  );
  assert.equal(ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).alias, "vision");
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof DeprecationWarning);
  assert.match(warnings[0].message, /IMAGE_DESCRIPTION_PROVIDER/);
});

Deno.test("getBackend() rejects an unknown feature", () => {
  const ai = createAI({ BACKENDS: { default: echo() } });
  assert.throws(() => ai.getBackend("TRANSLATION" as never), TypeError);
});

Deno.test("createAI() without BACKENDS configures the LLM backend with gpt-3.5-turbo", () => {
  const ai = createAI();
  const raw = (ai as unknown as { settings: Record<string, unknown> }).settings;
  assert.equal(raw.BACKENDS, undefined);
  // The default backend's settings, as in Wagtail AI.
  assert.throws(() => ai.getAIBackend("other"), /known: default/);
});

Deno.test("TEXT_SPLITTING selects splitter and calculator by dotted name, short name or class", async () => {
  const ai = createAI({
    BACKENDS: {
      dotted: {
        ...echo(),
        TEXT_SPLITTING: {
          SPLITTER_CLASS: "wagtail_ai.text_splitters.dummy.DummyTextSplitter",
          SPLITTER_LENGTH_CALCULATOR_CLASS: "wagtail_ai.text_splitters.dummy.DummyLengthCalculator",
        },
      },
      short: {
        ...echo(),
        TEXT_SPLITTING: {
          SPLITTER_CLASS: "recursive",
          SPLITTER_LENGTH_CALCULATOR_CLASS: "tiktoken",
        },
      },
      cls: {
        ...echo(),
        TEXT_SPLITTING: {
          SPLITTER_CLASS: DummyTextSplitter,
          SPLITTER_LENGTH_CALCULATOR_CLASS: DummyLengthCalculator,
        },
      },
      defaults: echo(),
    },
  });
  assert.ok((await ai.getAIBackend("dotted").getTextSplitter()) instanceof DummyTextSplitter);
  assert.ok(
    (await ai.getAIBackend("dotted").getSplitterLengthCalculator()) instanceof
      DummyLengthCalculator,
  );
  assert.ok(
    (await ai.getAIBackend("short").getTextSplitter()) instanceof RecursiveCharacterTextSplitter,
  );
  assert.ok(
    (await ai.getAIBackend("short").getSplitterLengthCalculator()) instanceof
      TiktokenLengthCalculator,
  );
  assert.ok((await ai.getAIBackend("cls").getTextSplitter()) instanceof DummyTextSplitter);
  const splitter = await ai.getAIBackend("defaults").getTextSplitter();
  assert.ok(splitter instanceof RecursiveCharacterTextSplitter);
  assert.equal(splitter.chunkSize, 1024);
  assert.ok(
    (await ai.getAIBackend("defaults").getSplitterLengthCalculator()) instanceof
      NaiveTextSplitterCalculator,
  );
});

Deno.test("a custom splitter class gets the chunk size, length function and model id", async () => {
  const seen: unknown[] = [];
  class Spy {
    constructor(options: unknown) {
      seen.push(options);
    }
    splitText(text: string) {
      return [text];
    }
  }
  const ai = createAI({
    BACKENDS: { default: { ...echo(), TEXT_SPLITTING: { SPLITTER_CLASS: Spy } } },
  });
  await ai.getAIBackend("default").getTextSplitter();
  const options = seen[0] as {
    chunkSize: number;
    modelId: string;
    lengthFunction: (t: string) => number;
  };
  assert.equal(options.chunkSize, 1024);
  assert.equal(options.modelId, "echo");
  assert.equal(options.lengthFunction("Hello, world!"), 4);
});

Deno.test("loadSettings() reads YAML and JSON files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/s.yaml`,
      "BACKENDS:\n  default:\n    CLASS: echo\n    CONFIG:\n      MODEL_ID: echo\n      TOKEN_LIMIT: 50\n",
    );
    await Deno.writeTextFile(`${dir}/s.json`, JSON.stringify({ BACKENDS: { default: echo() } }));
    const fromYaml = createAI(await loadSettings(`${dir}/s.yaml`));
    assert.equal(fromYaml.getBackend().config.tokenLimit, 50);
    const fromJson = createAI(await loadSettings(`${dir}/s.json`));
    assert.equal(fromJson.getBackend().config.tokenLimit, 1024);
    await Deno.writeTextFile(`${dir}/empty.yaml`, "");
    assert.deepEqual(await loadSettings(`${dir}/empty.yaml`), {});
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSettings() names the file, line and column of a YAML error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bad.yaml`;
    await Deno.writeTextFile(path, "BACKENDS:\n  default:\n    CLASS: echo\n   CONFIG: [\n");
    await assert.rejects(loadSettings(path), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.ok(error.message.includes(path));
      assert.match(error.message, /line \d+, column \d+/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSettings() rejects missing files, bad JSON, non-objects, YAML bombs and custom tags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadSettings(`${dir}/none.yaml`), /does not exist/);
    await Deno.writeTextFile(`${dir}/bad.json`, "{nope");
    await assert.rejects(loadSettings(`${dir}/bad.json`), /bad\.json" is not valid JSON/);
    await Deno.writeTextFile(`${dir}/list.yaml`, "- a\n- b\n");
    await assert.rejects(loadSettings(`${dir}/list.yaml`), /must be an object, got an array/);
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) {
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${
          Array(9).fill("*" + String.fromCharCode(96 + i)).join(", ")
        }]`,
      );
    }
    await Deno.writeTextFile(`${dir}/bomb.yaml`, bomb.join("\n"));
    await assert.rejects(
      loadSettings(`${dir}/bomb.yaml`),
      (error: Error) => error instanceof ImproperlyConfigured && /bomb\.yaml/.test(error.message),
    );
    await Deno.writeTextFile(`${dir}/deep.yaml`, "a: " + "[".repeat(500) + "]".repeat(500));
    await assert.rejects(loadSettings(`${dir}/deep.yaml`), ImproperlyConfigured);
    await Deno.writeTextFile(`${dir}/tag.yaml`, "BACKENDS: !!js/function 'function () {}'\n");
    await assert.rejects(loadSettings(`${dir}/tag.yaml`), ImproperlyConfigured);
    await assert.rejects(loadSettings(""), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createAI() rejects bad options", () => {
  assert.throws(() => createAI({}, { onWarning: "x" as never }), TypeError);
  assert.throws(() => createAI({}, { llmUserPath: 3 as never }), TypeError);
});

Deno.test("warnings go to console.warn once per message without onWarning", async () => {
  const original = console.warn;
  const seen: string[] = [];
  console.warn = (...args: unknown[]) => seen.push(args.join(" "));
  try {
    // The constructor's warning, then what the onEvent hook throws: each event type's message
    // printed once, however many requests report it. (The IMAGE_DESCRIPTION_BACKEND warning is
    // once per process: tests/image_backend_settings_test.ts.)
    const ai = createAI({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
      IMAGE_DESCRIPTION_BACKEND: "only-in-this-test",
    }, {
      onEvent: () => {
        throw new Error("the hook failed");
      },
    });
    assert.equal(seen.length, 1);
    assert.match(seen[0], /^Warning: IMAGE_DESCRIPTION_BACKEND is deprecated/);
    await ai.getBackend().promptWithContext({ prePrompt: "", context: "one" }).text();
    const afterFirst = seen.length;
    assert.ok(afterFirst > 1, seen.join("\n"));
    for (const line of seen.slice(1)) {
      assert.match(line, /^Warning: onEvent threw for a "\w+" event: the hook failed$/);
    }
    await ai.getBackend().promptWithContext({ prePrompt: "", context: "two" }).text();
    assert.equal(seen.length, afterFirst, seen.join("\n"));
    assert.equal(new Set(seen).size, seen.length);
  } finally {
    console.warn = original;
  }
});

Deno.test("loadSettings() keeps the text of a bad JSON file out of the error message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/leak.json`;
    // An unquoted or single-quoted key: the JSON parser quotes the text around the error.
    for (
      const text of [
        '{"PROVIDERS": {"default": {"api_key": sk-unquoted-secret-0123456789}}}',
        '{"PROVIDERS": {"default": {"api_key": \'sk-unquoted-secret-0123456789\'}}}',
        '{"api_key": sk-short}',
      ]
    ) {
      await Deno.writeTextFile(path, text);
      await assert.rejects(loadSettings(path), (error: Error) => {
        assert.ok(error instanceof ImproperlyConfigured);
        assert.ok(error.message.includes(path), error.message);
        assert.match(error.message, /is not valid JSON: Unexpected token/);
        assert.ok(!error.message.includes("sk-"), error.message);
        assert.ok(!error.message.includes("api_key"), error.message);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadSettings() reads a JSON file that starts with a byte order mark", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/bom.json`,
      "\uFEFF" + JSON.stringify({ BACKENDS: { default: echo() } }),
    );
    const ai = createAI(await loadSettings(`${dir}/bom.json`));
    assert.equal(ai.getBackend().config.tokenLimit, 1024);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('IMAGE_DESCRIPTION_BACKEND: null (an empty YAML value) is unset: no warning, no alias "null"', async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.yaml`;
    await Deno.writeTextFile(
      path,
      [
        "BACKENDS:",
        "  default: {CLASS: echo, CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 10}}",
        "  vision: {CLASS: echo, CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 10}}",
        "IMAGE_DESCRIPTION_BACKEND:",
        "IMAGE_DESCRIPTION_PROVIDER: vision",
        "",
      ].join("\n"),
    );
    const warnings: Error[] = [];
    const ai = createAI(await loadSettings(path), { onWarning: (w) => warnings.push(w) });
    assert.equal(ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).alias, "vision");
    assert.equal(warnings.length, 0);
    const nullBackend = { BACKENDS: { default: echo() }, IMAGE_DESCRIPTION_BACKEND: null };
    const none = createAI(nullBackend as never, { onWarning: (w) => warnings.push(w) });
    assert.throws(() => none.getBackend(BackendFeature.IMAGE_DESCRIPTION), BackendNotFound);
    assert.equal(warnings.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("API_BASE and api_base are trimmed: a trailing newline or space does not end up in the URL", () => {
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o",
          OPENAI_API_KEY: "sk-x",
          API_BASE: " https://proxy.example.com/v1/ \n",
        },
      },
    },
    PROVIDERS: {
      default: {
        provider: "openai",
        model: "m",
        api_key: "sk-x",
        api_base: "https://p.example.com/v1/\n",
      },
    },
  });
  assert.equal(
    (ai.getAIBackend("default").config as { apiBase?: string }).apiBase,
    "https://proxy.example.com/v1",
  );
  const provider = ai.getProvider() as unknown as { config: { baseURL: string } };
  assert.equal(provider.config.baseURL, "https://p.example.com/v1");
});

Deno.test("getAIBackend() takes a custom class whose parseConfig() returns a frozen config", async () => {
  class FrozenEcho extends EchoBackend {
    static override parseConfig(
      raw: Record<string, unknown>,
      context: Parameters<typeof EchoBackend.parseConfig>[1],
    ): ReturnType<typeof EchoBackend.parseConfig> {
      return Object.freeze(super.parseConfig(raw, context));
    }
  }
  const ai = createAI({ BACKENDS: { default: { ...echo(), CLASS: FrozenEcho } } });
  const backend = ai.getAIBackend("default");
  assert.ok(backend instanceof FrozenEcho);
  assert.equal(
    await backend.promptWithContext({ prePrompt: "", context: "hi" }).text(),
    "This is an echo backend: hi",
  );
  assert.ok(Object.isFrozen(backend.config));
  // Its secrets are masked when printed, like any config's.
  class KeyedFrozen extends EchoBackend {
    static override parseConfig(
      raw: Record<string, unknown>,
      context: Parameters<typeof EchoBackend.parseConfig>[1],
    ): ReturnType<typeof EchoBackend.parseConfig> {
      return Object.freeze({ ...super.parseConfig(raw, context), apiKey: "sk-frozen-secret" });
    }
  }
  const keyed = createAI({ BACKENDS: { default: { ...echo(), CLASS: KeyedFrozen } } })
    .getAIBackend("default");
  assert.equal((keyed.config as unknown as { apiKey: string }).apiKey, "sk-frozen-secret");
  assert.doesNotMatch(Deno.inspect(keyed.config), /sk-frozen-secret/);
  assert.doesNotMatch(JSON.stringify(keyed.config), /sk-frozen-secret/);
});

Deno.test("getAIBackend() and getProviderSettings() list at most 20 known aliases in an error", () => {
  const backends: Record<string, unknown> = {};
  const providers: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) {
    backends[`b${i}`] = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } };
    providers[`p${i}`] = { provider: "openai", model: "gpt-4o" };
  }
  const ai = createAI({ BACKENDS: backends as never, PROVIDERS: providers as never });
  assert.throws(
    () => ai.getAIBackend("missing"),
    (error: Error) =>
      error instanceof InvalidAIBackendError &&
      error.message ===
        `Invalid AI backend "missing": no such alias in BACKENDS (known: ${
          Array.from({ length: 20 }, (_, i) => `b${i}`).join(", ")
        } and 80 more)`,
  );
  assert.throws(
    () => ai.getProviderSettings("missing"),
    (error: Error) =>
      error instanceof ImproperlyConfigured &&
      / \(known: p0, p1, .*, p19 and 80 more\)$/.test(error.message),
  );
  assert.throws(
    () => createAI({}).getProviderSettings("missing"),
    (error: Error) =>
      error instanceof InvalidProviderError &&
      /No provider "missing" in PROVIDERS \(known: none\)/.test(error.message),
  );
  assert.throws(() => ai.getProvider("missing"), InvalidProviderError);
});

Deno.test("registerTextSplitterClass() and registerLengthCalculatorClass() add names for TEXT_SPLITTING", async () => {
  const seen: TextSplitterOptions[] = [];
  class Halves {
    constructor(options: TextSplitterOptions) {
      seen.push(options);
    }
    splitText(text: string): string[] {
      return [text.slice(0, text.length >> 1), text.slice(text.length >> 1)];
    }
  }
  class Words {
    getSplitterLength(text: string): number {
      return text.split(/\s+/).filter(Boolean).length;
    }
  }
  registerTextSplitterClass("test-halves", Halves);
  registerLengthCalculatorClass("test-words", Words);
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "echo",
        CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 7 },
        TEXT_SPLITTING: {
          SPLITTER_CLASS: "test-halves",
          SPLITTER_LENGTH_CALCULATOR_CLASS: "test-words",
        },
      },
    },
  });
  const backend = ai.getBackend();
  assert.deepEqual((await backend.getTextSplitter()).splitText("abcd"), ["ab", "cd"]);
  assert.equal(seen[0].chunkSize, 7);
  assert.equal(seen[0].modelId, "echo");
  assert.equal(seen[0].lengthFunction("one two three"), 3);
  assert.equal((await backend.getSplitterLengthCalculator()).getSplitterLength("a b"), 2);
});

Deno.test("registerTextSplitterClass() and registerLengthCalculatorClass() reject an empty name or a non-class", () => {
  class Fine {
    splitText(text: string): string[] {
      return [text];
    }
    getSplitterLength(text: string): number {
      return text.length;
    }
  }
  for (const register of [registerTextSplitterClass, registerLengthCalculatorClass]) {
    assert.throws(() => register("", Fine as never), /needs a non-empty name/);
    assert.throws(() => register(" ", Fine as never), TypeError);
    assert.throws(() => register(3 as never, Fine as never), TypeError);
    assert.throws(() => register("x", (() => {}) as never), /\("x"\) needs a .* class/);
    assert.throws(() => register("x", "recursive" as never), TypeError);
  }
  // Nothing was added under "x".
  assert.throws(
    () =>
      createAI({
        BACKENDS: {
          default: {
            CLASS: "echo",
            CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 7 },
            TEXT_SPLITTING: { SPLITTER_CLASS: "x" },
          },
        },
      }).getBackend(),
    /SPLITTER_CLASS in TEXT_SPLITTING of backend "default" names an unknown class "x"/,
  );
});

Deno.test("getBackend() with PROVIDERS but no BACKENDS warns that text goes to the default LLM backend", () => {
  const warnings: Error[] = [];
  const ai = createAI({
    PROVIDERS: { default: { provider: "mistral", model: "mistral-small-latest", api_key: "mk" } },
  }, { onWarning: (warning) => warnings.push(warning), llmUserPath: "/nonexistent-llm-dir" });
  assert.equal(ai.getBackend().config.modelId, "gpt-3.5-turbo");
  ai.getBackend();
  ai.getBackend();
  assert.equal(warnings.length, 1, "once per AI, not per call");
  assert.match(
    warnings[0].message,
    /BACKENDS is not set, so getBackend\(\) uses the default LLM backend \(gpt-3\.5-turbo\), not PROVIDERS\["default"\]: add BACKENDS: \{default: \{CLASS: "provider", CONFIG: \{\}\}\}/,
  );
  assert.doesNotMatch(warnings[0].message, /mk/);
  // With BACKENDS, or without PROVIDERS, no such warning.
  const quiet: Error[] = [];
  createAI({}, { onWarning: (w) => quiet.push(w), llmUserPath: "/nonexistent-llm-dir" })
    .getBackend();
  createAI({
    BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
    PROVIDERS: { default: { provider: "ollama", model: "llama3.1" } },
  }, { onWarning: (w) => quiet.push(w) }).getBackend();
  // PROVIDERS for images only: the default backend is what was asked for.
  createAI({
    PROVIDERS: { vision: { provider: "ollama", model: "llava" } },
    IMAGE_DESCRIPTION_PROVIDER: "vision",
  }, { onWarning: (w) => quiet.push(w), llmUserPath: "/nonexistent-llm-dir" }).getBackend();
  assert.deepEqual(quiet, []);
});

Deno.test("getBackend(IMAGE_DESCRIPTION) with IMAGE_DESCRIPTION_PROVIDER but no such backend says how to add one", () => {
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } } },
    PROVIDERS: { vision: { provider: "openai", model: "gpt-4o", api_key: "sk-x" } },
    IMAGE_DESCRIPTION_PROVIDER: "vision",
  });
  assert.throws(() => ai.getBackend(BackendFeature.IMAGE_DESCRIPTION), (error: Error) => {
    assert.ok(error instanceof BackendNotFound);
    assert.equal(
      error.message,
      'No backend found for IMAGE_DESCRIPTION: IMAGE_DESCRIPTION_PROVIDER is "vision" but BACKENDS has no "vision"; ' +
        'add BACKENDS["vision"] = {CLASS: "provider", CONFIG: {PROVIDER: "vision"}}, or use getProviderFor("IMAGE_DESCRIPTION")',
    );
    return true;
  });
});

Deno.test("AI.check() reports every problem of the settings at once, in order, without sending anything", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ai = createAI({
      BACKENDS: {
        default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
        typo: { CLASS: "opnai", CONFIG: { MODEL_ID: "gpt-4o" } },
        badConfig: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: -1 } },
        openaiNoKey: {
          CLASS: "openai",
          CONFIG: { MODEL_ID: "gpt-4o", API_BASE: "http://127.0.0.1:9/v1" },
        },
        llmNoKey: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o" } },
        llmUnknown: { CLASS: "llm", CONFIG: { MODEL_ID: "no-such-model-here" } },
        openaiKeyed: {
          CLASS: "openai",
          CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk-check-key" },
        },
      },
      PROVIDERS: {
        default: { provider: "ollama", model: "llama3.1" },
        broken: { provider: "mistrall", model: "m" },
        keyless: { provider: "groq", model: "llama", api_key_env: "NO_SUCH_KEY_VARIABLE_X" },
      },
      IMAGE_DESCRIPTION_PROVIDER: "vision",
    }, { llmUserPath: dir });
    const problems = ai.check();
    const shown = problems.map((problem) => `${problem.name}: ${problem.message}`);
    const expected: [string, RegExp][] = [
      ["InvalidAIBackendError", /"typo"/],
      ["ImproperlyConfigured", /TOKEN_LIMIT.*"badConfig"|"badConfig".*TOKEN_LIMIT/],
      ["MissingAPIKeyError", /backend "openaiNoKey"/],
      ["MissingAPIKeyError", /model "gpt-4o"/],
      ["UnknownModelError", /"no-such-model-here"/],
      ["ImproperlyConfigured", /"mistrall"/],
      ["MissingAPIKeyError", /NO_SUCH_KEY_VARIABLE_X/],
      ["InvalidProviderError", /No provider "vision" in PROVIDERS/],
    ];
    const withEnvKey = Deno.env.get("OPENAI_API_KEY");
    // With OPENAI_API_KEY set where the tests run, the two OpenAI key problems go away.
    const wanted = withEnvKey
      ? expected.filter(([, pattern]) => !/gpt-4o"|openaiNoKey/.test(String(pattern)))
      : expected;
    assert.equal(problems.length, wanted.length, shown.join("\n"));
    wanted.forEach(([name, pattern], index) => {
      assert.equal(problems[index].name, name, shown[index]);
      assert.match(problems[index].message, pattern, shown[index]);
    });
    assert.doesNotMatch(shown.join("\n"), /sk-check-key/);
    // A provider backend and its provider entry: one problem, reported once.
    const once = createAI({
      BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
      PROVIDERS: {
        default: { provider: "groq", model: "m", api_key_env: "NO_SUCH_KEY_VARIABLE_Y" },
      },
    }).check();
    assert.equal(once.length, 1, once.map((problem) => problem.message).join("\n"));

    const fine = createAI({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
      PROVIDERS: { default: { provider: "ollama", model: "llama3.1" } },
    });
    assert.deepEqual(fine.check(), []);
    assert.throws(
      () => createAI({ BACKENDS: {}, TEXT_COMPLETION_BACKEND: "missing" }).getBackend(),
      InvalidAIBackendError,
    );
    const missingText = createAI({ BACKENDS: {}, TEXT_COMPLETION_BACKEND: "missing" }).check();
    assert.equal(missingText.length, 1);
    assert.ok(missingText[0] instanceof InvalidAIBackendError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AI.preload() loads the backends' tokenizers before the first request", async () => {
  // A child process, so what earlier tests loaded does not count.
  const script = `
    import { createAI } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    import { loadedEncoding } from ${
    JSON.stringify(new URL("../_tokenizer/mod.ts", import.meta.url).href)
  };
    const echo = createAI({ BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 9 } } } });
    await echo.preload();
    const afterEcho = [!!loadedEncoding("o200k_base"), !!loadedEncoding("cl100k_base")];
    const ai = createAI({
      BACKENDS: {
        default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "k" } },
        old: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 9 },
               TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "tiktoken" } },
        broken: { CLASS: "nope", CONFIG: {} },
      },
    });
    await ai.preload();
    console.log(JSON.stringify({ afterEcho, after: [!!loadedEncoding("o200k_base")] }));
  `;
  const run = await runScript(script, {}, ["--allow-read", "--allow-env"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), {
    afterEcho: [false, false],
    after: [true],
  });
});

Deno.test("unregisterBackendClass() removes a registration and restores a built-in name it replaced", () => {
  class Mine extends EchoBackend {}
  registerBackendClass("test-unregister-backend", Mine);
  assert.equal(unregisterBackendClass("test-unregister-backend"), true);
  assert.equal(unregisterBackendClass("test-unregister-backend"), false);
  assert.throws(
    () =>
      createAI({ BACKENDS: { default: { ...echo(), CLASS: "test-unregister-backend" } } })
        .getBackend(),
    InvalidAIBackendError,
  );
  registerBackendClass("echo", Mine);
  assert.ok(createAI({ BACKENDS: { default: echo() } }).getBackend() instanceof Mine);
  assert.equal(unregisterBackendClass("echo"), true);
  const restored = createAI({ BACKENDS: { default: echo() } }).getBackend();
  assert.ok(restored instanceof EchoBackend && !(restored instanceof Mine));
  assert.equal(unregisterBackendClass("echo"), false, "a built-in stays");
  assert.equal(unregisterBackendClass("no-such-name"), false);
});

Deno.test("createAI() names the class of an object that is not plain (CONFIG: new Date())", () => {
  for (
    const [value, got] of [
      [new Date(0), "a Date"],
      [new Map(), "a Map"],
      [new Error("x"), "an Error"],
      [Object.create(null), undefined],
    ] as const
  ) {
    const settings = { BACKENDS: { default: { CLASS: "echo", CONFIG: value } } };
    if (got === undefined) {
      // A null-prototype object is a plain object.
      assert.throws(() => createAI(settings as never).getBackend(), /MODEL_ID|TOKEN_LIMIT/);
      continue;
    }
    assert.throws(
      () => createAI(settings as never).getBackend(),
      (error: unknown) => {
        assert.ok(error instanceof ImproperlyConfigured, String(error));
        assert.match(error.message, new RegExp(`must be an object, got ${got}$`));
        return true;
      },
    );
  }
});

Deno.test("AI.check() with only PROVIDERS reports no problem of the default backend nobody configured", async () => {
  const dir = await Deno.makeTempDir();
  const previous = Deno.env.get("OPENAI_API_KEY");
  Deno.env.delete("OPENAI_API_KEY");
  try {
    const ai = createAI({
      PROVIDERS: {
        default: { provider: "openai", model: "gpt-4o-mini", api_key: "sk-providers-only" },
        vision: { provider: "openai", model: "gpt-4o", api_key: "sk-providers-vision" },
      },
      IMAGE_DESCRIPTION_PROVIDER: "vision",
    }, { llmUserPath: dir });
    assert.deepEqual(ai.check().map((problem) => problem.message), []);
    // A problem of a provider is still reported, once.
    const broken = createAI({
      PROVIDERS: { default: { provider: "groq", model: "m", api_key_env: "NO_SUCH_KEY_VAR_Z" } },
    }, { llmUserPath: dir }).check();
    assert.deepEqual(broken.map((problem) => problem.name), ["MissingAPIKeyError"]);
    assert.match(broken[0].message, /NO_SUCH_KEY_VAR_Z/);
    // Without PROVIDERS either, the default backend is what the application uses: its key is checked.
    const none = createAI({}, { llmUserPath: dir }).check();
    assert.deepEqual(none.map((problem) => problem.name), ["MissingAPIKeyError"]);
  } finally {
    if (previous !== undefined) Deno.env.set("OPENAI_API_KEY", previous);
    await Deno.remove(dir, { recursive: true });
  }
});
