// The LLM backend keeps the user directory's files as read (issue 16, goal 5):
// repeated getBackend() calls open no file while the files are unchanged; a
// change is seen at the next check (llmCheckIntervalMs) or after ai.reload().
// File access is observed at the runtime's own functions (Deno.openSync,
// Deno.statSync), which the library calls through _env.ts.
import assert from "node:assert/strict";
import { createAI, registerPlugin, setAlias, UnknownModelError, unregisterPlugin } from "../mod.ts";
import { runScript, tempUserDir } from "./_llm.ts";

const EXTRA =
  '- model_id: "llama3.1:8b"\n  model_name: llama3\n  api_base: http://127.0.0.1:9/v1\n';

/** Counts the files opened and stat-ed under `dir` while `fn` runs. */
function fileAccess(dir: string, fn: () => void): { opens: number; stats: number } {
  const counts = { opens: 0, stats: 0 };
  const openSync = Deno.openSync;
  const statSync = Deno.statSync;
  const under = (path: string | URL) => String(path).startsWith(dir);
  Deno.openSync = (path, options) => {
    if (under(path)) counts.opens++;
    return openSync(path, options);
  };
  Deno.statSync = (path) => {
    if (under(path)) counts.stats++;
    return statSync(path);
  };
  try {
    fn();
  } finally {
    Deno.openSync = openSync;
    Deno.statSync = statSync;
  }
  return counts;
}

function llmAI(
  llmUserPath: string,
  modelId: string,
  llmCheckIntervalMs?: number,
): ReturnType<typeof createAI> {
  return createAI(
    { BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: modelId } } } },
    llmCheckIntervalMs === undefined ? { llmUserPath } : { llmUserPath, llmCheckIntervalMs },
  );
}

Deno.test("getBackend() of the LLM backend opens no user-directory file while the files are unchanged", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": EXTRA,
    "aliases.json": JSON.stringify({ fast: "gpt-4o-mini" }),
    "keys.json": JSON.stringify({ openai: "sk-stored" }),
  });
  // Files written a minute ago: one modified within the last 2 s is read again at each check
  // (its stamp is not trusted yet; the next test shows why).
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (const name of ["extra-openai-models.yaml", "aliases.json", "keys.json"]) {
    Deno.utimeSync(`${dir.path}/${name}`, aMinuteAgo, aMinuteAgo);
  }
  for (const interval of [undefined, 0]) {
    const ai = llmAI(dir.path, "fast", interval);
    ai.reload();
    const first = fileAccess(dir.path, () => {
      (ai.getBackend() as unknown as LLM).getLLMModel().resolveKey();
    });
    assert.equal(first.opens, 3, `the first call reads the three files (${interval})`);
    const repeated = fileAccess(dir.path, () => {
      for (let i = 0; i < 200; i++) {
        const backend = ai.getBackend();
        assert.equal(backend.config.modelId, "fast");
        // The key is looked up at each prompt: keys.json is kept too.
        assert.equal((backend as unknown as LLM).getLLMModel().resolveKey(), "sk-stored");
        ai.getAIBackend("default");
      }
    });
    assert.equal(repeated.opens, 0, `llmCheckIntervalMs ${interval}: no file opened`);
    if (interval === 0) assert.ok(repeated.stats >= 200, "checked at every call by stat");
  }
});

interface LLM {
  getLLMModel(): { resolveKey(): string | undefined; modelId: string };
}

