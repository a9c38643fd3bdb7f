// The package used from another project, as the README's "Install" section
// says: a Deno project in a folder outside the repository whose deno.json maps
// only `@cms-ai/backends` to this checkout, and a Node project that has the
// `deno bundle` output installed as `@cms-ai/backends` in its node_modules.
// Both import the package by its name and run the echo backend, countTokens,
// loadSettings of a YAML file and an OpenAI-backend stream against the test
// peer. And an install that lacks js-tiktoken's ranks: preload() rejects naming
// them and check() reports them, while short prompts (no count needed) still send.
import assert from "node:assert/strict";
import { countTokens } from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { bundleMod, findNode } from "./_bundle.ts";

const CHECKOUT = new URL("../", import.meta.url).pathname;
const NODE = findNode();

// The consumer's program: the same source runs on Deno and on Node. Prints one JSON line.
const CONSUMER = `
import {
  countTokens,
  createAI,
  ImproperlyConfigured,
  loadSettings,
  toResponse,
} from "@cms-ai/backends";

const peerUrl = globalThis.Deno ? Deno.args[0] : process.argv[2];
const settingsPath = new URL("./ai.yaml", import.meta.url);
const out = {};
const echo = createAI({
  BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
}).getBackend();
out.echo = await echo.promptWithContext({ prePrompt: "Fix:", context: "Teh cat" }).text();
try {
  out.tokens = await countTokens("Hello, world!", "gpt-4o");
} catch (error) {
  out.tokens = error.name + ": " + error.message;
}
const settings = await loadSettings(settingsPath.pathname);
out.settings = settings;
const ai = createAI({
  ...settings,
  BACKENDS: {
    ...settings.BACKENDS,
    default: {
      ...settings.BACKENDS.default,
      CONFIG: { ...settings.BACKENDS.default.CONFIG, API_BASE: peerUrl },
    },
  },
});
try {
  await ai.preload();
  out.preload = "ok";
} catch (error) {
  out.preload = (error instanceof ImproperlyConfigured ? "ImproperlyConfigured: " : "other: ") +
    error.message;
}
out.check = ai.check().map((problem) => problem.name + ": " + problem.message);
const chunks = [];
try {
  for await (const chunk of ai.getBackend().promptWithContext({ prePrompt: "P", context: "two words" })) {
    chunks.push(chunk);
  }
  out.chunks = chunks;
} catch (error) {
  out.chunks = error.name + ": " + error.message;
}
const response = await toResponse(ai.getBackend().promptWithContext({ prePrompt: "P", context: "web" }));
out.response = [response.status, await response.text()];
console.log(JSON.stringify(out));
`;

const SETTINGS_YAML = `BACKENDS:
  default:
    CLASS: openai
    CONFIG:
      MODEL_ID: gpt-4o-mini
      OPENAI_API_KEY: sk-consumer
      MAX_RETRIES: 0
`;

function lastJsonLine(output: Deno.CommandOutput): Record<string, unknown> {
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1);
  assert.ok(line, `no output; stderr: ${stderr}`);
  return JSON.parse(line);
}

async function checkWorkingConsumer(out: Record<string, unknown>): Promise<void> {
  assert.equal(out.echo, "This is an echo backend: Teh cat");
  assert.equal(out.tokens, await countTokens("Hello, world!", "gpt-4o"));
  assert.deepEqual(out.settings, {
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-consumer", MAX_RETRIES: 0 },
      },
    },
  });
  assert.equal(out.preload, "ok");
  assert.deepEqual(out.check, []);
  assert.equal((out.chunks as string[]).join(""), "Echo: two words");
  assert.ok((out.chunks as string[]).length >= 2, "streamed in more than one chunk");
  assert.deepEqual(out.response, [200, "Echo: web"]);
}

Deno.test("a Deno project outside the repository that maps only @cms-ai/backends runs the package", async () => {
  await using peer = await startPeer();
  // A temporary folder is outside the repository: no deno.json of ours above it.
  const dir = await Deno.makeTempDir({ prefix: "consumer_" });
  try {
    assert.ok(!dir.startsWith(CHECKOUT));
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { "@cms-ai/backends": `${CHECKOUT}mod.ts` } }, null, 2),
    );
    await Deno.writeTextFile(`${dir}/ai.yaml`, SETTINGS_YAML);
    await Deno.writeTextFile(`${dir}/main.ts`, CONSUMER);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--allow-net=127.0.0.1", `--allow-read=${dir}`, "main.ts", peer.url],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    await checkWorkingConsumer(lastJsonLine(output));
    assert.ok(
      peer.requests.every((request) => request.headers.authorization === "Bearer sk-consumer"),
    );
    assert.equal(peer.requests.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A Node project with the bundle installed as node_modules/@cms-ai/backends. */
async function nodeProject(dir: string, external: string[] = []): Promise<void> {
  const packageDir = `${dir}/node_modules/@cms-ai/backends`;
  await Deno.mkdir(packageDir, { recursive: true });
  await bundleMod(`${packageDir}/mod.mjs`, external);
  await Deno.writeTextFile(
    `${packageDir}/package.json`,
    JSON.stringify({ name: "@cms-ai/backends", type: "module", exports: "./mod.mjs" }),
  );
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name: "consumer", type: "module", private: true }),
  );
  await Deno.writeTextFile(`${dir}/ai.yaml`, SETTINGS_YAML);
  await Deno.writeTextFile(`${dir}/main.mjs`, CONSUMER);
}

function runNode(dir: string, peerUrl: string): Promise<Deno.CommandOutput> {
  return new Deno.Command(NODE!, {
    args: ["main.mjs", peerUrl],
    cwd: dir,
    env: { NO_COLOR: "1", NODE_NO_WARNINGS: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
}

Deno.test({
  name: "a Node project that installs the deno bundle output as @cms-ai/backends runs the package",
  ignore: NODE === undefined,
  async fn() {
    await using peer = await startPeer();
    const dir = await Deno.makeTempDir({ prefix: "node_consumer_" });
    try {
      await nodeProject(dir);
      await checkWorkingConsumer(lastJsonLine(await runNode(dir, peer.url)));
      assert.equal(peer.requests.length, 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "an install without js-tiktoken's ranks: preload() rejects naming it, check() reports it, short prompts still send",
  ignore: NODE === undefined,
  async fn() {
    await using peer = await startPeer();
    const dir = await Deno.makeTempDir({ prefix: "broken_consumer_" });
    try {
      // The bundle leaves the ranks as imports, and this node_modules has none.
      await nodeProject(dir, ["js-tiktoken/ranks/*"]);
      const out = lastJsonLine(await runNode(dir, peer.url));
      assert.equal(out.echo, "This is an echo backend: Teh cat", "what needs no count works");
      assert.match(
        String(out.tokens),
        /^ImproperlyConfigured: Cannot load the "js-tiktoken" package/,
      );
      assert.match(
        String(out.preload),
        /^ImproperlyConfigured: Cannot load the "js-tiktoken" package \(npm:js-tiktoken@\^1\) for the o200k_base ranks/,
      );
      const check = out.check as string[];
      assert.equal(check.length, 1, check.join("\n"));
      assert.match(check[0], /^ImproperlyConfigured: Cannot load the "js-tiktoken"/);
      // A prompt whose size proves that it fits is sent without counting: no ranks needed.
      assert.equal((out.chunks as string[]).join(""), "Echo: two words");
      assert.deepEqual(out.response, [200, "Echo: web"]);
      assert.equal(peer.requests.length, 2);
      assert.ok(!JSON.stringify({ ...out, settings: undefined }).includes("sk-consumer"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
