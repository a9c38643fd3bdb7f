import assert from "node:assert/strict";
import { registerPlugin, unregisterPlugin } from "../mod.ts";
import { main } from "../cli.ts";
import { runCli } from "./_cli.ts";
import { runScript, tempUserDir } from "./_llm.ts";
import { startPeer } from "./_peer.ts";

const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

Deno.test("cli models lists models like llm models, then the default", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": "- model_id: my-proxy\n  model_name: gpt-4o\n  aliases: [mp]\n",
  });
  const run = await runCli(["--user-dir", dir.path, "models"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "OpenAI Chat: gpt-4o (aliases: 4o)");
  assert.ok(lines.includes("OpenAI Chat: gpt-4o-mini (aliases: 4o-mini)"));
  assert.ok(lines.includes("OpenAI Chat: gpt-4.1-mini (aliases: 4.1-mini)"));
  assert.ok(lines.includes("OpenAI Chat: gpt-3.5-turbo (aliases: 3.5, chatgpt)"));
  assert.ok(lines.includes("OpenAI Chat: o3"));
  assert.equal(lines.at(-2), "OpenAI Chat: my-proxy (aliases: mp)");
  assert.equal(lines.at(-1), "Default: gpt-4o-mini");
  const list = await runCli(["--user-dir", dir.path, "models", "list"]);
  assert.equal(list.stdout, run.stdout);
});

Deno.test("cli models -q filters, --options documents options, --json prints JSON", async () => {
  await using dir = await tempUserDir();
  const query = await runCli(["--user-dir", dir.path, "models", "-q", "4o", "-q", "mini"]);
  assert.equal(query.stdout, "OpenAI Chat: gpt-4o-mini (aliases: 4o-mini)\n");
  const none = await runCli(["--user-dir", dir.path, "models", "-q", "nothing-matches"]);
  assert.deepEqual([none.code, none.stdout], [0, ""]);
  const options = await runCli(["--user-dir", dir.path, "models", "--options", "-q", "gpt-4o"]);
  assert.equal(options.code, 0);
  assert.match(
    options.stdout,
    /^OpenAI Chat: gpt-4o \(aliases: 4o\)\n {2}Options:\n {4}temperature: float\n {6}What sampling temperature/,
  );
  assert.match(options.stdout, / {4}stop: str, list\n/);
  assert.match(
    options.stdout,
    / {2}Attachment types:\n {4}image\/gif, image\/jpeg, image\/png, image\/webp/,
  );
  assert.match(options.stdout, / {2}Features:\n {2}- streaming/);
  assert.match(options.stdout, / {2}Keys:\n {4}key: openai\n {4}env_var: OPENAI_API_KEY/);
  const o3 = await runCli(["--user-dir", dir.path, "models", "--options", "-q", "o3-mini"]);
  assert.match(o3.stdout, /reasoning_effort: choice \(minimal, low, medium, high\)/);
  const json = await runCli(["--user-dir", dir.path, "models", "--json", "-q", "4.1-nano"]);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.length, 1);
  assert.equal(parsed[0].model_id, "gpt-4.1-nano");
  assert.deepEqual(parsed[0].aliases, ["4.1-nano"]);
  assert.equal(parsed[0].name, "OpenAI Chat");
  assert.equal(parsed[0].can_stream, true);
  assert.equal(parsed[0].needs_key, "openai");
  assert.equal(parsed[0].options.temperature.max, 2);
  assert.equal(parsed[0].context_window, 1_047_576);
});

