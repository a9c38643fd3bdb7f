/**
 * Whole-process cold start: each variant is a separate `deno run` process
 * that imports a tokenizer, counts the tokens of 10 KB of prose and exits.
 * Wall time is measured around the process; peak memory is the process's
 * `VmHWM` (from `/proc/self/status`, read by the script just before it exits,
 * so Linux only). Every variant runs once to warm Deno's caches, then the
 * variants run interleaved `runs` times; the table shows medians.
 *
 * Variants:
 * - `empty`: a script that does nothing (the floor).
 * - `import mod.ts`: imports the module and exits (issue 6 goal 3).
 * - `import js-yaml`: imports only `js-yaml` (which `mod.ts` imports
 *   statically) and exits.
 * - `mod.ts graph, no code`: a generated copy of the *shape* of `mod.ts`'s
 *   static module graph (as many local modules, each importing the same number
 *   of others, as `deno info` reports) in which every module is one line of
 *   code: what the module graph costs before any of our code runs.
 * - `echo + naive`: the echo backend and the naive calculator only; must load
 *   no encoder (issue 8 goal 4; the script fails if one was loaded).
 * - `ours`, `wasm tiktoken`, `gpt-tokenizer`, `js-tiktoken`: count 10 KB for
 *   `gpt-4o` (o200k_base) and `gpt-4` (cl100k_base).
 *
 * Run: `deno run -A bench/cold_start.ts [runs]`.
 *
 * @module
 */
import { prose } from "./corpus.ts";

/** One variant's medians. */
export interface ColdStartRow {
  /** Variant name. */
  name: string;
  /** Encoding counted, if any. */
  encoding?: "o200k_base" | "cl100k_base";
  /** Median wall time of the whole process, ms. */
  ms: number;
  /** Median peak resident memory (VmHWM), MB. */
  mb: number;
  /** The token count the process printed (all variants of one encoding agree). */
  tokens: number;
  /** For `mod.ts graph, no code`: the shape it mirrors. */
  shape?: GraphShape;
}

const ROOT = new URL("../", import.meta.url);
const MOD = new URL("mod.ts", ROOT).href;
const TOKENIZER = new URL("_tokenizer/mod.ts", ROOT).href;
const CONFIG = new URL("deno.json", ROOT).pathname;

const FOOTER = `
const status = Deno.readTextFileSync("/proc/self/status");
const hwm = Number(/VmHWM:\\s+(\\d+)/.exec(status)?.[1] ?? "0");
console.log(JSON.stringify({ tokens, hwm }));
`;

function scripts(textPath: string): Record<string, { encoding?: string; code: string }> {
  const read = `const text = Deno.readTextFileSync(${JSON.stringify(textPath)});\n`;
  const out: Record<string, { encoding?: string; code: string }> = {
    "empty": { code: `const tokens = 0;\n${FOOTER}` },
    "import mod.ts": { code: `import ${JSON.stringify(MOD)};\nconst tokens = 0;\n${FOOTER}` },
    "import js-yaml": { code: `import "js-yaml";\nconst tokens = 0;\n${FOOTER}` },
    "import _tokenizer/mod.ts": {
      code: `import ${JSON.stringify(TOKENIZER)};\nconst tokens = 0;\n${FOOTER}`,
    },
    "echo + naive": {
      code: `import { createAI, NaiveTextSplitterCalculator } from ${JSON.stringify(MOD)};
import { loadedEncoding } from ${JSON.stringify(TOKENIZER)};
${read}const ai = createAI({ BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } } });
const backend = ai.getBackend();
const splitter = await backend.getTextSplitter();
let answer = "";
for (const chunk of splitter.splitText(text)) answer += await backend.promptWithContext({ prePrompt: "Fix:", context: chunk }).text();
const tokens = new NaiveTextSplitterCalculator().getSplitterLength(answer);
if (loadedEncoding("o200k_base") || loadedEncoding("cl100k_base")) throw new Error("an encoder was loaded");
${FOOTER}`,
    },
  };
  for (const [model, encoding] of [["gpt-4o", "o200k_base"], ["gpt-4", "cl100k_base"]]) {
    out[`ours ${model}`] = {
      encoding,
      code: `import { countTokens } from ${JSON.stringify(MOD)};
${read}const tokens = await countTokens(text, "${model}");
${FOOTER}`,
    };
    out[`wasm tiktoken ${model}`] = {
      encoding,
      code: `import { encoding_for_model } from "npm:tiktoken@^1.0.22";
${read}const enc = encoding_for_model("${model}");
const tokens = enc.encode_ordinary(text).length;
${FOOTER}`,
    };
    out[`gpt-tokenizer ${model}`] = {
      encoding,
      code: `import { countTokens } from "npm:gpt-tokenizer@^3.4.0/model/${model}";
${read}const tokens = countTokens(text);
${FOOTER}`,
    };
    out[`js-tiktoken ${model}`] = {
      encoding,
      code: `import { encodingForModel } from "npm:js-tiktoken@^1";
${read}const tokens = encodingForModel("${model}").encode(text, [], []).length;
${FOOTER}`,
    };
  }
  return out;
}

/** The size of a module graph: local modules and the static imports between them. */
export interface GraphShape {
  /** Local (file:) modules reached through static imports. */
  modules: number;
  /** Static imports of one local module by another (type-only imports excluded). */
  imports: number;
}

