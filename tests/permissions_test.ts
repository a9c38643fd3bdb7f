// The library runs with narrow permissions: --allow-net scoped to the host and
// --allow-env scoped to the variables it reads; without env permission it
// reports a missing key clearly instead of crashing or prompting.
import assert from "node:assert/strict";
import { startPeer } from "./_peer.ts";

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
