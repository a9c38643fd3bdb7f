import assert from "node:assert/strict";
import { parseArgs } from "../_cli/args.ts";
import { runCli } from "./_cli.ts";

const ECHO_SETTINGS = JSON.stringify({
  BACKENDS: {
    default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 30 } },
    vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 30 } },
  },
  IMAGE_DESCRIPTION_BACKEND: "vision",
});

async function withSettings(fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, ECHO_SETTINGS);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("cli: no command prints usage and exits 2; help exits 0", async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: cli/);
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /tokens/);
});

Deno.test("cli: an unknown command or option prints usage and exits 2", async () => {
  const unknown = await runCli(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  const option = await runCli(["tokens", "--bogus", "-"]);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /Unknown option --bogus/);
  assert.match(option.stderr, /Usage: tokens/);
  const missing = await runCli(["tokens", "-m"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /-m needs a value/);
  const userDir = await runCli(["--user-dir"]);
  assert.equal(userDir.code, 2);
});

Deno.test("cli: a command's --help prints its usage", async () => {
  const run = await runCli(["split", "--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /Usage: split/);
});

Deno.test("cli help COMMAND prints that command's usage", async () => {
  const run = await runCli(["help", "tokens"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: tokens/);
  const unknown = await runCli(["help", "nope"]);
  assert.equal(unknown.code, 0);
  assert.match(unknown.stdout, /Commands:/);
});

Deno.test("cli: a reader that goes away (| head) ends the command quietly with exit 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/big.txt`;
    await Deno.writeTextFile(file, "A sentence of some words.\n\n".repeat(20_000));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        new URL("../cli.ts", import.meta.url).pathname,
        "split",
        "--size",
        "10",
        "--overlap",
        "0",
        file,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Read one chunk, then close the pipe, as `head -1` does.
    const reader = child.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    assert.equal(stderr, "");
    assert.equal(status.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli tokens counts exactly from stdin or a file", async () => {
  const run = await runCli(["tokens", "-m", "gpt-4o", "-"], { stdin: "Hello, world!" });
  assert.deepEqual([run.code, run.stdout], [0, "4\n"]);
  const file = await runCli(["tokens", "--model=gpt-4", "a.txt"], {
    files: { "a.txt": "hello world" },
  });
  assert.deepEqual([file.code, file.stdout], [0, "2\n"]);
  const noInput = await runCli(["tokens"]);
  assert.equal(noInput.code, 2);
  assert.match(noInput.stderr, /Missing FILE or -/);
});

Deno.test("cli split prints chunks within the size", async () => {
  const text = "word ".repeat(400);
  const run = await runCli(["split", "--size", "50", "--overlap", "0", "--json", "-"], {
    stdin: text,
  });
  assert.equal(run.code, 0);
  const chunks = JSON.parse(run.stdout) as string[];
  assert.ok(chunks.length > 1);
  assert.match(run.stderr, /chunk\(s\) of at most 50 tokens/);
  const exact = await runCli(["split", "--size", "50", "--calculator", "tiktoken", "-"], {
    stdin: text,
  });
  assert.equal(exact.code, 0);
  assert.match(exact.stdout, /-----/);
});

Deno.test("cli split rejects bad numbers and calculators", async () => {
  for (
    const args of [
      ["--size", "0"],
      ["--size", "x"],
      ["--overlap", "-1"],
      ["--calculator", "magic"],
      ["--size", "10", "--overlap", "10"],
    ]
  ) {
    const run = await runCli(["split", ...args, "-"], { stdin: "text" });
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, /^Error: /);
  }
});

Deno.test("cli split names an unknown model without --size in one line", async () => {
  const run = await runCli(["split", "-m", "mystery-model", "-"], { stdin: "text" });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /NoTokenLimitFound: .*"mystery-model"/);
  assert.equal(run.stderr.trim().split("\n").length, 1);
});

Deno.test("cli complete runs a one-off prompt over the text, one answer per chunk in place", async () => {
  await withSettings(async (path) => {
    // TOKEN_LIMIT 30 leaves room for chunks of a few words: each answer replaces its words.
    const text = "alpha beta gamma. ".repeat(20);
    const run = await runCli(["complete", "--settings", path, "--pre", "Fix:", "-"], {
      stdin: text,
    });
    assert.equal(run.code, 0, run.stderr);
    const answers = run.stdout.split("This is an echo backend: ").slice(1);
    assert.ok(answers.length > 1);
    assert.equal(answers.join("").replaceAll(/\s+/g, " ").trim(), text.trim());
    assert.match(run.stderr, /^\[chunk 1\/\d+\]$/m);
  });
});

Deno.test("cli complete reports a prompt too long for the window in one line", async () => {
  await withSettings(async (path) => {
    const run = await runCli(["complete", "--settings", path, "-"], { stdin: "Some text." });
    assert.equal(run.code, 1);
    const errors = run.stderr.split("\n").filter((line) => line.startsWith("Error:"));
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^Error: ContextLengthError: The prompt is \d+ tokens/);
  });
});

Deno.test("cli complete reports bad settings in one line and exits 1", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      path,
      JSON.stringify({ BACKENDS: { default: { CLASS: "nope", CONFIG: { MODEL_ID: "x" } } } }),
    );
    const run = await runCli(["complete", "--settings", path, "-"], { stdin: "x" });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: InvalidAIBackendError: Invalid AI backend "default"/);
    const missing = await runCli(["complete", "--settings", path + ".none", "-"], { stdin: "x" });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("cli describe-image uses the image backend and the file name", async () => {
  await withSettings(async (path) => {
    const run = await runCli(["describe-image", "--settings", path, "photos/cat.png"], {
      files: { "photos/cat.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "This is an echo backend: cat.png\n");
    assert.match(run.stderr, /IMAGE_DESCRIPTION_BACKEND is deprecated/);
  });
});

Deno.test("cli: positionals named like Object.prototype keys are files, not flags", async () => {
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    const run = await runCli(["tokens", "-m", "gpt-4", name], { files: { [name]: "hello world" } });
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, "2\n", ""], name);
    const split = await runCli(["split", "--size", "10", name], { files: { [name]: "a b" } });
    assert.equal(split.code, 0, `split ${name}: ${split.stderr}`);
    assert.equal(split.stdout, "a b\n");
  }
});

