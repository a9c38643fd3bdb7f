// The library runs with narrow permissions: --allow-net scoped to the host and
// --allow-env scoped to the variables it reads; without env permission it
// reports a missing key clearly instead of crashing or prompting.
import assert from "node:assert/strict";
import { startPeer } from "./_peer.ts";
import { startAnthropicPeer } from "./_anthropic_peer.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;

async function runDeno(flags: string[], code: string, env: Record<string, string> = {}) {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--quiet", ...flags, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
    clearEnv: true,
  });
  const child = command.spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("permissions: the OpenAI backend works with --allow-net=<host> and --allow-env=OPENAI_API_KEY only", async () => {
  await using peer = await startPeer();
  const host = new URL(peer.url).host;
  const script = `
    import { createAI } from "${MOD}";
    const ai = createAI({ BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: "${peer.url}" } } } });
    const response = ai.getBackend().promptWithContext({ prePrompt: "p", context: "narrow permissions" });
    let text = "";
    for await (const chunk of response) text += chunk;
    console.log(text);
  `;
  const run = await runDeno([`--allow-net=${host}`, "--allow-env=OPENAI_API_KEY"], script, {
    OPENAI_API_KEY: "sk-env-key",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "Echo: narrow permissions");
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-env-key");
});

Deno.test("permissions: without env permission a missing key is reported clearly", async () => {
  const script = `
    import { createAI, MissingAPIKeyError } from "${MOD}";
    const ai = createAI({ BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini" } } } });
    try {
      ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" });
      console.log("no error");
    } catch (error) {
      console.log(error instanceof MissingAPIKeyError ? "MissingAPIKeyError: " + error.message : "other: " + error);
    }
  `;
  const run = await runDeno([], script, { OPENAI_API_KEY: "sk-invisible" });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^MissingAPIKeyError: .*OPENAI_API_KEY environment variable/);
  assert.ok(!run.stdout.includes("sk-invisible"));
});

Deno.test("permissions: without env permission, llm errors say the user directory could not be located", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/keys.json`, JSON.stringify({ openai: "sk-stored-key" }));
    await Deno.writeTextFile(`${dir}/aliases.json`, JSON.stringify({ mine: "gpt-4o" }));
    const script = `
      import { createAI, getModel } from "${MOD}";
      const out = {};
      for (const [name, run] of [
        ["alias", () => createAI({ BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "mine" } } } }).getBackend()],
        ["getModel", () => getModel("mine")],
        ["key", () => createAI({ BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o" } } } }).getBackend().promptWithContext({ prePrompt: "p", context: "c" })],
        ["given path", () => getModel("mine", { userPath: ${JSON.stringify(dir)} }).modelId],
      ]) {
        try { const value = run(); out[name] = typeof value === "string" ? value : "ok"; }
        catch (error) { out[name] = error.name + ": " + error.message; }
      }
      console.log(JSON.stringify(out));
    `;
    const run = await runDeno([`--allow-read=${dir}`], script, { LLM_USER_PATH: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const out = JSON.parse(run.stdout);
    const hint =
      /\(the llm user directory may not be the one you meant: LLM_USER_PATH, .*could not be read; run with --allow-env=LLM_USER_PATH,.* or pass llmUserPath\)$/;
    assert.match(out.alias, /^UnknownModelError: Unknown model "mine" in MODEL_ID/);
    assert.match(out.alias, hint);
    assert.match(out.getModel, /^UnknownModelError: Unknown model "mine"/);
    assert.match(out.getModel, hint);
    assert.match(out.key, /^MissingAPIKeyError: No API key found for model "gpt-4o"/);
    assert.match(out.key, hint);
    assert.doesNotMatch(run.stdout, /sk-stored-key/);
    // With the directory given, env does not matter: no hint, and it works.
    assert.equal(out["given path"], "gpt-4o");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: echo backend, naive splitting and token counting need no permission at all", async () => {
  const script = `
    import { countTokens, createAI } from "${MOD}";
    const ai = createAI({ BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 50 } } } });
    const backend = ai.getBackend();
    const chunks = (await backend.getTextSplitter()).splitText("word ".repeat(200));
    const text = await backend.promptWithContext({ prePrompt: "", context: chunks[0] }).text();
    console.log(chunks.length > 1, text.startsWith("This is an echo backend:"), await countTokens("hello world", "gpt-4o"));
  `;
  const run = await runDeno([], script);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "true true 2");
});

// Records every Deno file-writing call the library makes: in a terminal, each
// one made without write permission would stop the program with a prompt.
const RECORD_WRITES = `
  const writes = [];
  for (const name of ["mkdir", "writeTextFile", "writeFile", "chmod", "open", "create", "rename"]) {
    const original = Deno[name];
    Deno[name] = (...args) => {
      // Opening a file only to read it writes nothing (the files are read with a size limit).
      const options = args[1] ?? {};
      const reads = name === "open" && !options.write && !options.append && !options.create &&
        !options.truncate && !options.createNew;
      if (!reads) writes.push(name);
      return original.apply(Deno, args);
    };
  }
