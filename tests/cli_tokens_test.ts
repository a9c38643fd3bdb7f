// The CLI's tokens and split commands count for the model an LLM alias or an
// extra-openai-models.yaml model stands for, and say so when a count is an estimate.
import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { type TempUserDir, tempUserDir } from "./_llm.ts";

const TEXT = "Teh quick brown fox jumps over the lazy dog, again and again. ".repeat(20);

function userDir(): Promise<TempUserDir> {
  return tempUserDir({
    "extra-openai-models.yaml": "- model_id: my-proxy\n  model_name: gpt-4o\n  aliases: [mp]\n",
    "aliases.json": JSON.stringify({ work: "gpt-4" }),
  });
}

async function tokens(dir: TempUserDir, ...args: string[]) {
  return await runCli(["--user-dir", dir.path, "tokens", ...args, "-"], { stdin: TEXT });
}

Deno.test("cli tokens counts an LLM alias or a YAML model as the model it stands for, exactly", async () => {
  await using dir = await userDir();
  const gpt4o = await tokens(dir, "-m", "gpt-4o");
  const gpt4 = await tokens(dir, "-m", "gpt-4");
  assert.equal(gpt4o.code, 0, gpt4o.stderr);
  assert.notEqual(gpt4o.stdout, gpt4.stdout, "o200k_base and cl100k_base differ on this text");
  for (const alias of ["4o", "my-proxy", "mp"]) {
    const run = await tokens(dir, "-m", alias);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, gpt4o.stdout, ""], alias);
  }
  const work = await tokens(dir, "-m", "work"); // aliases.json
  assert.deepEqual([work.code, work.stdout, work.stderr], [0, gpt4.stdout, ""]);
});

Deno.test("cli tokens says on stderr when a count is an estimate; --json carries exact", async () => {
  await using dir = await userDir();
  const estimate = await tokens(dir, "-m", "claude-3-5-sonnet");
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.match(estimate.stdout, /^\d+\n$/);
  assert.match(
    estimate.stderr,
    /^Note: no known encoding for model "claude-3-5-sonnet": the count is an estimate\n$/,
  );
  const json = await tokens(dir, "-m", "claude-3-5-sonnet", "--json");
  assert.deepEqual(JSON.parse(json.stdout), {
    model: "claude-3-5-sonnet",
    tokens: Number(estimate.stdout),
    exact: false,
    encoding: null,
  });
  const exact = await tokens(dir, "-m", "4o", "--json");
  assert.equal(exact.stderr, "");
  const counted = JSON.parse(exact.stdout);
  assert.deepEqual(
    { ...counted, tokens: typeof counted.tokens },
    { model: "gpt-4o", tokens: "number", exact: true, encoding: "o200k_base" },
  );
});

Deno.test("cli split takes an alias's context window and encoding", async () => {
  await using dir = await userDir();
  const base = ["--user-dir", dir.path, "split", "--calculator", "tiktoken"];
  for (const model of ["4o", "mp", "gpt-4o"]) {
    const run = await runCli([...base, "-m", model, "-"], { stdin: TEXT });
    assert.equal(run.code, 0, `${model}: ${run.stderr}`);
    assert.equal(run.stderr, "1 chunk(s) of at most 128000 tokens\n", model);
  }
  // The exact counts of gpt-4 through its aliases.json alias: the same chunks.
  const sized = (model: string) =>
    runCli([...base, "-m", model, "--size", "40", "--overlap", "0", "--json", "-"], {
      stdin: TEXT,
    });
  const [byAlias, byId] = await Promise.all([sized("work"), sized("gpt-4")]);
  assert.equal(byAlias.code, 0, byAlias.stderr);
  assert.deepEqual(JSON.parse(byAlias.stdout), JSON.parse(byId.stdout));
});

Deno.test("cli split says on stderr when its sizes are estimates", async () => {
  await using dir = await userDir();
  const base = ["--user-dir", dir.path, "split", "--size", "40", "--overlap", "0"];
  const naive = await runCli([...base, "-m", "4o", "-"], { stdin: TEXT });
  assert.equal(naive.code, 0, naive.stderr);
  assert.match(naive.stderr, /chunk\(s\) of at most 40 tokens \(estimated by the naive calculator/);
  const unknown = await runCli([...base, "--calculator", "tiktoken", "-m", "mistral-large", "-"], {
    stdin: TEXT,
  });
  assert.equal(unknown.code, 0, unknown.stderr);
  assert.match(unknown.stderr, /\(estimated: no known encoding for model "mistral-large"\)/);
});

Deno.test("cli split refuses an overlap over half the size, as --help says", async () => {
  for (const [size, overlap] of [["100", "90"], ["100", "51"], ["11", "6"]]) {
    const run = await runCli(["split", "--size", size, "--overlap", overlap, "-"], { stdin: TEXT });
    assert.equal(run.code, 2, `${size} ${overlap}`);
    assert.match(
      run.stderr,
      new RegExp(
        `^Error: --overlap must be at most half of --size \\(${
          Math.floor(Number(size) / 2)
        }\\), got ${overlap}\n`,
      ),
    );
    assert.match(run.stderr, /Usage: split/);
  }
  for (const [size, overlap] of [["100", "50"], ["11", "5"], ["10", "0"]]) {
    const run = await runCli(["split", "--size", size, "--overlap", overlap, "-"], { stdin: TEXT });
    assert.equal(run.code, 0, run.stderr);
  }
  const help = await runCli(["split", "--help"]);
  assert.match(help.stdout, /--overlap N .*at most half the size/);
});
