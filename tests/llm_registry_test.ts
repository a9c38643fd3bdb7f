import assert from "node:assert/strict";
import {
  getDefaultModelId,
  getModel,
  getUserDir,
  ImproperlyConfigured,
  listModels,
  LLMModel,
  MissingAPIKeyError,
  type Model,
  modelLabel,
  OpenAIChatModel,
  registerPlugin,
  resolveModelKey,
  setKey,
  supportsImages,
  UnknownModelError,
  unregisterPlugin,
  validateModelOptions,
} from "../mod.ts";
import { runScript, tempUserDir } from "./_llm.ts";

const SEED_YAML = `- model_id: customgateway-gpt-3.5-turbo
  model_name: gpt-3.5-turbo
  api_base: "https://yourcustomproxy.example.com/"
  headers:
    apikey: your-api-key
`;

Deno.test("getModel() resolves built-in ids and the llm tool's aliases", async () => {
  await using dir = await tempUserDir();
  const userPath = dir.path;
  const expected: Record<string, string> = {
    "3.5": "gpt-3.5-turbo",
    "chatgpt": "gpt-3.5-turbo",
    "4": "gpt-4",
    "4t": "gpt-4-turbo",
    "4o": "gpt-4o",
    "4o-mini": "gpt-4o-mini",
    "4.1": "gpt-4.1",
    "4.1-mini": "gpt-4.1-mini",
    "4.1-nano": "gpt-4.1-nano",
  };
  for (const [alias, id] of Object.entries(expected)) {
    assert.equal(getModel(alias, { userPath }).modelId, id, alias);
  }
  for (
    const id of [
      "gpt-3.5-turbo",
      "gpt-4",
      "gpt-4-turbo",
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "gpt-4.1-nano",
      "o1",
      "o3",
      "o3-mini",
      "o4-mini",
      "gpt-5",
      "gpt-5-mini",
      "gpt-5-nano",
    ]
  ) {
    const model = getModel(id, { userPath });
    assert.equal(model.modelId, id);
    assert.equal(modelLabel(model), "OpenAI Chat");
    assert.equal(model.needsKey, "openai");
    assert.equal(model.keyEnvVar, "OPENAI_API_KEY");
    assert.ok(model.contextWindow! > 0, `${id} has a context window`);
  }
  assert.equal(getModel("GPT-4O", { userPath }).modelId, "gpt-4o", "case-insensitive fallback");
});

Deno.test("built-in models carry their capabilities (streaming, vision, reasoning options)", async () => {
  await using dir = await tempUserDir();
  const userPath = dir.path;
  assert.equal(supportsImages(getModel("gpt-4o-mini", { userPath })), true);
  assert.equal(supportsImages(getModel("gpt-4.1", { userPath })), true);
  assert.equal(supportsImages(getModel("gpt-3.5-turbo", { userPath })), false);
  assert.equal(supportsImages(getModel("o3-mini", { userPath })), false);
  assert.equal(getModel("o1", { userPath }).canStream, false);
  assert.equal(getModel("gpt-4o", { userPath }).canStream, true);
  assert.ok("reasoning_effort" in getModel("o3", { userPath }).optionSchema!);
  assert.ok(!("reasoning_effort" in getModel("gpt-4o", { userPath }).optionSchema!));
  assert.equal(getModel("gpt-4-1106-preview", { userPath }).contextWindow, 128_000);
});

Deno.test("getModel() rejects an unknown model with UnknownModelError suggesting models", async () => {
  await using dir = await tempUserDir();
  assert.throws(() => getModel("gpt-17", { userPath: dir.path }), (error: Error) => {
    assert.ok(error instanceof UnknownModelError);
    assert.ok(error instanceof ImproperlyConfigured);
    assert.equal(error.modelId, "gpt-17");
    assert.match(error.message, /"gpt-17"/);
    assert.match(error.message, /"models" command/);
    return true;
  });
  assert.throws(() => getModel("", { userPath: dir.path }), TypeError);
});