/**
 * Writes to `dir` a graph with the shape of `entry`'s static module graph
 * (local modules only; npm packages and dynamic and type-only imports left
 * out) in which each module is one line of code. Returns the entry module's
 * path and the shape.
 */
async function mirrorGraph(entry: string, dir: string): Promise<{ path: string } & GraphShape> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", CONFIG, entry],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const deps = new Map<string, string[]>();
  for (const module of info.modules) {
    deps.set(
      module.specifier,
      (module.dependencies ?? [])
        .filter((dep) => !dep.isDynamic && dep.code?.specifier.startsWith("file:"))
        .map((dep) => dep.code!.specifier),
    );
  }
  const index = new Map<string, number>();
  const visit = (specifier: string): void => {
    if (index.has(specifier)) return;
    index.set(specifier, index.size);
    for (const dep of deps.get(specifier) ?? []) visit(dep);
  };
  visit(entry);
  let imports = 0;
  for (const [specifier, i] of index) {
    const targets = [...new Set(deps.get(specifier) ?? [])].map((dep) => index.get(dep)!);
    imports += targets.length;
    const lines = targets.map((j) => `import { v${j} } from "./m${j}.ts";\n`);
    const sum = targets.map((j) => `v${j}`).join(" + ") || "0";
    await Deno.writeTextFile(
      `${dir}/m${i}.ts`,
      `${lines.join("")}export const v${i}: number = ${i} + ${sum};\n`,
    );
  }
  return { path: `${dir}/m0.ts`, modules: index.size, imports };
}

/** The variants' scripts, written to a temporary directory. */
export interface ColdStartScripts {
  /** Variant name to script path. */
  paths: Record<string, string>;
  /** Variant name to the encoding it counts, if any. */
  encodings: Record<string, string | undefined>;
  /** The shape of `mod.ts`'s static module graph (mirrored by `mod.ts graph, no code`). */
  shape: GraphShape;
  /** Removes the directory. */
  cleanup(): Promise<void>;
}

/**
 * Writes the variants' scripts (and the 10 KB text) to a temporary directory.
 *
 * @example
 * ```ts ignore
 * const { paths, cleanup } = await prepareColdStart();
 * console.log(await runOnce(paths["empty"]));
 * await cleanup();
 * ```
 */
export async function prepareColdStart(): Promise<ColdStartScripts> {
  const dir = await Deno.makeTempDir({ prefix: "cold_start_" });
  const textPath = `${dir}/text.txt`;
  await Deno.writeTextFile(textPath, prose(10_000, 8));
  const paths: Record<string, string> = {};
  const encodings: Record<string, string | undefined> = {};
  for (const [i, [name, { code, encoding }]] of Object.entries(scripts(textPath)).entries()) {
    paths[name] = `${dir}/v${i}.ts`;
    encodings[name] = encoding;
    await Deno.writeTextFile(paths[name], code);
  }
  await Deno.mkdir(`${dir}/mirror`);
  const { path: mirror, ...shape } = await mirrorGraph(MOD, `${dir}/mirror`);
  paths["mod.ts graph, no code"] = `${dir}/mirror.ts`;
  await Deno.writeTextFile(
    paths["mod.ts graph, no code"],
    `import ${JSON.stringify(mirror)};\nconst tokens = 0;\n${FOOTER}`,
  );
  return { paths, encodings, shape, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

/**
 * Runs one variant's script as a whole process: wall time, peak memory (KB)
 * and the token count it printed.
 *
 * @example
 * ```ts ignore
 * const { ms, kb } = await runOnce(path);
 * ```
 */
export async function runOnce(path: string): Promise<{ ms: number; kb: number; tokens: number }> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", "--config", CONFIG, path],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!output.success) {
    throw new Error(`${path} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  const { tokens, hwm } = JSON.parse(lines[lines.length - 1]);
  return { ms, kb: hwm, tokens };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Runs every variant `runs` times (after one warm-up run each) and returns
 * the medians.
 *
 * @example
 * ```ts ignore
 * import { runColdStart } from "./cold_start.ts";
 * console.table(await runColdStart(5));
 * ```
 */
export async function runColdStart(
  runs = 7,
  only?: (name: string) => boolean,
): Promise<ColdStartRow[]> {
  const { paths, encodings, shape, cleanup } = await prepareColdStart();
  try {
    const names = Object.keys(paths).filter((name) => !only || only(name));
    for (const name of names) await runOnce(paths[name]); // warm Deno's caches
    const samples: Record<string, { ms: number[]; kb: number[]; tokens: number }> = {};
    for (let r = 0; r < runs; r++) {
      for (const name of names) {
        const { ms, kb, tokens } = await runOnce(paths[name]);
        samples[name] ??= { ms: [], kb: [], tokens };
        samples[name].ms.push(ms);
        samples[name].kb.push(kb);
      }
    }
    return names.map((name) => ({
      name,
      encoding: encodings[name] as ColdStartRow["encoding"],
      ms: median(samples[name].ms),
      mb: median(samples[name].kb) / 1024,
      tokens: samples[name].tokens,
      ...(name === "mod.ts graph, no code" ? { shape } : {}),
    }));
  } finally {
    await cleanup();
  }
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? "7");
  const rows = await runColdStart(runs);
  for (const row of rows) {
    console.log(
      `${row.name.padEnd(26)} ${row.ms.toFixed(0).padStart(6)} ms ${
        row.mb.toFixed(1).padStart(7)
      } MB  tokens ${row.tokens}`,
    );
  }
}
