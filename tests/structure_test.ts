// The package's import graph: no import circle (type imports included), and
// every import points down the layers of docs/architecture.md.
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** The layers, lowest first; a module may import its own layer or lower ones. */
const LAYERS: readonly (readonly [string, RegExp])[] = [
  ["foundation", /^(errors|_env|_redact|_validate|_yaml|_json)\.ts$/],
  ["messages", /^(chat|structured|_image)\.ts$/],
  ["tokens and splitting", /^(tokens\.ts|_budget\.ts|_tokenizer\/.+|text_splitters\/.+)$/],
  ["http", /^_http\/.+$/],
  ["service clients", /^(_openai|_anthropic)\/.+$/],
  ["structured output", /^_structured\/.+$/],
  ["providers", /^providers\/.+$/],
  ["backends", /^backends\/.+$/],
  ["operations", /^operations\/.+$/],
  ["limits", /^limits\/.+$/],
  ["documents", /^documents\/.+$/],
  ["settings", /^settings\.ts$/],
  ["composition", /^(ai|migrate|load_settings)\.ts$/],
  ["web", /^web\.ts$/],
  ["cli", /^(cli\.ts|_cli\/.+)$/],
  ["entry", /^(mod|redis)\.ts$/],
];

type Graph = Map<string, Set<string>>;

/** The package's entry points, from deno.json's `exports`. */
async function entryPoints(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return Object.values(config.exports as Record<string, string>);
}

/** The local import graph (code and type imports, static and dynamic) from `entries`. */
async function importGraph(entries: readonly string[]): Promise<Graph> {
  const graph: Graph = new Map();
  const root = ROOT.href;
  for (const entry of entries) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    for (const module of info.modules) {
      if (!module.specifier.startsWith(root)) continue;
      const from = module.specifier.slice(root.length);
      const edges = graph.get(from) ?? new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          if (target?.startsWith(root)) edges.add(target.slice(root.length));
        }
      }
      graph.set(from, edges);
    }
  }
  return graph;
}

/** The import circles of `graph`: its strongly connected parts of two or more modules (or a self-import). */
function circles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const part: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      part.push(member);
    } while (member !== node);
    if (part.length > 1 || graph.get(node)?.has(node)) found.push(part.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

function layerOf(path: string): number {
  return LAYERS.findIndex(([, pattern]) => pattern.test(path));
}

Deno.test("circles() finds an import circle and names its files", () => {
  const graph: Graph = new Map([
    ["a.ts", new Set(["b.ts"])],
    ["b.ts", new Set(["c.ts"])],
    ["c.ts", new Set(["a.ts", "d.ts"])],
    ["d.ts", new Set()],
    ["e.ts", new Set(["e.ts"])],
  ]);
  assert.deepEqual(circles(graph), [["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
  assert.deepEqual(circles(new Map([["a.ts", new Set(["b.ts"])], ["b.ts", new Set()]])), []);
});

Deno.test("the package has no import circle (type imports included)", async () => {
  const graph = await importGraph(await entryPoints());
  assert.ok(graph.size > 40, `only ${graph.size} modules found: is deno info working?`);
  const found = circles(graph);
  assert.deepEqual(
    found,
    [],
    `import circles:\n${found.map((files) => `  ${files.join(" -> ")}`).join("\n")}`,
  );
});

Deno.test("every module of the package has a layer, and imports only point down", async () => {
  const graph = await importGraph(await entryPoints());
  const unplaced = [...graph.keys()].filter((path) => layerOf(path) < 0);
  assert.deepEqual(
    unplaced,
    [],
    "modules in no layer: add them to LAYERS and docs/architecture.md",
  );
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (layerOf(to) > layerOf(from)) {
        upward.push(
          `${from} (${LAYERS[layerOf(from)][0]}) imports ${to} (${LAYERS[layerOf(to)][0]})`,
        );
      }
    }
  }
  assert.deepEqual(upward, [], `imports that point up:\n  ${upward.join("\n  ")}`);
});

/** The code of `text` without its comments (a `//` inside a string may cut more, never less). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

/** `Deno.something` used as a value (a type such as `Deno.FsFile` is erased, so it is allowed). */
const DENO_VALUE = /(?<![.\w])Deno\s*\.\s*(?!customInspect\b)[a-z]\w*/g;

Deno.test("withoutComments() and DENO_VALUE find a direct Deno.* use in code, not in comments or types", () => {
  const code =
    'const a = Deno.args; // Deno.exit\n/** Deno.env */ let f: Deno.FsFile; x("Deno.customInspect");';
  assert.deepEqual(withoutComments(code).match(DENO_VALUE), ["Deno.args"]);
  assert.deepEqual("runtime.Deno?.stdout".match(DENO_VALUE), null);
});

Deno.test("no module of the package touches Deno.* directly: guarded helpers (_env.ts, _cli/io.ts) reach it through globalThis, so the package runs on Node", async () => {
  const graph = await importGraph(await entryPoints());
  const direct: string[] = [];
  for (const path of [...graph.keys()].sort()) {
    const code = withoutComments(await Deno.readTextFile(new URL(path, ROOT)));
    const uses = [...new Set(code.match(DENO_VALUE) ?? [])];
    if (uses.length > 0) direct.push(`${path}: ${uses.join(", ")}`);
  }
  assert.deepEqual(direct, [], `direct Deno.* uses:\n  ${direct.join("\n  ")}`);
});

Deno.test("docs/architecture.md numbers the layers of LAYERS, in order", async () => {
  const text = await Deno.readTextFile(new URL("docs/architecture.md", ROOT));
  const documented = [...text.matchAll(/^\d+\. \*\*([^*]+)\*\*/gm)].map((match) => match[1]);
  assert.deepEqual(documented, LAYERS.map(([name]) => name));
});