Deno.test("listModels() lists built-ins, then extra-openai-models.yaml, then plugin models", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": "- model_id: extra-one\n  aliases: [e1]\n",
  });
  registerPlugin({
    name: "order-test",
    registerModels(register) {
      register({ modelId: "plugin-one", async *execute() {} }, { aliases: ["p1"] });
    },
  });
  try {
    const entries = listModels({ userPath: dir.path });
    const ids = entries.map((entry) => entry.model.modelId);
    assert.equal(ids[0], "gpt-4o");
    const extra = ids.indexOf("extra-one");
    const plugin = ids.indexOf("plugin-one");
    assert.ok(extra > ids.indexOf("gpt-5-nano") && plugin > extra);
    assert.deepEqual(entries[extra].aliases, ["e1"]);
    assert.equal(entries[extra].source, "extra");
    assert.deepEqual(entries[plugin].aliases, ["p1"]);
    assert.equal(entries[plugin].source, "plugin:order-test");
  } finally {
    unregisterPlugin("order-test");
  }
});

Deno.test("the seed's extra-openai-models.yaml entry becomes an OpenAI-compatible model with no key", async () => {
  await using dir = await tempUserDir({ "extra-openai-models.yaml": SEED_YAML });
  const model = getModel("customgateway-gpt-3.5-turbo", { userPath: dir.path });
  assert.ok(model instanceof OpenAIChatModel);
  assert.equal(model.modelName, "gpt-3.5-turbo");
  assert.equal(model.apiBase, "https://yourcustomproxy.example.com");
  assert.deepEqual({ ...model.headers }, { apikey: "your-api-key" });
  assert.equal(model.needsKey, undefined);
  assert.equal(model.keyEnvVar, undefined);
  assert.equal(model.contextWindow, undefined, "a custom id has no known window");
  assert.equal(model.canStream, true);
  assert.equal(supportsImages(model), false);
  // Header values never show.
  assert.ok(!JSON.stringify(model).includes("your-api-key"));
  assert.ok(!Deno.inspect(model, { depth: 10 }).includes("your-api-key"));
});

Deno.test("extra-openai-models.yaml reads every documented field", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `
- model_id: claude
  model_name: anthropic/claude-2
  api_base: "https://openrouter.ai/api/v1"
  api_key_name: openrouter
  headers:
    HTTP-Referer: "https://llm.datasette.io/"
    X-Title: LLM
  aliases: ["cl", "router"]
  vision: true
  can_stream: false
  reasoning: true
  supports_schema: true
  supports_tools: true
- model_id: gpt-3.5-turbo-0613
  aliases: ["0613"]
- model_id: old-instruct
  completion: true
`,
  });
  const userPath = dir.path;
  const claude = getModel("router", { userPath }) as OpenAIChatModel;
  assert.equal(claude.modelId, "claude");
  assert.equal(claude.needsKey, "openrouter");
  assert.equal(claude.keyEnvVar, undefined, "an OpenAI env key is never sent to another api_base");
  assert.equal(claude.canStream, false);
  assert.equal(supportsImages(claude), true);
  assert.equal(claude.reasoning, true);
  assert.deepEqual(Object.keys(claude.headers!), ["HTTP-Referer", "X-Title"]);
  const snapshot = getModel("0613", { userPath }) as OpenAIChatModel;
  assert.equal(snapshot.modelName, "gpt-3.5-turbo-0613");
  assert.equal(snapshot.needsKey, "openai", "no api_base: the OpenAI key");
  assert.equal(snapshot.apiBase, "https://api.openai.com/v1");
  assert.equal(snapshot.contextWindow, 4_096, "the 0613 snapshot had the original 4K window");
  const instruct = getModel("old-instruct", { userPath });
  assert.equal(modelLabel(instruct), "OpenAI Completion");
  assert.throws(
    () => new LLMModel(instruct, { userPath, key: "k" }).prompt("hi"),
    /completion model/,
  );
});

Deno.test("a missing or empty extra-openai-models.yaml is fine", async () => {
  await using dir = await tempUserDir();
  const count = listModels({ userPath: dir.path }).length;
  await dir.write("extra-openai-models.yaml", "");
  assert.equal(listModels({ userPath: dir.path }).length, count);
  await dir.write("extra-openai-models.yaml", "# nothing yet\n");
  assert.equal(listModels({ userPath: dir.path }).length, count);
  // A user directory that does not exist at all.
  assert.equal(listModels({ userPath: `${dir.path}/missing/dir` }).length, count);
});

