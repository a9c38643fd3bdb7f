// The public API's hygiene, read from `deno doc --json` of the entry points in deno.json's
// `exports`: each entry point has a `@module` doc, every exported symbol (and every public method
// of an exported class) has an `@example` (which `deno test --doc` runs), and no public function
// or method takes more than two required arguments (the rest go in an options object).
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** What these tests read of `deno doc --json` (its format version 2). */
interface JsDoc {
  doc?: string;
  tags?: { kind: string }[];
}
interface Param {
  kind: string;
  name?: string;
  optional?: boolean;
}
interface Method {
  name: string;
  kind: string;
  jsDoc?: JsDoc;
  accessibility?: string;
  isStatic?: boolean;
  functionDef?: { params: Param[] };
  params?: Param[];
}
interface Location {
  filename: string;
  line: number;
}
interface Declaration {
  kind: string;
  location: Location;
  jsDoc?: JsDoc;
  def?: {
    target?: Location;
    params?: Param[];
    methods?: Method[];
    constructors?: { params: Param[]; accessibility?: string }[];
  };
}
interface DocSymbol {
  name: string;
  declarations: Declaration[];
}
interface DocNode {
  module_doc?: JsDoc;
  symbols: DocSymbol[];
}

/** A public thing the rules apply to, named for a failure message. */
interface Checked {
  name: string;
  where: string;
  jsDoc?: JsDoc;
}

/** The kinds of exported symbols that need an example. */
const DOCUMENTED_KINDS = new Set([
  "class",
  "function",
  "interface",
  "typeAlias",
  "variable",
  "enum",
]);

/**
 * Methods whose arguments a runtime protocol fixes, not the package: Node's `util.inspect` calls
 * this one with `(depth, options, inspect)`.
 */
const PROTOCOL_METHODS = new Set(['[Symbol.for("nodejs.util.inspect.custom")]']);

/** The entry points (deno.json `exports`), relative paths such as `./mod.ts`. */
async function entryPoints(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return Object.values(config.exports as Record<string, string>);
}

/** `deno doc --json` of all the entry points at once. */
async function docNodes(): Promise<Map<string, DocNode>> {
  const entries = await entryPoints();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...entries],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const json = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    version: number;
    nodes: Record<string, DocNode>;
  };
  assert.equal(json.version, 2, "the test reads version 2 of `deno doc --json`");
  const nodes = new Map<string, DocNode>();
  for (const entry of entries) {
    const url = new URL(entry, ROOT).href;
    assert.ok(json.nodes[url], `deno doc gave nothing for ${entry}`);
    nodes.set(entry, json.nodes[url]);
  }
  return nodes;
}

let cached: Promise<Map<string, DocNode>> | undefined;
/** One `deno doc` run for all the tests of this file. */
function docs(): Promise<Map<string, DocNode>> {
  return cached ??= docNodes();
}

function relative(location: Location): string {
  return `${location.filename.slice(ROOT.href.length)}:${location.line}`;
}

function hasTag(jsDoc: JsDoc | undefined, kind: string): boolean {
  return jsDoc?.tags?.some((tag) => tag.kind === kind) ?? false;
}

/** Required parameters: neither optional, nor with a default, nor rest. */
function requiredCount(params: readonly Param[]): number {
  return params.filter((param) =>
    param.kind !== "assign" && param.kind !== "rest" && param.optional !== true
  ).length;
}

/**
 * Every exported declaration once (a symbol re-exported by two entry points, or through
 * `export { x } from`, is followed to its declaration), with the entry point that exports it.
 */
