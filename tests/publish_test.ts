// The published package is whole: no file that `deno publish` sends imports a file that the
// publish leaves out (deno.json's publish.exclude), so every published module loads.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function run(args: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.ok(output.success, decoder.decode(output.stderr));
  return decoder.decode(output.stdout) + decoder.decode(output.stderr);
}

/** The files `deno publish` would send, as paths from the root (its own list, read from a dry run). */
async function publishedFiles(): Promise<Set<string>> {
  const text = await run(["publish", "--dry-run", "--allow-dirty", "--no-check"]);
  const files = [...text.matchAll(/^\s*(file:\/\/\S+)/gm)].map((match) => match[1]);
  assert.ok(files.length > 10, text);
  return new Set(
    files.filter((url) => url.startsWith(ROOT.href)).map((url) => url.slice(ROOT.href.length)),
  );
}

/** Each local module reached from `modules` and the local modules it imports (code and types). */
async function localImports(modules: string[]): Promise<Map<string, string[]>> {
  const dir = await Deno.makeTempDir({ prefix: "publish_test_" });
  try {
    const entry = `${dir}/all.ts`;
    await Deno.writeTextFile(
      entry,
      modules.map((path) => `import ${JSON.stringify(new URL(path, ROOT).href)};\n`).join(""),
    );
    const config = new URL("deno.json", ROOT).pathname;
    const info = JSON.parse(await run(["info", "--json", "--config", config, entry])) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const root = ROOT.href;
    const out = new Map<string, string[]>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith(root)) continue;
      const targets = (module.dependencies ?? [])
        .flatMap((dependency) => [dependency.code?.specifier, dependency.type?.specifier])
        .filter((target): target is string => target?.startsWith(root) === true)
        .map((target) => target.slice(root.length));
      out.set(module.specifier.slice(root.length), [...new Set(targets)]);
    }
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("no published module imports a file that the publish excludes", async () => {
  const published = await publishedFiles();
  for (const needed of ["mod.ts", "cli.ts", "README.md", "LICENSE"]) {
    assert.ok(published.has(needed), needed);
  }
  const modules = [...published].filter((path) => /\.(ts|tsx|js|mjs)$/.test(path));
  const imports = await localImports(modules);
  const missing: string[] = [];
  for (const from of modules) {
    for (const target of imports.get(from) ?? []) {
      if (!published.has(target)) missing.push(`${from} imports ${target}`);
    }
  }
  assert.deepEqual(missing, [], "published modules import files the publish leaves out");
});

Deno.test("the publish leaves out the tests, the benchmarks and the demo", async () => {
  const published = await publishedFiles();
  const leaked = [...published].filter((path) => /^(tests|bench|demo|\.ci)\//.test(path));
  assert.deepEqual(leaked, []);
});

Deno.test("every file the published README.md and docs link to or show is published", async () => {
  const published = await publishedFiles();
  const missing: string[] = [];
  for (const doc of [...published].filter((path) => path.endsWith(".md"))) {
    const text = await Deno.readTextFile(new URL(doc, ROOT));
    const dir = doc.includes("/") ? doc.slice(0, doc.lastIndexOf("/") + 1) : "";
    // Markdown links and images, `[text](target)` and `![alt](target)`, to files of the package.
    for (const [, target] of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:|^#/.test(target)) continue;
      const path = new URL(target.split("#")[0], new URL(dir, "file:///")).pathname.slice(1);
      if (path !== "" && !published.has(path)) missing.push(`${doc} -> ${target}`);
    }
  }
  assert.deepEqual(missing, [], "published docs link to files the publish leaves out");
});

Deno.test("deno.json's publish.exclude lists each path once", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const exclude = config.publish.exclude as string[];
  assert.deepEqual(exclude.filter((path, index) => exclude.indexOf(path) !== index), []);
});