Deno.test("cli models shows plugin models and never header values", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml":
      "- model_id: gw\n  api_base: https://proxy.example/v1\n  headers:\n    apikey: hdr-secret-1\n",
  });
  registerPlugin({
    name: "cli-reverse",
    registerModels(register) {
      register({ modelId: "reverse", label: "Reverse", async *execute() {} }, { aliases: ["rev"] });
    },
  });
  try {
    const run = await runCli(["--user-dir", dir.path, "models", "--options"]);
    assert.match(run.stdout, /\nReverse: reverse \(aliases: rev\)\n/);
    const json = await runCli(["--user-dir", dir.path, "models", "--json"]);
    for (const output of [run.stdout, json.stdout]) assert.ok(!output.includes("hdr-secret-1"));
    const gw = JSON.parse(json.stdout).find((model: { model_id: string }) =>
      model.model_id === "gw"
    );
    assert.equal(gw.api_base, "https://proxy.example/v1");
    assert.equal(gw.needs_key, null);
  } finally {
    unregisterPlugin("cli-reverse");
  }
});

Deno.test("cli models default prints and sets default_model.txt", async () => {
  await using dir = await tempUserDir();
  const before = await runCli(["--user-dir", dir.path, "models", "default"]);
  assert.deepEqual([before.code, before.stdout], [0, "gpt-4o-mini\n"]);
  const set = await runCli(["--user-dir", dir.path, "models", "default", "4.1"]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(await dir.read("default_model.txt"), "gpt-4.1");
  const after = await runCli(["--user-dir", dir.path, "models"]);
  assert.match(after.stdout, /\nDefault: gpt-4\.1\n$/);
  const unknown = await runCli(["--user-dir", dir.path, "models", "default", "gpt-17"]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'Error: UnknownModelError: Unknown model "gpt-17": run the "models" command to list the models and aliases\n',
  );
});

Deno.test("cli aliases list, set, remove and path", async () => {
  await using dir = await tempUserDir();
  const base = ["--user-dir", dir.path, "aliases"];
  const list = await runCli(base);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^4o\s+: gpt-4o\n/m);
  assert.match(list.stdout, /^chatgpt\s+: gpt-3\.5-turbo$/m);
  const set = await runCli([...base, "set", "turbo", "gpt-3.5-turbo-16k"]);
  assert.deepEqual([set.code, set.stdout, set.stderr], [0, "", ""]);
  assert.deepEqual(JSON.parse(await dir.read("aliases.json")), { turbo: "gpt-3.5-turbo-16k" });
  const json = await runCli([...base, "list", "--json"]);
  assert.equal(JSON.parse(json.stdout).turbo, "gpt-3.5-turbo-16k");
  const path = await runCli([...base, "path"]);
  assert.equal(path.stdout, `${dir.path}/aliases.json\n`);
  const removed = await runCli([...base, "remove", "turbo"]);
  assert.equal(removed.code, 0);
  assert.deepEqual(JSON.parse(await dir.read("aliases.json")), {});
  const again = await runCli([...base, "remove", "turbo"]);
  assert.deepEqual([again.code, again.stderr], [
    1,
    "Error: ImproperlyConfigured: No such alias in aliases.json: turbo\n",
  ]);
  const unknown = await runCli([...base, "set", "x", "gpt-17"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^Error: UnknownModelError: Unknown model "gpt-17"/);
  for (
    const args of [["set", "only-alias"], ["remove"], ["frobnicate"], ["set", "a", "b", "c"], [
      "path",
      "--json",
    ]]
  ) {
    const bad = await runCli([...base, ...args]);
    assert.equal(bad.code, 2, args.join(" "));
    assert.match(bad.stderr, /Usage: aliases/);
  }
});

Deno.test("cli keys path, set (stdin or --value, mode 0600) and list never print a key", async () => {
  await using dir = await tempUserDir();
  const base = ["--user-dir", dir.path, "keys"];
  const path = await runCli([...base, "path"]);
  assert.deepEqual([path.code, path.stdout], [0, `${dir.path}/keys.json\n`]);
  const fromStdin = await runCli([...base, "set", "openai"], { stdin: "sk-from-stdin\n" });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, "");
  const fromFlag = await runCli([...base, "set", "other", "--value", "sk-from-flag"]);
  assert.equal(fromFlag.code, 0);
  for (const run of [fromStdin, fromFlag]) {
    assert.ok(!run.stderr.includes("sk-from"), run.stderr);
    assert.match(run.stderr, /^Stored the key in .*keys\.json/);
  }
  const keys = JSON.parse(await dir.read("keys.json"));
  assert.equal(keys.openai, "sk-from-stdin");
  assert.equal(keys.other, "sk-from-flag");
  if (Deno.build.os !== "windows") {
    assert.equal((await Deno.stat(`${dir.path}/keys.json`)).mode! & 0o777, 0o600);
  }
  const list = await runCli([...base, "list"]);
  assert.equal(list.stdout, "openai\nother\n");
  const empty = await runCli([...base, "set", "x"], { stdin: "  \n" });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /No key given/);
  for (
    const args of [["set"], ["get"], ["get", "a", "b"], ["path", "--value", "x"], ["set", "a", "b"]]
  ) {
    const bad = await runCli([...base, ...args]);
    assert.equal(bad.code, 2, args.join(" "));
    assert.match(bad.stderr, /Usage: keys/);
  }
});