Deno.test("broken extra-openai-models.yaml is an error naming the file, line and column", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": "- model_id: ok\n- model_id: [unclosed\n  model_name: x\n",
  });
  assert.throws(() => getModel("ok", { userPath: dir.path }), (error: Error) => {
    assert.ok(error instanceof ImproperlyConfigured);
    assert.match(error.message, /extra-openai-models\.yaml/);
    assert.match(error.message, /line \d+, column \d+/);
    return true;
  });
});

Deno.test("extra-openai-models.yaml: bad entries are errors naming their position", async () => {
  const cases: [string, RegExp][] = [
    [
      "- model_id: a\n- model_name: b\n",
      /entry 2, line 2 of ".*extra-openai-models\.yaml" has no model_id/,
    ],
    ["model_id: a\n", /must be a YAML list/],
    ["- just a string\n", /entry 1, line 1 .* must be a mapping/],
    ["- model_id: 613\n", /model_id of entry 1.* must be a string \(quote it/],
    ["- model_id: a\n  aliases: [0613]\n", /aliases of entry 1.* list of strings/],
    ["- model_id: a\n  api_base: ftp://x\n", /api_base of entry 1.* http\(s\) URL/],
    ["- model_id: a\n  headers: [x]\n", /headers of entry 1/],
    ["- model_id: a\n  headers: {x: {y: 1}}\n", /headers\.x of entry 1/],
    ["- model_id: a\n  vision: maybe\n", /vision of entry 1.* true or false/],
    ["- model_id: a\n- model_id: a\n", /entry 2.* repeats model_id "a"/],
    [
      "- model_id: a\n  tag: !!js/function 'x'\n",
      /extra-openai-models\.yaml.*line 2.*unknown.*tag/,
    ],
    [
      'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
      "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
      /extra-openai-models\.yaml" is not valid YAML at line 7.*maxAliases/,
    ],
    [
      "- model_id: a\n  x: " + "[".repeat(200) + "]".repeat(200) + "\n",
      /extra-openai-models\.yaml.*maxDepth/,
    ],
  ];
  for (const [yaml, pattern] of cases) {
    await using dir = await tempUserDir({ "extra-openai-models.yaml": yaml });
    assert.throws(
      () => listModels({ userPath: dir.path }),
      (error: Error) => error instanceof ImproperlyConfigured && pattern.test(error.message),
      `${JSON.stringify(yaml.slice(0, 40))} should fail with ${pattern}`,
    );
  }
});

Deno.test("aliases.json adds aliases that override built-in ones and resolve through aliases", async () => {
  await using dir = await tempUserDir({
    "aliases.json": JSON.stringify({ fast: "4o-mini", "4o": "gpt-4.1", nothing: "no-such-model" }),
  });
  const userPath = dir.path;
  assert.equal(getModel("fast", { userPath }).modelId, "gpt-4o-mini");
  assert.equal(getModel("4o", { userPath }).modelId, "gpt-4.1", "aliases.json wins");
  assert.throws(() => getModel("nothing", { userPath }), UnknownModelError);
  const entries = listModels({ userPath });
  const mini = entries.find((entry) => entry.model.modelId === "gpt-4o-mini")!;
  assert.deepEqual(mini.aliases, ["4o-mini", "fast"]);
  const four1 = entries.find((entry) => entry.model.modelId === "gpt-4.1")!;
  assert.deepEqual(four1.aliases.sort(), ["4.1", "4o"]);
  const fourO = entries.find((entry) => entry.model.modelId === "gpt-4o")!;
  assert.deepEqual(fourO.aliases, []);
});

Deno.test("aliases from extra-openai-models.yaml and aliases.json both resolve", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": "- model_id: proxy-4o\n  model_name: gpt-4o\n  aliases: [p4]\n",
    "aliases.json": JSON.stringify({ mine: "p4" }),
  });
  assert.equal(getModel("p4", { userPath: dir.path }).modelId, "proxy-4o");
  assert.equal(getModel("mine", { userPath: dir.path }).modelId, "proxy-4o");
});