Deno.test("a changed user-directory file is seen at the next call with llmCheckIntervalMs 0", async () => {
  await using dir = await tempUserDir({ "aliases.json": JSON.stringify({ fast: "gpt-4o-mini" }) });
  const ai = llmAI(dir.path, "fast", 0);
  assert.equal(ai.getBackend().config.tokenLimit, 128_000);
  await dir.write("aliases.json", JSON.stringify({ fast: "gpt-4" }));
  assert.equal(ai.getBackend().config.tokenLimit, 8192);
  // The same size: the modification time tells.
  await dir.write("aliases.json", JSON.stringify({ fast: "gpt-5" }));
  const later = new Date(Date.now() + 5_000);
  await Deno.utime(`${dir.path}/aliases.json`, later, later);
  assert.equal(ai.getBackend().config.tokenLimit, 400_000);
  // A file renamed over it (as editors save).
  await Deno.writeTextFile(`${dir.path}/new.json`, JSON.stringify({ fast: "gpt-4o" }));
  await Deno.rename(`${dir.path}/new.json`, `${dir.path}/aliases.json`);
  const backend = ai.getBackend() as unknown as LLM;
  assert.equal(backend.getLLMModel().modelId, "gpt-4o");
  // A new file.
  await dir.write("extra-openai-models.yaml", EXTRA);
  assert.equal(
    (llmAI(dir.path, "llama3.1:8b", 0).getBackend() as unknown as LLM).getLLMModel().modelId,
    "llama3.1:8b",
  );
});

Deno.test("a deleted user-directory file is seen at the next call with llmCheckIntervalMs 0", async () => {
  await using dir = await tempUserDir({
    "aliases.json": JSON.stringify({ fast: "gpt-4o-mini" }),
    "extra-openai-models.yaml": EXTRA,
    "keys.json": JSON.stringify({ openai: "sk-stored" }),
  });
  const ai = llmAI(dir.path, "fast", 0);
  const local = llmAI(dir.path, "llama3.1:8b", 0);
  assert.equal((ai.getBackend() as unknown as LLM).getLLMModel().resolveKey(), "sk-stored");
  local.getBackend();
  await Deno.remove(`${dir.path}/aliases.json`);
  await Deno.remove(`${dir.path}/extra-openai-models.yaml`);
  assert.throws(() => ai.getBackend(), UnknownModelError);
  assert.throws(() => local.getBackend(), /Unknown model "llama3\.1:8b" in MODEL_ID/);
  const plain = llmAI(dir.path, "gpt-4o-mini", 0).getBackend() as unknown as LLM;
  assert.equal(plain.getLLMModel().resolveKey(), "sk-stored");
  await Deno.remove(`${dir.path}/keys.json`);
  assert.throws(
    () => plain.getLLMModel().resolveKey(),
    (error: Error) => error.name === "MissingAPIKeyError" && /keys\.json/.test(error.message),
  );
});

Deno.test("with a long llmCheckIntervalMs a change is seen after ai.reload(), and this module's own writes at once", async () => {
  await using dir = await tempUserDir({ "aliases.json": JSON.stringify({ fast: "gpt-4o-mini" }) });
  const ai = llmAI(dir.path, "fast", 3_600_000);
  ai.reload();
  assert.equal(ai.getBackend().config.tokenLimit, 128_000);
  await dir.write("aliases.json", JSON.stringify({ fast: "gpt-4" }));
  const kept = fileAccess(dir.path, () => {
    assert.equal(ai.getBackend().config.tokenLimit, 128_000, "not checked again within the hour");
  });
  assert.deepEqual(kept, { opens: 0, stats: 0 });
  ai.reload();
  assert.equal(ai.getBackend().config.tokenLimit, 8192);
  // setAlias() writes aliases.json: seen at once.
  await setAlias("fast", "gpt-5", { userPath: dir.path });
  assert.equal(ai.getBackend().config.tokenLimit, 400_000);
});

Deno.test("a plugin registered or unregistered is seen by the next getBackend() however long llmCheckIntervalMs is", async () => {
  await using dir = await tempUserDir();
  const ai = llmAI(dir.path, "kept-plugin-model", 3_600_000);
  assert.throws(() => ai.getBackend(), UnknownModelError);
  registerPlugin({
    name: "kept",
    registerModels(register) {
      register({ modelId: "kept-plugin-model", contextWindow: 321, async *execute() {} });
    },
  });
  try {
    assert.equal(ai.getBackend().config.tokenLimit, 321);
  } finally {
    unregisterPlugin("kept");
  }
  assert.throws(() => ai.getBackend(), UnknownModelError);
});