Deno.test('cli logs path and user-dir print what dirname "$(llm logs path)" expects', async () => {
  await using dir = await tempUserDir();
  const logs = await runCli(["--user-dir", dir.path, "logs", "path"]);
  assert.deepEqual([logs.code, logs.stdout], [0, `${dir.path}/logs.db\n`]);
  const userDir = await runCli(["--user-dir", dir.path, "user-dir"]);
  assert.deepEqual([userDir.code, userDir.stdout], [0, `${dir.path}\n`]);
  for (const args of [["logs"], ["logs", "list"], ["user-dir", "extra"]]) {
    const bad = await runCli(args);
    assert.equal(bad.code, 2, args.join(" "));
  }
  // Without --user-dir: LLM_USER_PATH (in a process of its own, so no other test sees it).
  const run = await runScript(
    `import { main } from ${JSON.stringify(new URL("../cli.ts", import.meta.url).href)};
     await main(["logs", "path"]); await main(["user-dir"]);`,
    { LLM_USER_PATH: "/srv/llm-dir" },
  );
  assert.equal(run.stdout, "/srv/llm-dir/logs.db\n/srv/llm-dir\n", run.stderr);
});

Deno.test("cli prompt streams a model's answer with -m, -s, -o, stdin and attachments", async () => {
  await using peer = await startPeer();
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `- model_id: peer-mini
  model_name: gpt-4o-mini
  api_base: "${peer.url}"
  vision: true
  aliases: [pm]
`,
  });
  const base = ["--user-dir", dir.path, "prompt"];
  const run = await runCli([
    ...base,
    "-m",
    "pm",
    "-s",
    "Be brief.",
    "-o",
    "temperature",
    "0.5",
    "-o",
    "max_tokens",
    "9",
    "Hello there",
  ]);
  assert.deepEqual([run.code, run.stdout, run.stderr], [0, "Echo: Hello there\n", ""]);
  const body = peer.lastRequest().body;
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hello there" },
  ]);
  assert.equal(body.temperature, 0.5);
  assert.equal(body.max_tokens, 9);
  assert.equal(body.stream, true);
  assert.equal(body.model, "gpt-4o-mini");
  const stdin = await runCli([...base, "-m", "peer-mini", "--no-stream", "-"], {
    stdin: "From stdin",
  });
  assert.equal(stdin.stdout, "Echo: From stdin\n");
  assert.notEqual(peer.lastRequest().body.stream, true);
  const image = await runCli([...base, "-m", "pm", "-a", "pixel.png", "Describe"], {
    files: { "pixel.png": PNG },
  });
  assert.equal(
    image.stdout,
    `Echo: Describe [image image/png ${PNG.length} bytes]\n`,
    image.stderr,
  );
  // The default model comes from default_model.txt.
  await dir.write("default_model.txt", "pm");
  const byDefault = await runCli([...base, "hi"]);
  assert.equal(byDefault.stdout, "Echo: hi\n");
});