function exportedDeclarations(
  nodes: Map<string, DocNode>,
): { name: string; entry: string; declarations: Declaration[] }[] {
  const byLocation = new Map<string, Declaration[]>();
  for (const node of nodes.values()) {
    for (const symbol of node.symbols) {
      for (const declaration of symbol.declarations) {
        const key = relative(declaration.location);
        byLocation.set(key, [...byLocation.get(key) ?? [], declaration]);
      }
    }
  }
  const seen = new Set<string>();
  const result: { name: string; entry: string; declarations: Declaration[] }[] = [];
  for (const [entry, node] of nodes) {
    for (const symbol of node.symbols) {
      const declarations = symbol.declarations.flatMap((declaration) => {
        if (declaration.kind !== "reference") return [declaration];
        const target = declaration.def!.target!;
        const found = byLocation.get(relative(target))?.filter((d) => d.kind !== "reference");
        // A re-export of a module that no entry point documents: deno doc gives no declaration.
        assert.ok(
          found?.length,
          `${entry} exports ${symbol.name} from ${relative(target)}, which deno doc did not read`,
        );
        return found;
      });
      const key = `${symbol.name}@${declarations.map((d) => relative(d.location)).join(",")}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.push({ name: symbol.name, entry, declarations });
    }
  }
  return result;
}

/** A class's public methods (static too), without protected and private ones. */
function publicMethods(declaration: Declaration): Method[] {
  if (declaration.kind !== "class") return [];
  return (declaration.def?.methods ?? []).filter((method) =>
    method.kind === "method" && method.accessibility !== "private" &&
    method.accessibility !== "protected" && !method.name.startsWith("#")
  );
}

/** What needs an example: the exported symbols and the public methods of exported classes. */
function documented(nodes: Map<string, DocNode>): Checked[] {
  const checked: Checked[] = [];
  for (const { name, entry, declarations } of exportedDeclarations(nodes)) {
    const kinds = declarations.filter((d) => DOCUMENTED_KINDS.has(d.kind));
    if (kinds.length === 0) continue;
    const where = `${entry} (${relative(kinds[0].location)})`;
    // Overloads and merged declarations: one example on any of them documents the symbol.
    const withExample = kinds.find((d) => hasTag(d.jsDoc, "example"));
    checked.push({ name, where, jsDoc: (withExample ?? kinds[0]).jsDoc });
    for (const declaration of kinds) {
      for (const method of publicMethods(declaration)) {
        const prefix = method.isStatic ? `${name}.` : `${name}.prototype.`;
        checked.push({ name: `${prefix}${method.name}`, where, jsDoc: method.jsDoc });
      }
    }
  }
  return checked;
}

Deno.test("every entry point has a @module doc", async () => {
  const missing: string[] = [];
  for (const [entry, node] of await docs()) {
    if (!hasTag(node.module_doc, "module") || !node.module_doc?.doc?.trim()) missing.push(entry);
  }
  assert.deepEqual(missing, []);
});

Deno.test("every exported symbol and public method has a JSDoc @example", async () => {
  const checked = documented(await docs());
  // The test reads what it should: the package's main classes and functions are among them.
  for (const name of ["createAI", "AI", "AI.prototype.getBackend", "countTokens", "main"]) {
    assert.ok(checked.some((c) => c.name === name), `${name} was not read`);
  }
  const missing = checked.filter((c) => !hasTag(c.jsDoc, "example"))
    .map((c) => `${c.name} in ${c.where}`);
  assert.deepEqual(missing, [], `${missing.length} without an @example:\n${missing.join("\n")}`);
});

Deno.test("no public function or method takes more than two required arguments", async () => {
  const tooMany: string[] = [];
  const check = (name: string, where: string, params: readonly Param[] | undefined) => {
    const count = requiredCount(params ?? []);
    if (count > 2) tooMany.push(`${name} in ${where}: ${count} required arguments`);
  };
  for (const { name, entry, declarations } of exportedDeclarations(await docs())) {
    for (const declaration of declarations) {
      const where = `${entry} (${relative(declaration.location)})`;
      if (declaration.kind === "function") check(name, where, declaration.def?.params);
      if (declaration.kind === "class") {
        for (const constructor of declaration.def?.constructors ?? []) {
          if (constructor.accessibility === "private") continue;
          check(`new ${name}()`, where, constructor.params);
        }
        for (const method of publicMethods(declaration)) {
          if (PROTOCOL_METHODS.has(method.name)) continue;
          check(`${name}.${method.name}`, where, method.functionDef?.params);
        }
      }
      if (declaration.kind === "interface") {
        for (const method of declaration.def?.methods ?? []) {
          check(`${name}.${method.name}`, where, method.params);
        }
      }
    }
  }
  assert.deepEqual(tooMany, [], tooMany.join("\n"));
});

Deno.test("requiredCount() counts neither optional, default nor rest parameters", () => {
  assert.equal(
    requiredCount([
      { kind: "identifier", name: "a" },
      { kind: "object" },
      { kind: "identifier", name: "b", optional: true },
      { kind: "assign" },
      { kind: "rest" },
    ]),
    2,
  );
});