Deno.test("broken aliases.json and keys.json are errors naming the file, never its content", async () => {
  await using dir = await tempUserDir({ "aliases.json": "{not json" });
  assert.throws(() => getModel("4o", { userPath: dir.path }), /aliases\.json" is not valid JSON/);
  await dir.write("aliases.json", "[1, 2]");
  assert.throws(
    () => getModel("4o", { userPath: dir.path }),
    /aliases\.json" must hold a JSON object/,
  );
  await dir.write("aliases.json", "{}");
  await dir.write("keys.json", '{"openai": sk-super-secret-value}');
  const model = getModel("4o", { userPath: dir.path });
  assert.throws(() => resolveModelKey(model, { userPath: dir.path }), (error: Error) => {
    assert.ok(error instanceof ImproperlyConfigured);
    assert.match(error.message, /keys\.json" is not valid JSON/);
    assert.ok(!error.message.includes("sk-super-secret-value"));
    return true;
  });
});

Deno.test("files are read at each lookup: an edit made at run time is seen", async () => {
  await using dir = await tempUserDir();
  const userPath = dir.path;
  assert.throws(() => getModel("later", { userPath }), UnknownModelError);
  await dir.write("extra-openai-models.yaml", "- model_id: later\n");
  assert.equal(getModel("later", { userPath }).modelId, "later");
  await dir.write("extra-openai-models.yaml", "- model_id: later\n  aliases: [soon]\n");
  assert.equal(getModel("soon", { userPath }).modelId, "later");
  await dir.write("aliases.json", JSON.stringify({ now: "later" }));
  assert.equal(getModel("now", { userPath }).modelId, "later");
  await dir.write("extra-openai-models.yaml", "");
  assert.throws(() => getModel("later", { userPath }), UnknownModelError);
});

Deno.test("default_model.txt sets the default model; gpt-4o-mini otherwise", async () => {
  await using dir = await tempUserDir();
  assert.equal(getDefaultModelId({ userPath: dir.path }), "gpt-4o-mini");
  await dir.write("default_model.txt", "  4.1-mini \n");
  assert.equal(getDefaultModelId({ userPath: dir.path }), "4.1-mini");
});

Deno.test("key resolution: explicit key, then keys.json, then the environment variable", async () => {
  await using dir = await tempUserDir({
    "keys.json": JSON.stringify({
      openai: "sk-from-keys-json",
      team: "sk-team",
      custom: "sk-custom",
    }),
  });
  const userPath = dir.path;
  const envName = "CMS_AI_LLM_TEST_KEY_A";
  const model = new OpenAIChatModel("test-model", { needsKey: "custom", keyEnvVar: envName });
  // Explicit key, or the keys.json entry it names.
  assert.equal(resolveModelKey(model, { userPath, key: "sk-explicit" }), "sk-explicit");
  assert.equal(resolveModelKey(model, { userPath, key: "team" }), "sk-team");
  // keys.json under the model's key name beats the environment.
  Deno.env.set(envName, "sk-from-env");
  try {
    assert.equal(resolveModelKey(model, { userPath }), "sk-custom");
    await dir.write("keys.json", JSON.stringify({ openai: "sk-from-keys-json" }));
    assert.equal(resolveModelKey(model, { userPath }), "sk-from-env");
  } finally {
    Deno.env.delete(envName);
  }
  assert.throws(() => resolveModelKey(model, { userPath }), (error: Error) => {
    assert.ok(error instanceof MissingAPIKeyError);
    assert.match(error.message, /"test-model"/);
    assert.ok(error.message.includes(`${userPath}/keys.json`));
    assert.match(error.message, /"custom"/);
    assert.match(error.message, new RegExp(`${envName} environment variable`));
    assert.ok(!error.message.includes("sk-from-keys-json"));
    return true;
  });
});

Deno.test("a model with its own api_base gets no stored key unless api_key_name names one", async () => {
  await using dir = await tempUserDir({
    "keys.json": JSON.stringify({ openai: "sk-openai-secret", proxy: "sk-proxy" }),
    "extra-openai-models.yaml": SEED_YAML +
      "- model_id: named\n  api_base: https://proxy.example/v1\n  api_key_name: proxy\n" +
      "- model_id: named-openai\n  api_base: https://proxy.example/v1\n  api_key_name: openai\n",
  });
  const userPath = dir.path;
  const seed = getModel("customgateway-gpt-3.5-turbo", { userPath });
  assert.equal(resolveModelKey(seed, { userPath }), undefined);
  assert.equal(resolveModelKey(seed, { userPath, key: "sk-explicit" }), "sk-explicit");
  assert.equal(resolveModelKey(getModel("named", { userPath }), { userPath }), "sk-proxy");
  const namedOpenAI = getModel("named-openai", { userPath });
  assert.equal(resolveModelKey(namedOpenAI, { userPath }), "sk-openai-secret");
  assert.equal(namedOpenAI.keyEnvVar, "OPENAI_API_KEY");
});

Deno.test("OPENAI_API_KEY: used by OpenAI models after keys.json, never by custom api_base models", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": SEED_YAML +
      "- model_id: named\n  api_base: https://p.example/v1\n" +
      "  api_key_name: proxy\n",
  });
  const run = await runScript(
    `
    import { getModel, resolveModelKey, setKey } from "MOD";
    const userPath = Deno.env.get("TEST_USER_PATH");
    const show = (id) => {
      try { return String(resolveModelKey(getModel(id, { userPath }), { userPath })); }
      catch (error) { return error.name; }
    };
    const out = [show("4o"), show("customgateway-gpt-3.5-turbo"), show("named")];
    await setKey("openai", "sk-stored", { userPath });
    out.push(show("4o"));
    console.log(out.join(" "));
    `,
    { OPENAI_API_KEY: "sk-env-secret", TEST_USER_PATH: dir.path },
    ["--allow-env", "--allow-read", "--allow-write"],
  );
  assert.equal(run.stderr, "");
  assert.equal(run.stdout.trim(), "sk-env-secret undefined MissingAPIKeyError sk-stored");
});