Deno.test("cli prompt errors: one line, no stack; bad arguments print usage and exit 2", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": "- model_id: local\n  api_base: http://127.0.0.1:9/v1\n",
  });
  const base = ["--user-dir", dir.path, "prompt"];
  // A bad -o is a usage error: exit 2, the message, then the usage.
  const badOption = await runCli([...base, "-m", "local", "-o", "temperature", "9", "hi"]);
  assert.equal(badOption.code, 2);
  assert.match(
    badOption.stderr,
    /^Error: Option "temperature" for model "local" in -o options must be a number from 0 to 2, got 9\n\nUsage: prompt/,
  );
  const unknownOption = await runCli([...base, "-m", "local", "-o", "temp", "1", "hi"]);
  assert.equal(unknownOption.code, 2);
  assert.match(unknownOption.stderr, /^Error: Unknown option "temp" for model "local"/);
  assert.match(unknownOption.stderr, /Usage: prompt/);
  const unknownModel = await runCli([...base, "-m", "gpt-17", "hi"]);
  assert.match(unknownModel.stderr, /^Error: UnknownModelError: Unknown model "gpt-17"/);
  const noVision = await runCli([...base, "-m", "local", "-a", "x.png", "hi"], {
    files: { "x.png": PNG },
  });
  assert.match(
    noVision.stderr,
    /^Error: UnsupportedFeatureError: Model "local" takes no attachments/,
  );
  const unreachable = await runCli([...base, "-m", "local", "hi"]);
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.stderr.trim().split("\n").length, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /^Error: ConnectionError: /);
  for (const args of [[], ["-m"], ["-o", "temperature"], ["a", "b"], ["--bogus", "x"]]) {
    const bad = await runCli([...base, ...args]);
    assert.equal(bad.code, 2, args.join(" "));
    assert.match(bad.stderr, /Usage: prompt/);
  }
  // A missing key: in a process of its own, without OPENAI_API_KEY.
  const run = await runScript(
    `import { main } from ${JSON.stringify(new URL("../cli.ts", import.meta.url).href)};
     Deno.exitCode = await main(["--user-dir", ${
      JSON.stringify(dir.path)
    }, "prompt", "-m", "4o", "hi"]);`,
    {},
  );
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /^Error: MissingAPIKeyError: No API key found for model "gpt-4o".*keys set openai.*OPENAI_API_KEY environment variable\n$/,
  );
});

Deno.test("cli aliases list keeps the models' order, numeric aliases such as 4 included", async () => {
  await using dir = await tempUserDir({ "aliases.json": JSON.stringify({ "5": "gpt-4o" }) });
  const base = ["--user-dir", dir.path, "aliases", "list"];
  const text = await runCli(base);
  assert.equal(text.code, 0, text.stderr);
  const names = text.stdout.trimEnd().split("\n").map((line) => line.split(" ")[0]);
  assert.deepEqual(names.slice(0, 3), ["4o", "5", "chatgpt-4o"]);
  assert.equal(names.indexOf("4"), names.indexOf("3.5-16k") + 1, "4 follows gpt-3.5-turbo-16k");
  const json = await runCli([...base, "--json"]);
  const keys = [...json.stdout.matchAll(/^ {4}"([^"]*)":/gm)].map((match) => match[1]);
  assert.deepEqual(keys, names);
  assert.equal(JSON.parse(json.stdout)["4"], "gpt-4");
});

