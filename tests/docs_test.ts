// What the docs say and show: the words of Wagtail AI's users (not our internal ones), and a first
// example whose output a new user can read.
import assert from "node:assert/strict";
import { runScript } from "./_llm.ts";

const ROOT = new URL("../", import.meta.url);

/** README.md, docs/*.md and the published TypeScript (their comments are docs too). */
async function docFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory && !/^(tests|bench|demo|\.|node_modules)/.test(entry.name)) {
        await walk(`${path}/`);
      } else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk("");
  return files;
}

Deno.test('the docs say "Wagtail AI\'s", never the internal "the seed"', async () => {
  const found: string[] = [];
  for (const path of await docFiles()) {
    const lines = (await Deno.readTextFile(new URL(path, ROOT))).split("\n");
    lines.forEach((line, index) => {
      if (/\bthe seed\b|\bseed's\b/i.test(line)) found.push(`${path}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

Deno.test("the README's first example prints each answer once", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const first = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("## Usage")))![1];
  const run = await runScript(first.replaceAll('"./mod.ts"', '"MOD"'), {});
  assert.equal(run.code, 0, run.stderr);
  const text = run.stdout;
  // The example asks two questions (the article's one chunk, then a title): two answers, each
  // printed once, on a line of its own.
  assert.deepEqual(text.trimEnd().split("\n"), [
    `This is an echo backend: ${"A long article. ".repeat(10).trim()}`,
    "This is an echo backend: A",
  ]);
});

Deno.test("the README's task table gives each deno task's real permission flags", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const flags = (text: string) =>
    [...text.matchAll(/--allow-[a-z]+(?:=[^\s`]+)?/g)].map((m) => m[0]).sort();
  for (const name of ["test", "bench", "demo", "serve"]) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`deno task ${name}\``));
    assert.ok(row, `README has no row for deno task ${name}`);
    assert.deepEqual(flags(row), flags(config.tasks[name]), `deno task ${name}`);
  }
  assert.ok(!/no network/i.test(readme), 'the tests use local servers: not "no network"');
});