Deno.test("createAI() rejects an llmCheckIntervalMs that is not a finite number of milliseconds, 0 or more", () => {
  for (const bad of [-1, Number.NaN, Infinity, "1000", null]) {
    assert.throws(
      () => createAI({}, { llmCheckIntervalMs: bad as never }),
      (error: Error) =>
        error instanceof TypeError &&
        /^llmCheckIntervalMs must be a finite number/.test(error.message),
    );
  }
});

Deno.test("read permission revoked after the files were read: kept files still serve, a due check reports the permission, nothing crashes", async () => {
  await using dir = await tempUserDir({ "aliases.json": JSON.stringify({ fast: "gpt-4o-mini" }) });
  const run = await runScript(
    `
    import { createAI } from "MOD";
    const llmUserPath = Deno.env.get("TEST_USER_PATH");
    const settings = { BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "fast" } } } };
    const kept = createAI(settings, { llmUserPath, llmCheckIntervalMs: 3_600_000 });
    const checked = createAI(settings, { llmUserPath, llmCheckIntervalMs: 0 });
    kept.getBackend();
    checked.getBackend();
    Deno.permissions.revokeSync({ name: "read" });
    console.log("kept: " + kept.getBackend().config.tokenLimit);
    try {
      checked.getBackend();
      console.log("checked: no error");
    } catch (error) {
      console.log("checked: " + error.name + ": " + error.message);
    }
    `,
    { TEST_USER_PATH: dir.path },
  );
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split("\n");
  assert.equal(lines[0], "kept: 128000");
  assert.match(
    lines[1],
    /^checked: ImproperlyConfigured: Cannot access ".*llm-user-.*": read permission denied \(run with --allow-read\)$/,
  );
});

Deno.test("a same-size rewrite within the millisecond of the last read is still seen at the next check (llmCheckIntervalMs 0)", async () => {
  const { checkedText, forgetFiles } = await import("../backends/llm/_checked_files.ts");
  const dir = await Deno.makeTempDir({ prefix: "checked_racy_" });
  const path = `${dir}/keys.json`;
  try {
    let stale = 0;
    for (let i = 0; i < 200; i++) {
      const before = `{"openai":"sk-${String(i).padStart(4, "0")}a"}`;
      const after = `{"openai":"sk-${String(i).padStart(4, "0")}b"}`;
      Deno.writeTextFileSync(path, before);
      assert.equal(checkedText(path, 0), before);
      Deno.writeTextFileSync(path, after); // same size, most often the same millisecond
      if (checkedText(path, 0) !== after) stale++;
    }
    assert.equal(stale, 0, `${stale} of 200 reads served the old text`);
  } finally {
    forgetFiles();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LLMBackend's constructor looks the model up again when its context names another user directory than parseConfig()'s", async () => {
  const { LLMBackend } = await import("../backends/llm/backend.ts");
  const { RecursiveCharacterTextSplitter, TiktokenLengthCalculator } = await import("../mod.ts");
  await using a = await tempUserDir({ "extra-openai-models.yaml": EXTRA });
  await using b = await tempUserDir();
  const context = (llmUserPath: string) => ({
    alias: "default",
    llmUserPath,
    llmCheckIntervalMs: 0,
    textSplitterClass: RecursiveCharacterTextSplitter,
    textSplitterLengthCalculatorClass: TiktokenLengthCalculator,
  });
  const config = LLMBackend.parseConfig({ MODEL_ID: "llama3.1:8b" }, context(a.path));
  // In directory b there is no such model: the constructor must not reuse a's.
  assert.throws(() => new LLMBackend(config, context(b.path)), UnknownModelError);
  const again = LLMBackend.parseConfig({ MODEL_ID: "llama3.1:8b" }, context(a.path));
  assert.equal(new LLMBackend(again, context(a.path)).getLLMModel().modelId, "llama3.1:8b");
});
