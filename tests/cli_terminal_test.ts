// What the CLI writes: server-controlled escape sequences are made visible on a
// terminal (tested with the injected flag and with a real pseudo-terminal from
// util-linux's `script`) and kept as they are in a pipe; keys are never echoed;
// a full disk is one clear line.
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { escapeControls } from "../_cli/terminal.ts";
import { runCli } from "./_cli.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
// Window title, clear screen, cursor home, a hyperlink, a bell, a bare CR, C1 CSI and DEL.
const HOSTILE =
  "\x1b]0;pwned\x07 \x1b[2J\x1b[H \x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\ " +
  "over\rwrite \x9b31m \x7f";

async function tempDir(): Promise<string & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "cli_terminal_" });
  return Object.assign(dir, {
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }) as unknown as string & AsyncDisposable;
}

/** A settings file with the echo backend (it answers with the text it is given) and an input. */
async function echoFiles(dir: string): Promise<{ settings: string; input: string }> {
  const settings = `${dir}/settings.json`;
  await Deno.writeTextFile(
    settings,
    JSON.stringify({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
    }),
  );
  const input = `${dir}/input.txt`;
  await Deno.writeTextFile(input, HOSTILE);
  return { settings, input };
}

function hasRawControls(text: string): boolean {
  // deno-lint-ignore no-control-regex
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/.test(text);
}

Deno.test("escapeControls() shows control characters other than newline and tab as escapes", () => {
  assert.equal(escapeControls("a\tb\nc"), "a\tb\nc");
  assert.equal(escapeControls("\x1b]0;t\x07"), "\\x1b]0;t\\x07");
  assert.equal(escapeControls("over\rwrite"), "over\\rwrite");
  assert.equal(escapeControls("\x00\x7f\x9b\x85"), "\\x00\\x7f\\x9b\\x85");
  assert.equal(escapeControls("é ü 中 🙂"), "é ü 中 🙂");
  assert.ok(!hasRawControls(escapeControls(HOSTILE)));
});

Deno.test("cli complete escapes an answer's control characters when stdout is a terminal, not when piped", async () => {
  await using dir = await tempDir();
  const { settings, input } = await echoFiles(dir);
  for (const terminal of [true, false]) {
    let stdout = "";
    const code = await main(["complete", "--settings", settings, input], {
      stdout: (text) => void (stdout += text),
      stderr: () => {},
      stdoutIsTerminal: () => terminal,
    });
    assert.equal(code, 0);
    if (terminal) {
      assert.ok(!hasRawControls(stdout), JSON.stringify(stdout));
      assert.match(stdout, /\\x1b\]0;pwned\\x07/);
      assert.match(stdout, /\\x9b31m \\x7f/);
    } else {
      assert.ok(stdout.includes("\x1b]0;pwned\x07"), "piped output is kept as it is");
      assert.ok(stdout.includes("\x9b31m \x7f"));
    }
  }
});

Deno.test("cli error messages are escaped when stderr is a terminal", async () => {
  let stderr = "";
  const code = await main(["\x1b[2Jnope"], {
    stdout: () => {},
    stderr: (text) => void (stderr += text),
    stderrIsTerminal: () => true,
  });
  assert.equal(code, 2);
  assert.match(stderr, /Unknown command "\\x1b\[2Jnope"/);
  assert.ok(!hasRawControls(stderr));
  const piped = await runCli(["\x1b[2Jnope"]);
  assert.ok(piped.stderr.includes("\x1b[2Jnope"));
});

Deno.test("cli escapes control characters on a real pseudo-terminal and keeps them in a pipe", async () => {
  // `script` (util-linux, in Debian's essential bsdutils) runs the CLI on a pseudo-terminal.
  const which = await new Deno.Command("sh", { args: ["-c", "command -v script"], stdout: "piped" })
    .output();
  assert.ok(
    which.success,
    "util-linux `script` is needed for this test (apt-get install bsdutils)",
  );
  await using dir = await tempDir();
  const { settings, input } = await echoFiles(dir);
  const command = [
    Deno.execPath(),
    "run",
    "--quiet",
    "-A",
    CLI,
    "complete",
    "--settings",
    settings,
    input,
  ]
    .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const onTerminal = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", command, "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", TERM: "dumb" },
  }).output();
  const shown = new TextDecoder().decode(onTerminal.stdout);
  assert.equal(onTerminal.code, 0, new TextDecoder().decode(onTerminal.stderr) + shown);
  assert.match(shown, /\\x1b\]0;pwned\\x07/);
  // The terminal turns "\n" into "\r\n"; no other control character reaches it.
  assert.ok(!hasRawControls(shown.replaceAll("\r\n", "\n")), JSON.stringify(shown));
  const piped = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", CLI, "complete", "--settings", settings, input],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(piped.code, 0, new TextDecoder().decode(piped.stderr));
  assert.ok(new TextDecoder().decode(piped.stdout).includes("\x1b]0;pwned\x07"));
});

Deno.test("cli keys never echoes a positional argument, which may be a key", async () => {
  await using dir = await tempDir();
  for (
    const args of [
      ["keys", "set", "openai", "sk-positional-LEAK-1"],
      ["keys", "sk-positional-LEAK-1"],
      ["keys", "list", "sk-positional-LEAK-1"],
      ["keys", "path", "sk-positional-LEAK-1"],
    ]
  ) {
    const run = await runCli(["--user-dir", dir, ...args], { stdin: "" });
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, /^Error: (Unexpected argument|Unknown subcommand)/);
    assert.doesNotMatch(run.stderr + run.stdout, /LEAK/);
  }
});

Deno.test("cli on a full disk says so in one line, without a doubled prefix", async () => {
  const child = await new Deno.Command("sh", {
    args: ["-c", `echo hello | '${Deno.execPath()}' run --quiet -A '${CLI}' tokens - > /dev/full`],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(child.stderr);
  assert.equal(child.code, 1);
  assert.match(stderr, /^Error: No space left on device \(os error 28\)\n$/);
});

Deno.test("escapeControls() shows Unicode bidi controls as escapes, so an answer or a name cannot reorder what is shown", () => {
  const bidi = [
    0x061c,
    0x200e,
    0x200f,
    0x202a,
    0x202b,
    0x202c,
    0x202d,
    0x202e,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
  ];
  for (const code of bidi) {
    const char = String.fromCharCode(code);
    assert.equal(escapeControls(`a${char}b`), `a\\u${code.toString(16).padStart(4, "0")}b`);
  }
  assert.equal(escapeControls("invoice\u202Efdp.exe"), "invoice\\u202efdp.exe");
  // Right-to-left text itself is kept.
  assert.equal(escapeControls("שלום مرحبا"), "שלום مرحبا");
});

Deno.test("cli models escapes a model name's bidi controls on a terminal, not in a pipe", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir}/extra-openai-models.yaml`, '- model_id: "evil\u202Egnp.exe"\n');
  for (const terminal of [true, false]) {
    let stdout = "";
    const code = await main(["--user-dir", dir, "models", "-q", "evil"], {
      stdout: (text) => void (stdout += text),
      stderr: () => {},
      stdoutIsTerminal: () => terminal,
    });
    assert.equal(code, 0);
    if (terminal) {
      assert.ok(!stdout.includes("\u202E"), JSON.stringify(stdout));
      assert.match(stdout, /evil\\u202egnp\.exe/);
    } else assert.ok(stdout.includes("evil\u202Egnp.exe"));
  }
});
