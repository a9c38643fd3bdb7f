// Hostile files: YAML alias bombs, endless files (/dev/zero) given as settings,
// inputs or standard input, and a keys.json that is a symbolic link. Every
// temp directory is removed and every child process has ended at the end.
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { getModel, ImproperlyConfigured, loadSettings, setKey } from "../mod.ts";
import { MAX_YAML_CHARS, MAX_YAML_EXPANDED_CHARS, MAX_YAML_NODES, parseYaml } from "../_yaml.ts";

// Six levels of eight aliases (48, under the limit of 50) over 160 items: 160 x 8^6, about
// 42 million nodes once expanded, from under 1 KiB.
function aliasBomb(): string {
  const lines = [`a0: &a0 [${Array(160).fill("x").join(",")}]`];
  for (let level = 1; level <= 6; level++) {
    lines.push(`a${level}: &a${level} [${Array(8).fill(`*a${level - 1}`).join(",")}]`);
  }
  return lines.join("\n") + "\n";
}

async function tempDir(): Promise<string & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "hostile_files_" });
  return Object.assign(dir, {
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  }) as unknown as string & AsyncDisposable;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  // Only the output is captured: files and standard input are read by the CLI's own IO.
  const code = await main(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { code, stdout, stderr };
}

Deno.test("parseYaml() refuses an alias bomb by its expanded size, naming the file", () => {
  const text = aliasBomb();
  assert.ok(text.length < 1024);
  assert.ok((text.match(/\*/g) ?? []).length === 48);
  assert.throws(
    () => parseYaml(text, "bomb.yaml"),
    (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, /^"bomb\.yaml" is refused: .*more than 100000 nodes/);
      return true;
    },
  );
  assert.equal(MAX_YAML_NODES, 100_000);
});

Deno.test("parseYaml() still reads shared aliases under the expanded limit", () => {
  const value = parseYaml(
    "base: &b {MODEL_ID: gpt-4o, TOKEN_LIMIT: 100}\none: *b\ntwo: *b\n",
    "ok.yaml",
  ) as Record<string, unknown>;
  assert.deepEqual(value.two, { MODEL_ID: "gpt-4o", TOKEN_LIMIT: 100 });
  // A long flat list is many nodes but no bomb.
  const list = parseYaml(`items: [${Array(50_000).fill("1").join(",")}]`, "list.yaml");
  assert.equal((list as { items: number[] }).items.length, 50_000);
});

Deno.test("parseYaml() refuses aliases of a long string by the characters they expand to, naming the file", () => {
  // 1 MiB once, 48 aliases (under the alias limit, a few hundred nodes): about 49 MiB expanded.
  const text = `s: &s "${"x".repeat(1024 * 1024)}"\nl: [${Array(48).fill("*s").join(",")}]\n`;
  assert.ok(text.length < MAX_YAML_CHARS);
  assert.throws(
    () => parseYaml(text, "strings.yaml"),
    (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(
        error.message,
        new RegExp(
          `^"strings\\.yaml" is refused: .*more than ${MAX_YAML_EXPANDED_CHARS} characters`,
        ),
      );
      assert.ok(error.message.length < 200);
      return true;
    },
  );
  // Long keys count too: a mapping with a long key, aliased.
  const keys = `m: &m {"${"k".repeat(1024 * 1024)}": 1}\nl: [${Array(48).fill("*m").join(",")}]\n`;
  assert.throws(() => parseYaml(keys, "keys.yaml"), /"keys\.yaml" is refused: .*characters/);
});

Deno.test("parseYaml() reads a long string without aliases, and a few aliases of it", () => {
  const long = "y".repeat(4 * 1024 * 1024);
  assert.equal((parseYaml(`s: "${long}"\n`, "long.yaml") as { s: string }).s.length, long.length);
  const shared = parseYaml(
    `s: &s "${"z".repeat(100_000)}"\nl: [${Array(20).fill("*s").join(",")}]\n`,
    "shared.yaml",
  ) as { l: string[] };
  assert.equal(shared.l.length, 20);
});

Deno.test("parseYaml() refuses a recursive alias", () => {
  assert.throws(
    () => parseYaml("a: &a [1, *a]\n", "loop.yaml"),
    (error: unknown) =>
      error instanceof ImproperlyConfigured &&
      /"loop\.yaml" is refused: .*itself/.test(error.message),
  );
});

