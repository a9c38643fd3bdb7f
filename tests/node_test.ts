// The library on Node: `mod.ts` bundled by `deno bundle` into one ES module,
// run by `node` against the test peer (real HTTP, the real openai client).
// Node has no `Deno` global, so this proves the library's guarded access to
// the environment and files works without it. Skipped when `node` is missing.
import assert from "node:assert/strict";
import { countTokens, createAI } from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { startAnthropicPeer } from "./_anthropic_peer.ts";
import { bundleMod, findNode } from "./_bundle.ts";

const NODE = findNode();

// Runs on Node: echo backend and splitter, exact token count, an LLM backend
// whose model, key and alias come from the llm user directory (read with
// node:fs), a streamed and a whole OpenAI-backend answer, an abort, and a
// missing key error. Prints one JSON line.
const SMOKE = `
const [bundle, peerUrl, userDir] = process.argv.slice(2);
const m = await import(bundle);
const out = {};
const echo = m.createAI({
  BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 20 } } },
}).getBackend();
out.chunks = (await echo.getTextSplitter()).splitText("One two three four. ".repeat(6));
out.echo = await echo.promptWithContext({ prePrompt: "Fix:", context: "Teh cat" }).text();
out.tokens = await m.countTokens("Naïve café, 🎉 <|endoftext|> 12345", "gpt-4o");

const ai = m.createAI({
  BACKENDS: {
    llm: { CLASS: "llm", CONFIG: { MODEL_ID: "node-alias", TOKEN_LIMIT: 4096 } },
    openai: {
      CLASS: "openai",
      CONFIG: { MODEL_ID: "gpt-4o", API_BASE: peerUrl, OPENAI_API_KEY: "sk-node-key" },
    },
  },
}, { llmUserPath: userDir });
const llm = ai.getAIBackend("llm");
out.llmModel = llm.getLLMModel().modelId;
out.llm = await llm.promptWithContext({ prePrompt: "Say:", context: "hello from node" }).text();
const openai = ai.getAIBackend("openai");
let streamed = "";
for await (const piece of openai.promptWithContext({ prePrompt: "P", context: "streamed words" })) {
  streamed += piece;
}
out.streamed = streamed;
const whole = openai.promptWithContext({ prePrompt: "P", context: "whole" });
out.whole = await whole.text();
out.usage = await whole.usage();
const controller = new AbortController();
controller.abort(new Error("stopped by node"));
try {
  await openai.promptWithContext({ prePrompt: "P", context: "x", signal: controller.signal }).text();
  out.abort = "not aborted";
} catch (error) {
  out.abort = error.message;
}
const noKey = m.createAI({
  BACKENDS: { default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", API_BASE: peerUrl } } },
});
delete process.env.OPENAI_API_KEY;
try {
  noKey.getBackend().getOpenAIApiKey();
  out.missingKey = "no error";
} catch (error) {
  out.missingKey = error.name;
}
out.userDirFromEnv = m.getUserDir();
out.keysPath = await m.setKey("written", "sk-written-on-node", { userPath: userDir });
out.loaded = await m.loadSettings(userDir + "/settings.yaml");
try {
  await m.loadSettings(userDir + "/missing.yaml");
  out.missingSettings = "no error";
} catch (error) {
  out.missingSettings = error.name + ": " + error.message;
}
console.log(JSON.stringify(out));
`;