Deno.test("the user directory: llmUserPath, then LLM_USER_PATH, then the llm tool's default", async () => {
  assert.equal(getUserDir({ userPath: "/explicit" }), "/explicit");
  const previous = Deno.env.get("LLM_USER_PATH");
  await using dir = await tempUserDir({ "aliases.json": JSON.stringify({ "env-alias": "4o" }) });
  Deno.env.set("LLM_USER_PATH", dir.path);
  try {
    assert.equal(getUserDir(), dir.path);
    assert.equal(getUserDir({ userPath: "/explicit" }), "/explicit");
    assert.equal(getModel("env-alias").modelId, "gpt-4o");
  } finally {
    if (previous === undefined) Deno.env.delete("LLM_USER_PATH");
    else Deno.env.set("LLM_USER_PATH", previous);
  }
  const script = `import { getUserDir } from "MOD"; console.log(getUserDir());`;
  if (Deno.build.os === "linux") {
    const xdg = await runScript(script, { HOME: "/home/someone", XDG_CONFIG_HOME: "/xdg" });
    assert.equal(xdg.stdout.trim(), "/xdg/io.datasette.llm");
    const home = await runScript(script, { HOME: "/home/someone" });
    assert.equal(home.stdout.trim(), "/home/someone/.config/io.datasette.llm");
  } else if (Deno.build.os === "darwin") {
    const mac = await runScript(script, { HOME: "/Users/someone" });
    assert.equal(mac.stdout.trim(), "/Users/someone/Library/Application Support/io.datasette.llm");
  }
  const none = await runScript(
    `import { getUserDir } from "MOD"; try { getUserDir() } catch (e) { console.log(e.message) }`,
    {},
    [],
  );
  assert.match(none.stdout, /Cannot find the llm user directory: set LLM_USER_PATH/);
});

Deno.test("validateModelOptions() accepts the option schema's values and normalises them", async () => {
  await using dir = await tempUserDir();
  const model = getModel("gpt-4o", { userPath: dir.path });
  const checked = validateModelOptions(model, {
    temperature: 0,
    top_p: 1,
    max_tokens: 10,
    stop: ["a", "b"],
    seed: null,
    frequency_penalty: -2,
    presence_penalty: 2,
    logit_bias: '{"1712": -100}',
    json_object: true,
  });
  assert.deepEqual(checked, {
    temperature: 0,
    top_p: 1,
    max_tokens: 10,
    stop: ["a", "b"],
    frequency_penalty: -2,
    presence_penalty: 2,
    logit_bias: { 1712: -100 },
    json_object: true,
  });
  assert.deepEqual(
    validateModelOptions(model, { temperature: "1.5", max_tokens: "7", json_object: "false" }, {
      coerce: true,
    }),
    { temperature: 1.5, max_tokens: 7, json_object: false },
  );
  assert.deepEqual(
    validateModelOptions(getModel("o3", { userPath: dir.path }), { reasoning_effort: "low" }),
    { reasoning_effort: "low" },
  );
});