`;

Deno.test("permissions: without write permission setKey(), setAlias() and setDefaultModel() say so and never attempt the write (no prompt)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "perm_write_" });
  try {
    const script = `
      import { ImproperlyConfigured, setAlias, setDefaultModel, setKey } from "${MOD}";
      ${RECORD_WRITES}
      const userPath = ${JSON.stringify(`${dir}/llm`)};
      const out = [];
      for (const call of [
        () => setKey("openai", "sk-never-written", { userPath }),
        () => setAlias("fast", "4o", { userPath }),
        () => setDefaultModel("4o", { userPath }),
      ]) {
        try {
          await call();
          out.push("no error");
        } catch (error) {
          out.push((error instanceof ImproperlyConfigured ? "ImproperlyConfigured: " : "other: ") + error.message);
        }
      }
      console.log(JSON.stringify({ out, writes }));
    `;
    const run = await runDeno([`--allow-read`], script);
    assert.equal(run.code, 0, run.stderr);
    const { out, writes } = JSON.parse(run.stdout);
    assert.deepEqual(writes, [], "a write without permission would prompt in a terminal");
    assert.equal(out.length, 3);
    for (const line of out) {
      assert.match(
        line,
        /^ImproperlyConfigured: Cannot access ".*llm.*": write permission denied \(run with --allow-write\)$/,
      );
      assert.ok(!line.includes("sk-never-written"));
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Calls every public entry point of mod.ts and prints, as one JSON line, each
// one's result or error: its class, whether it is one of errors.ts's, and its message.
function entryPointsScript(peerUrl: string, userPath: string, settingsPath: string): string {
  return `
    import * as m from "${MOD}";
    const PEER = ${JSON.stringify(peerUrl)};
    const userPath = ${JSON.stringify(userPath)};
    const ours = [m.ImproperlyConfigured, m.MissingAPIKeyError, m.NoTokenLimitFound, m.UnknownModelError, m.APIError, m.BackendNotFound];
    const out = {};
    const warnings = [];
    const onWarning = (warning) => warnings.push(warning.message);
    async function attempt(name, fn) {
      try {
        let value = await fn();
        if (value instanceof m.AIResponse) value = await value.text();
        out[name] = { ok: value ?? null };
      } catch (error) {
        out[name] = { error: error?.name, ours: ours.some((c) => error instanceof c), message: String(error?.message) };
      }
    }
    const prompt = (settings, options) =>
      m.createAI(settings, options).getBackend().promptWithContext({ prePrompt: "p", context: "c" });
    const echo = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } };
    const openai = (config) => ({ BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: PEER, MAX_RETRIES: 0, ...config } } } });
    const llm = (CLASS) => ({ BACKENDS: { default: { CLASS, CONFIG: { MODEL_ID: "4o", INIT_KWARGS: { key: "sk-init" } } } } });

    await attempt("import", () => Object.keys(m).length > 0);
    await attempt("createAI() default backend", () => m.createAI().getBackend().config.modelId);
    await attempt("createAI() default prompt", () => prompt());
    await attempt("echo", () => prompt({ BACKENDS: { default: echo } }));
    await attempt("echo dotted", () => prompt({ BACKENDS: { default: { ...echo, CLASS: "wagtail_ai.ai.echo.EchoBackend" } } }));
    await attempt("echo class", () => prompt({ BACKENDS: { default: { ...echo, CLASS: m.EchoBackend } } }));
    await attempt("echo splitter", async () => (await m.createAI({ BACKENDS: { default: echo } }).getBackend().getTextSplitter()).splitText("word ".repeat(300)).length > 1);
    await attempt("openai key from env", () => prompt(openai({})));
    await attempt("openai key in CONFIG", () => prompt(openai({ OPENAI_API_KEY: "sk-config" })));
    await attempt("openai dotted", () => prompt({ BACKENDS: { default: { ...openai({ OPENAI_API_KEY: "sk-config" }).BACKENDS.default, CLASS: "wagtail_ai.ai.openai.OpenAIBackend" } } }));
    await attempt("openai class", () => prompt({ BACKENDS: { default: { ...openai({ OPENAI_API_KEY: "sk-config" }).BACKENDS.default, CLASS: m.OpenAIBackend } } }));
    await attempt("openai tiktoken splitter", async () => (await m.createAI(openai({ OPENAI_API_KEY: "k" })).getBackend().getTextSplitter()).splitText("hello ".repeat(50)).length);
    await attempt("llm userPath", () => m.createAI(llm("llm"), { llmUserPath: userPath }).getBackend().getLLMModel().modelId);
    await attempt("llm dotted userPath", () => m.createAI(llm("wagtail_ai.ai.llm.LLMBackend"), { llmUserPath: userPath }).getBackend().getLLMModel().modelId);
    await attempt("llm class userPath", () => m.createAI(llm(m.LLMBackend), { llmUserPath: userPath }).getBackend().getLLMModel().modelId);
    await attempt("llm LLM_USER_PATH", () => m.createAI(llm("llm")).getBackend().getLLMModel().modelId);
    await attempt("provider backend", () => prompt({ BACKENDS: { default: { CLASS: "provider", CONFIG: {} } }, PROVIDERS: { default: { provider: "ollama", model: "gpt-4o-mini", api_base: PEER, max_retries: 0 } } }));
    await attempt("provider backend class", () => prompt({ BACKENDS: { default: { CLASS: m.ProviderBackend, CONFIG: {} } }, PROVIDERS: { default: { provider: "ollama", model: "gpt-4o-mini", api_base: PEER, max_retries: 0 } } }));
    for (const { name } of m.listProviders()) {
      await attempt("getProvider " + name, () => m.createAI({ PROVIDERS: { default: { provider: name, model: "m", api_base: PEER, max_retries: 0 } } }).getProvider().model);
    }
    await attempt("provider completion", async () => m.completionText(await m.createAI({ PROVIDERS: { default: { provider: "ollama", model: "m", api_base: PEER, max_retries: 0 } } }).getProvider().completion({ messages: [{ role: "user", content: "hi" }] })));
    await attempt("getProvider fallback", () => m.createAI({ BACKENDS: { default: echo } }, { onWarning }).getProvider().model);
    await attempt("getProviderSettings fallback", () => m.createAI(undefined, { onWarning }).getProviderSettings().model);
    await attempt("getProviderFor", () => m.createAI({ PROVIDERS: { default: { provider: "ollama", model: "m" } } }).getProviderFor(m.BackendFeature.IMAGE_DESCRIPTION).provider);
    await attempt("getBackend image", () => m.createAI({ BACKENDS: { default: echo } }).getBackend(m.BackendFeature.IMAGE_DESCRIPTION));
    await attempt("loadSettings", () => m.loadSettings(${JSON.stringify(settingsPath)}));
    await attempt("countTokens", () => m.countTokens("hello world", "gpt-4o"));
    await attempt("getTokenCounter", async () => (await m.getTokenCounter("gpt-3.5-turbo"))("hello world"));
    await attempt("getDefaultTokenLimit", () => m.getDefaultTokenLimit("gpt-4o"));
    await attempt("TiktokenLengthCalculator", async () => { const c = new m.TiktokenLengthCalculator({ modelId: "gpt-4o" }); await c.load(); return c.getSplitterLength("hello world"); });
    await attempt("RecursiveCharacterTextSplitter", () => new m.RecursiveCharacterTextSplitter({ chunkSize: 10, chunkOverlap: 0, lengthFunction: (t) => t.length }).splitText("aaa bbb ccc ddd").length);
    await attempt("listModels", () => m.listModels().length > 0);
    await attempt("listModels userPath", () => m.listModels({ userPath }).some((e) => e.model.modelId === "extra-model"));
    await attempt("getModel", () => m.getModel("4o").modelId);
    await attempt("getModel userPath", () => m.getModel("fast", { userPath }).modelId);
    await attempt("getDefaultModelId", () => m.getDefaultModelId());
    await attempt("getDefaultModelId userPath", () => m.getDefaultModelId({ userPath }));
    await attempt("getUserDir", () => m.getUserDir());
    await attempt("getUserFilePaths userPath", () => m.getUserFilePaths({ userPath }).keys.endsWith("keys.json"));
    await attempt("listAliases userPath", () => m.listAliases({ userPath }).fast);
    await attempt("listKeyNames userPath", () => m.listKeyNames({ userPath }));
    await attempt("resolveModelKey userPath", () => m.resolveModelKey(m.getModel("4o"), { userPath }) === "sk-stored");
    await attempt("migrateSettings", () => m.migrateSettings({ BACKENDS: { default: openai({}).BACKENDS.default } }).settings.PROVIDERS.default.provider);
    await attempt("migrateSettings llm", () => m.migrateSettings(llm("llm"), { llmUserPath: userPath }).notes.length >= 0);
    console.log(JSON.stringify({ out, warnings }));
  `;
}

interface Outcome {
  ok?: unknown;
  error?: string;
  ours?: boolean;
  message?: string;
}

async function entryPoints(flags: string[]) {
  await using peer = await startPeer();
  const dir = await Deno.makeTempDir({ prefix: "perm_entry_" });
  try {
    const userPath = `${dir}/llm`;
    await Deno.mkdir(userPath);
    await Deno.writeTextFile(`${userPath}/aliases.json`, JSON.stringify({ fast: "4o-mini" }));
    await Deno.writeTextFile(`${userPath}/keys.json`, JSON.stringify({ openai: "sk-stored" }));
    await Deno.writeTextFile(
      `${userPath}/extra-openai-models.yaml`,
      `- model_id: extra-model\n  model_name: gpt-4o-mini\n  api_base: "${peer.url}"\n`,
    );
    const settingsPath = `${dir}/settings.yaml`;
    await Deno.writeTextFile(settingsPath, "BACKENDS:\n  default: {CLASS: echo}\n");
    const run = await runDeno(flags, entryPointsScript(peer.url, userPath, settingsPath), {
      OPENAI_API_KEY: "sk-env",
      LLM_USER_PATH: userPath,
      HOME: dir,
      DENO_DIR: (await denoDir()) ?? "",
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "", "nothing printed to stderr (no prompt, no warning)");
    const { out, warnings } = JSON.parse(run.stdout) as {
      out: Record<string, Outcome>;
      warnings: string[];
    };
    for (const [name, outcome] of Object.entries(out)) {
      assert.ok(
        "ok" in outcome || outcome.ours,
        `${name}: not one of our errors: ${outcome.error}: ${outcome.message}`,
      );
      assert.doesNotMatch(outcome.message ?? "", /sk-(env|stored|config|init)/, name);
      assert.doesNotMatch(outcome.error ?? "", /NotCapable|PermissionDenied/, name);
    }
    return { out, warnings };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// The child's DENO_DIR, so that it finds the npm packages this process uses
// although its HOME is a temporary directory.
async function denoDir(): Promise<string | undefined> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return info.success ? JSON.parse(new TextDecoder().decode(info.stdout)).denoDir : undefined;
}

function okValue(out: Record<string, Outcome>, name: string): unknown {
  assert.ok(out[name] && "ok" in out[name], `${name}: ${JSON.stringify(out[name])}`);
  return out[name].ok;
}

function errorOf(out: Record<string, Outcome>, name: string, error: string, message: RegExp) {
  assert.equal(out[name]?.error, error, `${name}: ${JSON.stringify(out[name])}`);
  assert.match(out[name].message!, message, name);
}

const NEEDS_NOTHING = [
  "import",
  "echo",
  "echo dotted",
  "echo class",
  "echo splitter",
  "openai tiktoken splitter",
  "countTokens",
  "getTokenCounter",
  "getDefaultTokenLimit",
  "TiktokenLengthCalculator",
  "RecursiveCharacterTextSplitter",
  "getProviderFor",
  "getProvider ollama",
  "getProviderSettings fallback",
  "migrateSettings",
];

// Entry points that read the llm user directory only when they can find it
// (LLM_USER_PATH or HOME): without env permission they see no directory.
const LLM_DIR = ["createAI() default backend", "listModels", "getModel", "getDefaultModelId"];

Deno.test("permissions: with no permission every entry point of mod.ts works or throws our error naming the permission or setting", async () => {
  const { out, warnings } = await entryPoints([]);
  for (const name of [...NEEDS_NOTHING, ...LLM_DIR]) okValue(out, name);
  assert.equal(okValue(out, "echo"), "This is an echo backend: c");
  assert.equal(okValue(out, "countTokens"), 2);
  assert.equal(okValue(out, "getDefaultModelId"), "gpt-4o-mini");
  const noNet =
    /net permission for 127\.0\.0\.1:\d+ is not granted \(run with --allow-net=127\.0\.0\.1\)/;
  for (const name of ["openai key in CONFIG", "openai dotted", "openai class"]) {
    errorOf(out, name, "ConnectionError", noNet);
  }
  errorOf(out, "provider backend", "ConnectionError", noNet);
  errorOf(out, "provider backend class", "ConnectionError", noNet);
  errorOf(out, "provider completion", "ConnectionError", noNet);
  errorOf(out, "openai key from env", "MissingAPIKeyError", /OPENAI_API_KEY environment variable/);
  errorOf(out, "createAI() default prompt", "MissingAPIKeyError", /OPENAI_API_KEY/);
  errorOf(out, "getProvider openai", "MissingAPIKeyError", /OPENAI_API_KEY environment variable/);
  errorOf(out, "getProvider fallback", "MissingAPIKeyError", /OPENAI_API_KEY/);
  errorOf(
    out,
    "getProvider azure",
    "MissingAPIKeyError",
    /AZURE_OPENAI_API_KEY environment variable/,
  );
  errorOf(out, "getBackend image", "BackendNotFound", /IMAGE_DESCRIPTION/);
  const noRead = /read permission denied \(run with --allow-read\)/;
  errorOf(out, "loadSettings", "ImproperlyConfigured", noRead);
  for (
    const name of [
      "llm userPath",
      "llm dotted userPath",
      "llm class userPath",
      "listModels userPath",
      "getModel userPath",
      "getDefaultModelId userPath",
      "listAliases userPath",
      "listKeyNames userPath",
      "resolveModelKey userPath",
    ]
  ) {
    errorOf(out, name, "ImproperlyConfigured", noRead);
  }
  errorOf(out, "getUserDir", "ImproperlyConfigured", /LLM_USER_PATH/);
  assert.equal(warnings.length, 2); // the deprecated PROVIDERS fallback, once per AI
});

Deno.test("permissions: with --allow-env only, env values are seen and files report the missing read permission", async () => {
  const { out } = await entryPoints(["--allow-env"]);
  for (const name of NEEDS_NOTHING) okValue(out, name);
  const noRead = /read permission denied \(run with --allow-read\)/;
  for (const name of LLM_DIR) errorOf(out, name, "ImproperlyConfigured", noRead);
  const noNet = /is not granted \(run with --allow-net=127\.0\.0\.1\)/;
  errorOf(out, "openai key from env", "ConnectionError", noNet);
  assert.equal(okValue(out, "getProvider fallback"), "echo"); // its key: OPENAI_API_KEY
  assert.match(String(okValue(out, "getUserDir")), /perm_entry_.*llm$/);
  errorOf(out, "llm LLM_USER_PATH", "ImproperlyConfigured", noRead);
  errorOf(out, "loadSettings", "ImproperlyConfigured", noRead);
});

Deno.test("permissions: with --allow-read only, files are read and env reads as unset", async () => {
  const { out } = await entryPoints(["--allow-read"]);
  for (const name of [...NEEDS_NOTHING, ...LLM_DIR]) okValue(out, name);
  assert.deepEqual(okValue(out, "loadSettings"), { BACKENDS: { default: { CLASS: "echo" } } });
  assert.equal(okValue(out, "llm userPath"), "gpt-4o");
  assert.equal(okValue(out, "listModels userPath"), true);
  assert.equal(okValue(out, "getModel userPath"), "gpt-4o-mini");
  assert.equal(okValue(out, "listAliases userPath"), "gpt-4o-mini");
  assert.deepEqual(okValue(out, "listKeyNames userPath"), ["openai"]);
  assert.equal(okValue(out, "resolveModelKey userPath"), true);
  errorOf(out, "openai key from env", "MissingAPIKeyError", /OPENAI_API_KEY environment variable/);
  errorOf(out, "getUserDir", "ImproperlyConfigured", /LLM_USER_PATH/);
});

Deno.test("permissions: with --allow-net=127.0.0.1 only, backends and providers with keys in settings answer", async () => {
  const { out } = await entryPoints(["--allow-net=127.0.0.1"]);
  for (const name of [...NEEDS_NOTHING, ...LLM_DIR]) okValue(out, name);
  for (const name of ["openai key in CONFIG", "openai dotted", "openai class"]) {
    assert.equal(okValue(out, name), "Echo: c");
  }
  assert.equal(okValue(out, "provider backend"), "Echo: c");
  assert.equal(okValue(out, "provider backend class"), "Echo: c");
  assert.equal(okValue(out, "provider completion"), "Echo: hi");
  errorOf(out, "openai key from env", "MissingAPIKeyError", /OPENAI_API_KEY environment variable/);
  errorOf(out, "loadSettings", "ImproperlyConfigured", /read permission denied/);
});

Deno.test("permissions: without net permission for the service, a request fails at once with a final ConnectionError naming --allow-net", async () => {
  await using peer = await startPeer();
  const script = `
    import { createAI } from "${MOD}";
    const ai = createAI({
      BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", API_BASE: "${peer.url}", OPENAI_API_KEY: "sk-net-key", MAX_RETRIES: 2 } } },
      PROVIDERS: { default: { provider: "openai_compatible", model: "m", api_base: "${peer.url}" } },
    });
    const out = [];
    for (const read of [
      () => ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" }).text(),
      async () => { for await (const _ of ai.getProvider().stream({ messages: [{ role: "user", content: "c" }] })) {} },
      () => ai.getProvider().completion({ messages: [{ role: "user", content: "c" }] }),
    ]) {
      try { await read(); out.push("no error"); }
      catch (error) { out.push({ name: error.name, retryable: error.retryable, message: error.message }); }
    }
    console.log(JSON.stringify(out));
  `;
  // Net permission for another host only.
  const run = await runDeno(["--allow-net=127.0.0.2"], script);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  const out = JSON.parse(run.stdout);
  assert.equal(out.length, 3);
  for (const result of out) {
    assert.equal(result.name, "ConnectionError");
    assert.equal(result.retryable, false);
    assert.match(
      result.message,
      /net permission for 127\.0\.0\.1:\d+ is not granted \(run with --allow-net=127\.0\.0\.1\)$/,
    );
    assert.doesNotMatch(result.message, /sk-net-key/);
  }
  assert.equal(peer.requests.length, 0);
});

Deno.test("permissions: native Anthropic and structured output need only --allow-net=<host> and --allow-env=ANTHROPIC_API_KEY; without net, a final ConnectionError", async () => {
  await using peer = await startAnthropicPeer({ key: "sk-ant-env" });
  const host = new URL(peer.url).host;
  peer.enqueue({}, { object: { title: "Narrow" } });
  const script = `
    import { createProvider } from "${MOD}";
    const claude = createProvider({ provider: "anthropic", model: "claude-3-5-haiku-latest", api_base: "${peer.url}" });
    const out = {};
    out.text = (await claude.completion({ messages: [{ role: "user", content: "narrow" }] })).choices[0].message.content;
    const schema = { type: "object", properties: { title: { type: "string" } }, required: ["title"] };
    out.object = (await claude.completeObject({ messages: [{ role: "user", content: "t" }], schema })).object;
    console.log(JSON.stringify(out));
  `;
  const run = await runDeno([`--allow-net=${host}`, "--allow-env=ANTHROPIC_API_KEY"], script, {
    ANTHROPIC_API_KEY: "sk-ant-env",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { text: "Echo: narrow", object: { title: "Narrow" } });

  const denied = `
    import { createProvider } from "${MOD}";
    const claude = createProvider({ provider: "anthropic", model: "m", api_key: "sk-ant-net", api_base: "${peer.url}" });
    try { await claude.completion({ messages: [{ role: "user", content: "c" }] }); console.log("no error"); }
    catch (error) { console.log(JSON.stringify({ name: error.name, retryable: error.retryable, message: error.message })); }
  `;
  const before = peer.requests.length;
  const refused = await runDeno(["--allow-net=127.0.0.2"], denied);
  assert.equal(refused.code, 0, refused.stderr);
  const error = JSON.parse(refused.stdout);
  assert.equal(error.name, "ConnectionError");
  assert.equal(error.retryable, false);
  assert.match(
    error.message,
    /net permission for 127\.0\.0\.1:\d+ is not granted \(run with --allow-net=127\.0\.0\.1\)$/,
  );
  assert.doesNotMatch(error.message, /sk-ant-net/);
  assert.equal(peer.requests.length, before);
});

Deno.test("permissions: a net permission the program revokes after a request is refused at once, not retried", async () => {
  await using peer = await startPeer();
  const script = `
    import { createAI } from "${MOD}";
    const ai = createAI({ BACKENDS: { default: { CLASS: "openai", CONFIG: {
      MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-revoke-test", API_BASE: ${
    JSON.stringify(peer.url)
  }, MAX_RETRIES: 2,
    } } } });
    const backend = ai.getBackend();
    const first = await backend.promptWithContext({ prePrompt: "", context: "one" }).text();
    Deno.permissions.revokeSync({ name: "net", host: "127.0.0.1" });
    const out = { first };
    for (const attempt of ["second", "third"]) {
      try {
        await backend.promptWithContext({ prePrompt: "", context: attempt }).text();
        out[attempt] = "answered";
      } catch (error) {
        out[attempt] = { name: error.name, retryable: error.retryable, message: error.message };
      }
    }
    console.log(JSON.stringify(out));
  `;
  const { code, stdout, stderr } = await runDeno(["--allow-net=127.0.0.1", "--allow-read"], script);
  assert.equal(code, 0, stderr);
  const out = JSON.parse(stdout);
  assert.match(out.first, /one/);
  for (const attempt of ["second", "third"]) {
    assert.equal(out[attempt].name, "ConnectionError", attempt);
    assert.equal(out[attempt].retryable, false, attempt);
    assert.match(
      out[attempt].message,
      /net permission for 127\.0\.0\.1:\d+ is not granted \(run with --allow-net=127\.0\.0\.1\)$/,
    );
    assert.ok(!out[attempt].message.includes("sk-revoke-test"));
  }
  assert.equal(peer.requests.length, 1, "nothing reached the service after the revoke");
});