Deno.test({
  name:
    "the library runs on Node: echo, tokens, the llm user directory, OpenAI streaming and abort",
  ignore: NODE === undefined,
  async fn() {
    await using peer = await startPeer();
    const dir = await Deno.makeTempDir({ prefix: "node_test_" });
    try {
      const bundle = await bundleMod(`${dir}/mod.mjs`);

      const userDir = `${dir}/llm`;
      await Deno.mkdir(userDir);
      await Deno.writeTextFile(
        `${userDir}/extra-openai-models.yaml`,
        `- model_id: node-model\n  model_name: gpt-4o-mini\n  api_base: "${peer.url}"\n  api_key_name: nodekey\n`,
      );
      await Deno.writeTextFile(`${userDir}/keys.json`, JSON.stringify({ nodekey: "sk-from-keys" }));
      await Deno.writeTextFile(
        `${userDir}/aliases.json`,
        JSON.stringify({ "node-alias": "node-model" }),
      );
      await Deno.writeTextFile(`${userDir}/settings.yaml`, "BACKENDS:\n  default: {CLASS: echo}\n");
      const script = `${dir}/smoke.mjs`;
      await Deno.writeTextFile(script, SMOKE);

      const run = await new Deno.Command(NODE!, {
        args: [script, bundle, peer.url, userDir],
        env: { NO_COLOR: "1", OPENAI_API_KEY: "", LLM_USER_PATH: userDir },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);
      const out = JSON.parse(new TextDecoder().decode(run.stdout).trim().split("\n").at(-1)!);

      const echo = createAI({
        BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 20 } } },
      }).getBackend();
      const chunks = (await echo.getTextSplitter()).splitText("One two three four. ".repeat(6));
      assert.ok(chunks.length > 1);
      assert.deepEqual(out.chunks, chunks);
      assert.equal(out.echo, "This is an echo backend: Teh cat");
      assert.equal(out.tokens, await countTokens("Naïve café, 🎉 <|endoftext|> 12345", "gpt-4o"));
      assert.equal(out.llmModel, "node-model");
      assert.equal(out.llm, "Echo: Say:\nhello from node");
      assert.equal(out.streamed, "Echo: streamed words");
      assert.equal(out.whole, "Echo: whole");
      assert.equal(typeof out.usage.totalTokens, "number");
      assert.equal(out.abort, "stopped by node");
      assert.equal(out.missingKey, "MissingAPIKeyError");
      assert.equal(out.userDirFromEnv, userDir); // LLM_USER_PATH read from process.env
      assert.equal(out.keysPath, `${userDir}/keys.json`);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(out.keysPath)), {
        nodekey: "sk-from-keys",
        written: "sk-written-on-node",
      });
      assert.equal((await Deno.stat(out.keysPath)).mode! & 0o777, 0o600);
      assert.deepEqual(out.loaded, { BACKENDS: { default: { CLASS: "echo" } } });
      assert.match(out.missingSettings, /^ImproperlyConfigured: .*missing\.yaml.* does not exist$/);

      const llmRequest = peer.requests.find((request) => request.body?.model === "gpt-4o-mini");
      assert.ok(llmRequest, "the llm backend's request reached the peer");
      assert.equal(llmRequest.headers.authorization, "Bearer sk-from-keys");
      const openaiRequests = peer.requests.filter((request) => request.body?.model === "gpt-4o");
      assert.equal(openaiRequests.length, 2); // the aborted one was never sent
      assert.ok(openaiRequests.every((r) => r.headers.authorization === "Bearer sk-node-key"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Runs on Node: the native Anthropic provider (fetch, its SSE reader) and
// structured output (the validator loaded on first use, a repair). Prints one JSON line.
const STRUCTURED = `
const [bundle, peerUrl, anthropicUrl] = process.argv.slice(2);
const m = await import(bundle);
const out = {};
const claude = m.createProvider({
  provider: "anthropic", model: "claude-3-5-haiku-latest", api_key: "sk-ant-node", api_base: anthropicUrl,
});
out.completion = (await claude.completion({ messages: [{ role: "user", content: "hi node" }] }))
  .choices[0].message.content;
out.streamed = "";
for await (const event of claude.stream({ messages: [{ role: "user", content: "streamed on node" }] })) {
  if (event.type === "text") out.streamed += event.text;
}
const schema = {
  type: "object",
  properties: { title: { type: "string", maxLength: 10 } },
  required: ["title"],
};
const openai = m.createProvider({ provider: "openai", model: "gpt-4o-mini", api_key: "sk-node", api_base: peerUrl });
const answer = await openai.completeObject({ messages: [{ role: "user", content: "title" }], schema });
out.object = answer.object;
out.strategy = answer.strategy;
const tool = await claude.completeObject({ messages: [{ role: "user", content: "title" }], schema });
out.tool = tool.object;
try {
  await openai.completeObject({ messages: [{ role: "user", content: "title" }], schema });
  out.invalid = "no error";
} catch (error) {
  out.invalid = error.name + " " + error.validationErrors.map((issue) => issue.path).join(",");
}
console.log(JSON.stringify(out));
`;

Deno.test({
  name: "native Anthropic and structured output run on Node: fetch, SSE, the validator, a repair",
  ignore: NODE === undefined,
  async fn() {
    await using peer = await startPeer();
    await using anthropic = await startAnthropicPeer({ key: "sk-ant-node" });
    const dir = await Deno.makeTempDir({ prefix: "node_structured_test_" });
    try {
      const bundle = await bundleMod(`${dir}/mod.mjs`);
      const script = `${dir}/structured.mjs`;
      await Deno.writeTextFile(script, STRUCTURED);
      peer.enqueue(
        { text: JSON.stringify({ title: "Far too long a title" }) },
        { text: JSON.stringify({ title: "Short" }) },
        { text: JSON.stringify({ title: 1 }) },
        { text: JSON.stringify({ title: 2 }) },
      );
      anthropic.enqueue({}, {}, { object: { title: "Tool" } });
      const run = await new Deno.Command(NODE!, {
        args: [script, bundle, peer.url, anthropic.url],
        env: { NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      assert.equal(run.code, 0, stderr);
      const out = JSON.parse(new TextDecoder().decode(run.stdout).trim().split("\n").at(-1)!);
      assert.deepEqual(out, {
        completion: "Echo: hi node",
        streamed: "Echo: streamed on node",
        object: { title: "Short" },
        strategy: "json_schema",
        tool: { title: "Tool" },
        invalid: "StructuredOutputError /title",
      });
      assert.equal(anthropic.requests[1].body.stream, true);
      assert.equal(anthropic.requests[2].body.tool_choice.name, "response");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// The flag that turns on Node's permission model (`--permission` from Node 22.13
// and 23.5, `--experimental-permission` before), or undefined when there is none.
async function nodePermissionFlag(): Promise<string | undefined> {
  if (NODE === undefined) return undefined;
  for (const flag of ["--permission", "--experimental-permission"]) {
    const probe = await new Deno.Command(NODE, {
      args: [flag, "--allow-fs-read=*", "-e", "process.exit(process.permission ? 0 : 1)"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (probe.success) return flag;
  }
  return undefined;
}

const NODE_PERMISSION_FLAG = await nodePermissionFlag();

// Runs under Node's permission model: reads a settings file, the llm user
// directory and writes keys.json, printing each result or error as one JSON line.
const DENIED = `
const [bundle, settingsPath, userDir] = process.argv.slice(2);
const m = await import(bundle);
const out = {};
async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (error) {
    out[name] = (error instanceof m.ImproperlyConfigured ? "ImproperlyConfigured: " : "other: ") +
      error.message;
  }
}
await attempt("loadSettings", () => m.loadSettings(settingsPath));
await attempt("llm", () =>
  m.createAI({ BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "4o" } } } }, {
    llmUserPath: userDir,
  }).getBackend().getLLMModel().modelId);
await attempt("setKey", () => m.setKey("node", "sk-never-written", { userPath: userDir }));
await attempt("tokens", () => m.countTokens("hello world", "gpt-4o"));
console.log(JSON.stringify(out));
`;

Deno.test({
  name: "the library on Node with its permission model: a denied read or write names the node flag",
  ignore: NODE_PERMISSION_FLAG === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "node_perm_test_" });
    try {
      const bundle = await bundleMod(`${dir}/mod.mjs`);
      const script = `${dir}/denied.mjs`;
      await Deno.writeTextFile(script, DENIED);
      const settingsPath = `${dir}/settings.yaml`;
      await Deno.writeTextFile(settingsPath, "BACKENDS: {}\n");
      const userDir = `${dir}/llm`;
      await Deno.mkdir(userDir);

      const runNode = async (readFlags: string[]) => {
        const run = await new Deno.Command(NODE!, {
          args: [NODE_PERMISSION_FLAG!, ...readFlags, script, bundle, settingsPath, userDir],
          env: { NO_COLOR: "1", NODE_NO_WARNINGS: "1" },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
        return JSON.parse(new TextDecoder().decode(run.stdout).trim().split("\n").at(-1)!);
      };

      // Only the bundle and the script may be read: every file read is refused.
      const noRead = await runNode([`--allow-fs-read=${bundle}`, `--allow-fs-read=${script}`]);
      assert.match(
        noRead.loadSettings,
        /^ImproperlyConfigured: .*settings\.yaml.*read permission denied \(run node with --allow-fs-read\)$/,
      );
      assert.match(
        noRead.llm,
        /^ImproperlyConfigured: Cannot access ".*llm.*": read permission denied \(run node with --allow-fs-read\)$/,
      );
      assert.equal(noRead.tokens, 2);

      // Everything may be read, nothing written.
      const noWrite = await runNode(["--allow-fs-read=*"]);
      assert.deepEqual(noWrite.loadSettings, { BACKENDS: {} });
      assert.equal(noWrite.llm, "gpt-4o");
      assert.match(
        noWrite.setKey,
        /^ImproperlyConfigured: Cannot access ".*keys\.json": write permission denied \(run node with --allow-fs-write\)$/,
      );
      assert.ok(!noWrite.setKey.includes("sk-never-written"));
      assert.deepEqual([...Deno.readDirSync(userDir)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// Runs cli.ts's main() on Node with its default IO (process.stdout, process.stderr, stdin):
// a command that writes, one that fails, and one that reads standard input.
const CLI_MAIN = `
const [bundle] = process.argv.slice(2);
const m = await import(bundle);
const codes = [];
codes.push(await m.main(["--version"]));
codes.push(await m.main(["no-such-command"]));
codes.push(await m.main(["tokens", "-m", "gpt-4", "-"]));
process.stderr.write("codes " + JSON.stringify(codes) + "\\n");
`;

Deno.test({
  name: "the CLI runs on Node: main() with its default IO, and the bundle run as a script",
  ignore: NODE === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "node_cli_test_" });
    try {
      const bundle = await bundleMod(`${dir}/cli.mjs`, [], "cli.ts");
      const script = `${dir}/cli_main.mjs`;
      await Deno.writeTextFile(script, CLI_MAIN);
      const runNode = async (args: string[], stdin: string) => {
        const child = new Deno.Command(NODE!, {
          args,
          env: { NO_COLOR: "1" },
          clearEnv: true,
          stdin: "piped",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const writer = child.stdin.getWriter();
        await writer.write(new TextEncoder().encode(stdin));
        await writer.close();
        const run = await child.output();
        const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
        return { code: run.code, stdout: decode(run.stdout), stderr: decode(run.stderr) };
      };

      const viaMain = await runNode([script, bundle], "hello world");
      assert.equal(viaMain.code, 0, viaMain.stderr);
      assert.equal(viaMain.stdout, "cli 0.1.0\n2\n");
      assert.match(viaMain.stderr, /^Error: Unknown command "no-such-command"/);
      assert.match(viaMain.stderr, /codes \[0,2,0\]\n$/);

      // The bundle as the main script: arguments from process.argv, the exit code set.
      const direct = await runNode([bundle, "tokens", "-m", "gpt-4", "-"], "hello world");
      assert.deepEqual([direct.code, direct.stdout, direct.stderr], [0, "2\n", ""]);
      const failing = await runNode([bundle, "keys", "get"], "");
      assert.equal(failing.code, 2);
      assert.match(failing.stderr, /^Error: Missing NAME/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