Deno.test("validateModelOptions() rejects unknown options and bad values, naming option and model", async () => {
  await using dir = await tempUserDir();
  const model = getModel("4o-mini", { userPath: dir.path });
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { temprature: 1 },
      /Unknown option "temprature" for model "gpt-4o-mini" in X \(options: temperature,/,
    ],
    [
      { temperature: 2.5 },
      /Option "temperature" for model "gpt-4o-mini" in X must be a number from 0 to 2, got 2\.5/,
    ],
    [{ temperature: -0.1 }, /"temperature".* from 0 to 2/],
    [{ temperature: "hot" }, /"temperature".* got "hot"/],
    [{ temperature: NaN }, /"temperature".* got NaN/],
    [{ top_p: 1.5 }, /"top_p".* from 0 to 1/],
    [{ max_tokens: 0 }, /"max_tokens".* an integer of at least 1, got 0/],
    [{ max_tokens: 1.5 }, /"max_tokens".* integer/],
    [{ seed: "42" }, /"seed".* an integer, got "42"/],
    [{ frequency_penalty: 3 }, /"frequency_penalty".* from -2 to 2/],
    [{ presence_penalty: -3 }, /"presence_penalty".* from -2 to 2/],
    [{ stop: 5 }, /"stop".* a string or a list of at most 4 strings/],
    [{ stop: ["a", "b", "c", "d", "e"] }, /"stop"/],
    [{ stop: [] }, /"stop"/],
    [{ logit_bias: { 1: 200 } }, /"logit_bias".* from -100 to 100/],
    [{ logit_bias: "{bad" }, /"logit_bias"/],
    [{ json_object: "yes" }, /"json_object".* true or false/],
    [{ reasoning_effort: "low" }, /Unknown option "reasoning_effort"/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => validateModelOptions(model, options, { where: "X" }),
      (error: Error) => error instanceof ImproperlyConfigured && pattern.test(error.message),
      `${JSON.stringify(options)} should fail with ${pattern}`,
    );
  }
  assert.throws(
    () => validateModelOptions(getModel("o3", { userPath: dir.path }), { reasoning_effort: "max" }),
    /"reasoning_effort".* one of minimal, low, medium, high/,
  );
});

Deno.test("plugins: registered models, aliases, replacement, and errors naming the plugin", async () => {
  await using dir = await tempUserDir();
  const userPath = dir.path;
  const reverse: Model = {
    modelId: "reverse",
    async *execute(prompt) {
      yield { type: "text", text: [...prompt.prompt].reverse().join("") };
    },
  };
  registerPlugin({
    name: "rev",
    registerModels: (register) => register(reverse, { aliases: ["rv"] }),
  });
  try {
    assert.equal(getModel("rv", { userPath }), reverse);
    assert.equal(modelLabel(reverse), "Model");
    assert.equal(supportsImages(reverse), false);
    // Same name again: replaced.
    registerPlugin({
      name: "rev",
      registerModels: (register) => register(reverse, { aliases: ["r2"] }),
    });
    assert.throws(() => getModel("rv", { userPath }), UnknownModelError);
    assert.equal(getModel("r2", { userPath }), reverse);
    // A plugin model with a built-in id or alias replaces it.
    const shadow: Model = { modelId: "gpt-4", label: "Shadow", async *execute() {} };
    registerPlugin({ name: "shadow", registerModels: (register) => register(shadow) });
    assert.equal(getModel("gpt-4", { userPath }), shadow);
    assert.equal(getModel("4", { userPath }), shadow, "aliases follow the id's newest model");
    unregisterPlugin("shadow");
    assert.equal(getModel("gpt-4", { userPath }).modelId, "gpt-4");
    assert.notEqual(getModel("gpt-4", { userPath }), shadow);
  } finally {
    unregisterPlugin("rev");
  }
  assert.throws(() => registerPlugin({ name: "", registerModels() {} }), TypeError);
  assert.throws(() => registerPlugin({ name: "x" } as never), /needs a registerModels/);
  assert.throws(() => registerPlugin(null as never), TypeError);
  assert.throws(
    () => registerPlugin({ name: "bad", registerModels: (register) => register({} as never) }),
    /Plugin "bad" registered something that is not a model/,
  );
  assert.throws(
    () =>
      registerPlugin({
        name: "bad-alias",
        registerModels: (register) => register(reverse, { aliases: [""] }),
      }),
    /Plugin "bad-alias" gave model "reverse" aliases/,
  );
  let calls = 0;
  registerPlugin({
    name: "flaky",
    registerModels() {
      if (calls++ > 0) throw new Error("boom");
    },
  });
  try {
    assert.throws(() => listModels({ userPath }), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, /Plugin "flaky" failed to register its models: boom/);
      return true;
    });
  } finally {
    unregisterPlugin("flaky");
  }
});