Deno.test("cli: --help after -- is a positional, not a request for help", async () => {
  const run = await runCli(["tokens", "-m", "gpt-4", "--", "--help"], {
    files: { "--help": "hello world" },
  });
  assert.deepEqual([run.code, run.stdout], [0, "2\n"]);
});

Deno.test("cli: an unknown option's inline value is not echoed", async () => {
  for (const arg of ["-k=sk-secret-123", "--api-key=sk-secret-123"]) {
    const run = await runCli(["tokens", arg, "-"], { stdin: "x" });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /Unknown option -/);
    assert.doesNotMatch(run.stderr, /sk-secret/);
  }
});

Deno.test("cli: --user-dir=DIR is accepted like --user-dir DIR", async () => {
  const run = await runCli(["--user-dir=/nonexistent-user-dir", "tokens", "-m", "gpt-4", "-"], {
    stdin: "hello world",
  });
  assert.deepEqual([run.code, run.stdout, run.stderr], [0, "2\n", ""]);
  const empty = await runCli(["--user-dir=", "tokens", "-"], { stdin: "x" });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /--user-dir needs a value/);
});

Deno.test("cli: every command has --help on stdout (exit 0) and rejects an unknown option (exit 2, no stdout)", async () => {
  const usage = (await runCli(["--help"])).stdout;
  const names = [...usage.matchAll(/^ {2}(\S+)\s{2,}/gm)].map((m) => m[1]);
  assert.ok(names.includes("tokens") && names.includes("split") && names.length >= 8);
  for (const name of names) {
    const help = await runCli([name, "--help"]);
    assert.deepEqual([help.code, help.stderr], [0, ""], name);
    assert.match(help.stdout, new RegExp(`^Usage: ${name}`), name);
    const bad = await runCli([name, "--no-such-flag"]);
    assert.deepEqual([bad.code, bad.stdout], [2, ""], name);
    assert.match(bad.stderr, /^Error: Unknown option --no-such-flag/, name);
  }
});

Deno.test("parseArgs() takes a pair flag's inline value as its KEY", () => {
  const spec = { pairs: { "-o": "option", "--option": "option" } };
  const parsed = parseArgs(["--option=temperature", "0.5", "hi"], spec);
  assert.deepEqual(parsed.pairs, { option: [["temperature", "0.5"]] });
  assert.deepEqual(parsed.positionals, ["hi"]);
  assert.throws(() => parseArgs(["--option=temperature"], spec), /--option needs KEY VALUE/);
});
