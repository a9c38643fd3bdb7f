// The CLI's editor actions: `complete --prompt/--format` and `prompts`.
import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { type Peer, type RecordedRequest, startPeer } from "./_peer.ts";

function chunkOf(request: RecordedRequest): string {
  // deno-lint-ignore no-explicit-any
  const user = request.body.messages.filter((message: any) => message.role === "user").at(-1);
  return user.content[0].text;
}

async function withPeerSettings(
  peer: Peer,
  fn: (path: string) => Promise<void>,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        BACKENDS: {
          default: {
            CLASS: "openai",
            CONFIG: {
              MODEL_ID: "gpt-4o",
              TOKEN_LIMIT: 1000,
              OPENAI_API_KEY: "sk-test",
              API_BASE: peer.url,
              MAX_RETRIES: 0,
            },
          },
        },
        ...extra,
      }),
    );
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("cli complete --prompt correction --format html keeps a chunk whose answer changed a link", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: chunkOf(request).replaceAll("teh", "the") }),
  });
  await withPeerSettings(peer, async (path) => {
    const html = '<h1>Teh title</h1>\n<p>Teh <a href="/teh">link</a>.</p>\n<pre>teh code</pre>\n';
    const run = await runCli(
      ["complete", "--settings", path, "--prompt", "correction", "--format", "html", "page.html"],
      { files: { "page.html": html } },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, html);
    // The "model" changed the link target: the chunk kept its text, and stderr says why.
    assert.equal(run.stderr, "[chunk 1/1] kept: markup changed\n");
    // The code was never sent.
    assert.ok(!chunkOf(peer.lastRequest()).includes("teh code"));
  });
});

Deno.test("cli complete --format html applies a careful correction", async () => {
  await using peer = await startPeer({
    handler: (request) => ({
      text: chunkOf(request).replaceAll(
        />([^<]*)</g,
        (_, t: string) => `>${t.replaceAll("Teh", "The")}<`,
      ),
    }),
  });
  await withPeerSettings(peer, async (path) => {
    const html = "<h1>Teh title</h1>\n<p>Teh text.</p>\n";
    const run = await runCli(
      ["complete", "--settings", path, "--format", "html", "--concurrency", "2", "-"],
      { stdin: html },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "<h1>The title</h1>\n<p>The text.</p>\n");
    assert.doesNotMatch(run.stderr, /kept/);
  });
});

Deno.test("cli complete --prompt completion appends the answer; --pre runs a one-off prompt", async () => {
  await using peer = await startPeer({
    handler: (request) => ({
      // deno-lint-ignore no-explicit-any
      text: (request.body.messages as any)[0].content[0].text === "Shout."
        ? chunkOf(request).toUpperCase()
        : "It ended well.",
    }),
  });
  await withPeerSettings(peer, async (path) => {
    const appended = await runCli(
      ["complete", "--settings", path, "-p", "completion", "-"],
      { stdin: "It began." },
    );
    assert.equal(appended.code, 0, appended.stderr);
    assert.equal(appended.stdout, "It began. It ended well.");
    const shouted = await runCli(["complete", "--settings", path, "--pre", "Shout.", "-"], {
      stdin: "quiet words\n",
    });
    assert.equal(shouted.code, 0, shouted.stderr);
    assert.equal(shouted.stdout, "QUIET WORDS\n");
  });
});

Deno.test("cli complete refuses wrong arguments with the usage, and an unknown prompt in one line", async () => {
  for (
    const args of [
      ["--format", "xml"],
      ["--prompt", "correction", "--pre", "x"],
      ["--concurrency", "0"],
      ["--concurrency", "100"],
    ]
  ) {
    const run = await runCli(["complete", ...args, "-"], { stdin: "text" });
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, /^Error: /);
    assert.match(run.stderr, /Usage: complete/);
  }
  const unknown = await runCli(["complete", "--prompt", "translate", "-"], { stdin: "text" });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^Error: UnknownPromptError: Unknown prompt "translate"/);
});

Deno.test("cli prompts lists the built-in and configured prompts", async () => {
  await using peer = await startPeer();
  await withPeerSettings(peer, async (path) => {
    const run = await runCli(["prompts", "--settings", path]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^correction\s+replace\s+AI Correction - /);
    assert.match(lines[1], /^shorten\s+replace\s+Shorten \(backend "default"\)$/);
    const json = await runCli(["prompts", "--settings", path, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout);
    assert.deepEqual(listed.map((prompt: { name: string }) => prompt.name), [
      "correction",
      "shorten",
    ]);
    assert.equal(listed[1].prompt, "Make it shorter.");
  }, {
    PROMPTS: {
      completion: null,
      shorten: {
        LABEL: "Shorten",
        PROMPT: "Make it shorter.",
        METHOD: "replace",
        BACKEND: "default",
      },
    },
  });
  const defaults = await runCli(["prompts"]);
  assert.equal(defaults.code, 0, defaults.stderr);
  assert.match(defaults.stdout, /^correction .*\ncompletion\s+append\s+AI Completion/);
  const extra = await runCli(["prompts", "extra"]);
  assert.equal(extra.code, 2);
});