Deno.test("setKey() writes keys.json with mode 0600 and keeps other keys", async () => {
  await using dir = await tempUserDir();
  const path = await setKey("openai", "sk-one\n", { userPath: dir.path });
  await setKey("other", "sk-two", { userPath: dir.path });
  const keys = JSON.parse(await dir.read("keys.json"));
  assert.equal(keys.openai, "sk-one");
  assert.equal(keys.other, "sk-two");
  assert.equal(keys["// Note"], "This file stores secret API credential keys");
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await assert.rejects(() => setKey("openai", "  ", { userPath: dir.path }), TypeError);
  await assert.rejects(() => setKey("", "x", { userPath: dir.path }), TypeError);
});

Deno.test("extra-openai-models.yaml flags take the YAML 1.1 booleans the llm tool reads (yes, no, on, off)", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `
- model_id: a
  api_base: "https://proxy.example/v1"
  vision: yes
  can_stream: no
- model_id: b
  api_base: "https://proxy.example/v1"
  reasoning: On
  can_stream: OFF
`,
  });
  const userPath = dir.path;
  const a = getModel("a", { userPath }) as OpenAIChatModel;
  assert.equal(supportsImages(a), true);
  assert.equal(a.canStream, false);
  const b = getModel("b", { userPath }) as OpenAIChatModel;
  assert.equal(b.reasoning, true);
  assert.equal(b.canStream, false);
  await dir.write("extra-openai-models.yaml", "- model_id: c\n  vision: maybe\n");
  assert.throws(() => getModel("c", { userPath }), /vision of entry 1.* true or false/);
});

Deno.test("extra-openai-models.yaml: a key repeated in one entry keeps its last value, as in the llm tool", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `
- model_id: a
  api_base: "https://proxy.example/v1"
  vision: true
  vision: false
`,
  });
  const a = getModel("a", { userPath: dir.path }) as OpenAIChatModel;
  assert.equal(supportsImages(a), false);
});

Deno.test("extra-openai-models.yaml: a YAML error names the line but not the file's text", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `
- model_id: a
  headers:
    Authorization: *sk-secret-value
`,
  });
  assert.throws(
    () => getModel("a", { userPath: dir.path }),
    (error: Error) => {
      assert.match(error.message, /is not valid YAML at line 4, column \d+: unidentified alias$/);
      assert.doesNotMatch(error.message, /sk-secret/);
      return true;
    },
  );
});

Deno.test("extra-openai-models.yaml: a header HTTP cannot send is an error naming the entry and the header, not its value", async () => {
  const cases: [string, RegExp][] = [
    [
      '    "bad name": v\n',
      /headers of entry 1, line 1 of ".*" has an invalid header name "bad name"/,
    ],
    [
      '    apikey: "sk-SECRET\\nX"\n',
      /headers\.apikey of entry 1, line 1 of ".*" must be one line of/,
    ],
    [
      '    apikey: "sk-SECRÉT€"\n',
      /headers\.apikey of entry 1, line 1 of ".*" must be one line of/,
    ],
  ];
  for (const [header, pattern] of cases) {
    await using dir = await tempUserDir({
      "extra-openai-models.yaml": `- model_id: p\n  api_base: "https://proxy.example/v1"\n` +
        `  headers:\n${header}`,
    });
    assert.throws(() => listModels({ userPath: dir.path }), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes("SECR"), error.message);
      return true;
    });
  }
});