Deno.test("cli prompt combines piped stdin and the prompt like llm: stdin, a newline, the prompt", async () => {
  await using peer = await startPeer();
  await using dir = await tempUserDir({
    "extra-openai-models.yaml":
      `- model_id: peer-mini\n  model_name: gpt-4o-mini\n  api_base: "${peer.url}"\n`,
  });
  const base = ["--user-dir", dir.path, "prompt", "-m", "peer-mini"];
  const both = await runCli([...base, "Fix this:"], { stdin: "piped teh text\n" });
  assert.equal(both.code, 0, both.stderr);
  assert.deepEqual(peer.lastRequest().body.messages, [
    { role: "user", content: "piped teh text\nFix this:" },
  ]);
  // Stdin alone is the prompt; so is "-".
  for (const args of [[], ["-"]]) {
    const alone = await runCli([...base, ...args], { stdin: "only stdin\n" });
    assert.equal(alone.code, 0, alone.stderr);
    assert.deepEqual(peer.lastRequest().body.messages, [{ role: "user", content: "only stdin\n" }]);
  }
  // Empty stdin leaves the prompt as it is.
  const empty = await runCli([...base, "Just this"], { stdin: "" });
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual(peer.lastRequest().body.messages, [{ role: "user", content: "Just this" }]);
  assert.equal(peer.requests.length, 4);
});

Deno.test("cli prompt does not read a terminal's stdin unless asked with -", async () => {
  await using dir = await tempUserDir();
  let reads = 0;
  const io = {
    stdout: () => {},
    stderr: () => {},
    stdinIsTerminal: () => true,
    readStdin: () => {
      reads++;
      return Promise.resolve("typed");
    },
  };
  // Without a prompt and with stdin a terminal: a usage error, stdin left alone.
  assert.equal(await main(["--user-dir", dir.path, "prompt", "-m", "4o"], io), 2);
  assert.equal(reads, 0);
});

Deno.test("cli keys without a subcommand lists the key names; keys get NAME prints one key", async () => {
  await using dir = await tempUserDir({
    "keys.json": JSON.stringify({
      "// Note": "This file stores secret API credentials. Do not share!",
      openai: "sk-stored-1",
      mistral: "ms-stored-2",
    }),
  });
  const base = ["--user-dir", dir.path, "keys"];
  const bare = await runCli(base);
  assert.deepEqual([bare.code, bare.stdout, bare.stderr], [0, "openai\nmistral\n", ""]);
  assert.ok(!bare.stdout.includes("stored"));
  const get = await runCli([...base, "get", "mistral"]);
  assert.deepEqual([get.code, get.stdout, get.stderr], [0, "ms-stored-2\n", ""]);
  for (const name of ["nope", "// Note", "constructor"]) {
    const missing = await runCli([...base, "get", name]);
    assert.equal(missing.code, 1, name);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /^Error: .*No key found in keys\.json with the name given/);
    assert.ok(!missing.stderr.includes("stored"));
  }
});

Deno.test("cli --version prints the version of deno.json", async () => {
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  for (const flag of ["--version", "-V"]) {
    const run = await runCli([flag]);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, `cli ${version}\n`, ""], flag);
  }
  const usage = await runCli(["--help"]);
  assert.match(usage.stdout, /--version/);
});

Deno.test("cli keys never prints a positional argument: a key typed where a name or subcommand goes", async () => {
  await using dir = await tempUserDir({ "keys.json": JSON.stringify({ openai: "sk-stored" }) });
  const base = ["--user-dir", dir.path, "keys"];
  const typed = "sk-TYPED-AS-POSITIONAL-0123456789";
  const cases: [string[], string | undefined][] = [
    [[typed], undefined],
    [["get", typed], undefined],
    [["set", "openai", typed], undefined],
    [["set", typed, "--value", "sk-other"], undefined],
    [["set", typed], "sk-from-stdin"],
    [["list", typed], undefined],
    [["path", typed], undefined],
    [["get", "openai", typed], undefined],
  ];
  for (const [args, stdin] of cases) {
    const run = await runCli([...base, ...args], { stdin });
    assert.ok(!run.stdout.includes(typed), `${args.join(" ")}: ${run.stdout}`);
    assert.ok(!run.stderr.includes(typed), `${args.join(" ")}: ${run.stderr}`);
    assert.ok(!run.stderr.includes("TYPED"), `${args.join(" ")}: ${run.stderr}`);
  }
});