Deno.test("loadSettings() and cli migrate refuse an alias bomb at once", async () => {
  await using dir = await tempDir();
  const path = `${dir}/settings.yaml`;
  await Deno.writeTextFile(path, aliasBomb());
  await assert.rejects(loadSettings(path), (error: unknown) => {
    assert.ok(error instanceof ImproperlyConfigured);
    assert.match(error.message, /settings\.yaml" is refused/);
    return true;
  });
  const run = await cli(["migrate", path]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^Error: ImproperlyConfigured: .*settings\.yaml" is refused/);
});

Deno.test("loadSettings() reads with a size limit: /dev/zero fails at once", async () => {
  for (const path of ["/dev/zero", "/dev/urandom"]) {
    await assert.rejects(loadSettings(path), (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, new RegExp(`${path}.*larger than the limit of 16777216 bytes`));
      return true;
    });
  }
});

Deno.test("loadSettings() refuses a regular settings file over 16 MiB", async () => {
  await using dir = await tempDir();
  const path = `${dir}/big.json`;
  await Deno.writeFile(path, new Uint8Array(16 * 1024 * 1024 + 1).fill(0x20));
  await assert.rejects(loadSettings(path), /larger than the limit of 16777216 bytes/);
});

Deno.test("cli complete --settings /dev/zero and cli tokens /dev/zero fail at once with one line", async () => {
  const settings = await cli(["complete", "--settings", "/dev/zero", "/dev/null"]);
  assert.equal(settings.code, 1);
  assert.match(settings.stderr, /^Error: .*\/dev\/zero.*larger than the limit of \d+ bytes\n$/);
  await using dir = await tempDir();
  const echo = `${dir}/echo.json`;
  await Deno.writeTextFile(
    echo,
    JSON.stringify({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
    }),
  );
  for (
    const command of [
      ["tokens"],
      ["split"],
      ["complete", "--settings", echo],
      ["describe-image", "--settings", echo, "-b", "default"],
    ]
  ) {
    const run = await cli([...command, "/dev/zero"]);
    assert.equal(run.code, 1, command.join(" "));
    assert.match(run.stderr, /^Error: .*"\/dev\/zero".*larger than the limit of 67108864 bytes\n$/);
  }
});

Deno.test("cli tokens - stops reading an endless standard input at the limit", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      new URL("../cli.ts", import.meta.url).pathname,
      "tokens",
      "-",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  // Writes until the child stops reading (it exits, the pipe breaks).
  const feeding = (async () => {
    try {
      while (true) await writer.write(chunk);
    } catch {
      // the child has gone
    }
  })();
  const output = await child.output();
  await feeding;
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 1, stderr);
  assert.match(stderr, /^Error: standard input is larger than the limit of 67108864 bytes\n$/);
});

Deno.test("an extra-openai-models.yaml that never ends is an error, not a hang", async () => {
  await using dir = await tempDir();
  await Deno.symlink("/dev/zero", `${dir}/extra-openai-models.yaml`);
  assert.throws(
    () => getModel("anything", { userPath: dir }),
    (error: unknown) =>
      error instanceof ImproperlyConfigured && /larger than the limit/.test(error.message),
  );
});

Deno.test("setKey() refuses to write keys.json through a symbolic link, dangling or not", async () => {
  await using dir = await tempDir();
  await using outside = await tempDir();
  const target = `${outside}/elsewhere.json`;
  await Deno.writeTextFile(target, "{}");
  await Deno.chmod(target, 0o644);
  await Deno.symlink(target, `${dir}/keys.json`);
  await assert.rejects(setKey("openai", "sk-through-link", { userPath: dir }), (error: unknown) => {
    assert.ok(error instanceof ImproperlyConfigured, String(error));
    assert.match(error.message, /keys\.json.*symbolic link/);
    assert.doesNotMatch(error.message, /sk-through-link/);
    return true;
  });
  assert.equal(await Deno.readTextFile(target), "{}");
  assert.equal((await Deno.stat(target)).mode! & 0o777, 0o644, "the target was not chmodded");
  // Dangling: the link's target does not exist and must not be created.
  await Deno.remove(`${dir}/keys.json`);
  await Deno.symlink(`${outside}/created.json`, `${dir}/keys.json`);
  await assert.rejects(setKey("openai", "sk-x-123456", { userPath: dir }), /symbolic link/);
  await assert.rejects(Deno.lstat(`${outside}/created.json`), Deno.errors.NotFound);
  // A regular keys.json is still written, mode 0600.
  await Deno.remove(`${dir}/keys.json`);
  await setKey("openai", "sk-regular-123456", { userPath: dir });
  assert.equal((await Deno.stat(`${dir}/keys.json`)).mode! & 0o777, 0o600);
});
