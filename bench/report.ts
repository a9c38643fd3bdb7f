/**
 * Regenerates `bench/README.md`: runs each measurement section in a fresh
 * process (`bench/_measure.ts` for counting, splitting and memory;
 * `bench/cold_start.ts` for whole-process cold start and import time) and
 * writes the results table with the goals of issues 6 and 8.
 *
 * Run: `deno run -A bench/report.ts` (about fifteen minutes).
 *
 * One section alone: `deno run -A bench/report.ts <name>` (or
 * `BENCH_ONLY=<name> deno run -A bench/report.ts`) measures only that section
 * (a name of {@link SECTIONS}: `limits`, `backend` (the LLM backend and the
 * answer budget), `requests`) and puts it in place of the same section of the
 * existing `bench/README.md` (found by its `## ` heading, up to the next one),
 * keeping the rest of the file.
 *
 * @module
 */
import { type ColdStartRow, runColdStart } from "./cold_start.ts";
import { prose } from "./corpus.ts";
import { limitsSection } from "./_limits_report.ts";
import { requestSection } from "./_request_report.ts";
import { backendSection } from "./_backend_report.ts";

const HERE = new URL("./", import.meta.url);
const MEASURE = new URL("_measure.ts", HERE).pathname;
const MEMORY = new URL("_memory.ts", HERE).pathname;
const DOCUMENTS = new URL("_documents.ts", HERE).pathname;
const CONFIG = new URL("../deno.json", HERE).pathname;

async function section(args: string[], v8flags: string[] = [], script = MEASURE): Promise<unknown> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, ...v8flags, script, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`_measure.ts ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

interface CountResult {
  medians: Record<string, number>;
  wasmOverOurs: number;
  rounds: number;
}
interface SplitResult {
  medians: Record<string, number>;
  splitOverCount: number;
  linearity: { medians: Record<string, number>; tenOverOne: number };
  rounds: number;
}
interface DocumentsResult {
  medians: {
    count: number;
    first: number;
    peer: number;
    fetch: number;
    own: number;
    firstMinusPeer: number;
    rerun: number;
    requests: number;
    rerunRequests: number;
  };
  libraryOverCount: number;
  firstMinusPeerOverCount: number;
  withClientOverCount: number;
  rerunOverFirst: number;
  cpu: { libraryOverCount: number; rerunOverFirst: number };
  rounds: number;
  blocks: number;
}
interface MemoryResult {
  baseMB: number;
  heldMB: number;
  peakMB: number;
  peakOverHeld: number;
  tokens: number;
  reset: boolean;
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const ok = (met: boolean) => (met ? "**met**" : "**NOT met**");

/** The sections measured in processes of their own, by their BENCH_ONLY name. */
const SECTIONS: Record<string, () => Promise<string[]>> = {
  limits: limitsSection,
  backend: backendSection,
  requests: () => requestSection(),
};

/** Measures one section and puts it in place of its old lines in bench/README.md. */
async function writeOnly(name: string): Promise<void> {
  const measure = SECTIONS[name];
  if (measure === undefined) {
    throw new Error(
      `"${name}": no such section of the report (${Object.keys(SECTIONS).join(", ")})`,
    );
  }
  const section = await measure();
  const readme = new URL("README.md", HERE).pathname;
  const old = (await Deno.readTextFile(readme)).split("\n");
  const start = old.indexOf(section[0]);
  let end = start < 0 ? -1 : old.findIndex((line, i) => i > start && line.startsWith("## "));
  if (end < 0) end = old.length;
  const lines = start < 0
    ? [...old, "", ...section]
    : [...old.slice(0, start), ...section, ...old.slice(end)];
  await Deno.writeTextFile(readme, lines.join("\n").trimEnd() + "\n");
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--config", CONFIG, readme] }).output();
  console.error(`wrote the ${name} section of bench/README.md`);
}

const ONLY = Deno.args[0] ?? Deno.env.get("BENCH_ONLY");
if (ONLY !== undefined && ONLY !== "") {
  await writeOnly(ONLY);
  Deno.exit(0);
}

console.error("counting...");
const count = await section(["count", "7"]) as Record<string, CountResult>;
console.error("splitting...");
const split = await section(["split", "9"]) as SplitResult;
console.error("memory...");
const dir = await Deno.makeTempDir({ prefix: "bench_memory_" });
const textPath = `${dir}/10mb.txt`;
await Deno.writeTextFile(textPath, prose(10_000_000, 77));
const memory = await section([textPath], ["--v8-flags=--expose-gc"], MEMORY) as MemoryResult;
await Deno.remove(dir, { recursive: true });
console.error("documents...");
// Three runs, each in a fresh process: the goal lines give the median run and the range.
const documentRuns: { exact: DocumentsResult; naive: DocumentsResult }[] = [];
for (let run = 0; run < 3; run++) {
  documentRuns.push(
    await section(["11"], [], DOCUMENTS) as { exact: DocumentsResult; naive: DocumentsResult },
  );
}
documentRuns.sort((a, b) => a.exact.libraryOverCount - b.exact.libraryOverCount);
const documents = documentRuns[1];
const ownRange = documentRuns.map((run) => run.exact.libraryOverCount);
const rerunRange = documentRuns.map((run) => run.exact.rerunOverFirst).sort((a, b) => a - b);
/** "met", "met in the median run (not in every run)" or "NOT met", from the median and range. */
const okRuns = (median: number, worst: number, limit: number) =>
  median > limit
    ? ok(false)
    : worst <= limit
    ? ok(true)
    : "**met** in the median run, not in every run";
console.error("cold start...");
const cold = await runColdStart(7);
const row = (name: string): ColdStartRow => cold.find((r) => r.name === name)!;

const cpu = (() => {
  try {
    return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
})();
const machine = `${cpu}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno} ` +
  `(V8 ${Deno.version.v8}), ${Deno.build.os}; ${new Date().toISOString().slice(0, 10)}`;

const lines: string[] = [];
const push = (...xs: string[]) => lines.push(...xs);

push(
  "# Benchmarks: token counting, splitting, cold start, editor actions",
  "",
  "<!-- Generated by `deno run -A bench/report.ts`; do not edit by hand. -->",
  "",
  "Regenerate this file (about twelve minutes; `BENCH_ONLY=<section>` measures one section alone",
  "and keeps the rest of the file: see `bench/report.ts`):",
  "",
  "```sh",
  "deno run -A bench/report.ts",
  "```",
  "",
  `Machine: ${machine}.`,
  "",
  "The `deno bench` suites (`deno task bench`) run the same comparisons: `count_bench.ts`,",
  "`split_bench.ts`, `process_bench.ts` and `documents_bench.ts`. This table is taken differently, for steadier",
  "ratios on a shared machine whose speed changes from minute to minute: every section runs in",
  "a fresh process, the variants run in turn iteration by iteration on fresh text, and the",
  "figures are medians (ratios: the median of per-iteration ratios). The first iteration of",
  "each section is a warm-up and is not counted.",
  "",
  "Run to run: this machine's speed changes with its neighbours' load (the same code counts",
  "1 MB in 20 ms or in 35 ms), and the ratios move with it; in the runs made while writing this,",
  "split / count ranged from 1.5x to 1.9x and 10 MB / 1 MB from 7.7x to 10.6x. Each run's own",
  "figures are below.",
  "",
  "How the text is kept unseen: every iteration generates new text from a new seed",
  "(`bench/corpus.ts`), and our piece cache and join memo are emptied before it, so our",
  "counts start cold. The peers keep whatever caches they have inside.",
  "",
);

// Goals
const c = (key: string) => count[key];
const proseRatios = [c("cl100k_base prose").wasmOverOurs, c("o200k_base prose").wasmOverOurs];
const varietyRatios = [c("cl100k_base variety").wasmOverOurs, c("o200k_base variety").wasmOverOurs];
const importRatio = row("import mod.ts").ms / row("empty").ms;
const yamlMs = row("import js-yaml").ms - row("empty").ms;
const yamlRatio = row("import js-yaml").ms / row("empty").ms;
const shapeMs = row("mod.ts graph, no code").ms - row("empty").ms;
const shapeRatio = row("mod.ts graph, no code").ms / row("empty").ms;
const shape = row("mod.ts graph, no code").shape!;
const budgetMs = 0.3 * row("empty").ms;
const coldRows = ["gpt-4o", "gpt-4"].map((model) => ({
  model,
  ours: row(`ours ${model}`),
  wasm: row(`wasm tiktoken ${model}`),
  gpt: row(`gpt-tokenizer ${model}`),
}));
push(
  "## Goals",
  "",
  "| issue | goal | measured | |",
  "| --- | --- | --- | --- |",
  `| 6.1 | exact counts | every count below equals js-tiktoken (and the peers); tests: \`tests/tokenizer_test.ts\` | **met** |`,
  `| 6.1 | ≥ 3x faster than WASM tiktoken, 1 MB unseen prose | cl100k ${
    f2(proseRatios[0])
  }x, o200k ${f2(proseRatios[1])}x | ${ok(Math.min(...proseRatios) >= 3)} |`,
  `| 6.1 | no slower than WASM tiktoken, 1 MB high-variety text | cl100k ${
    f2(varietyRatios[0])
  }x, o200k ${f2(varietyRatios[1])}x | ${ok(Math.min(...varietyRatios) >= 1)} |`,
  `| 6.2 | split 1 MB into 4096-token chunks ≤ 2x one count pass | ${f2(split.splitOverCount)}x | ${
    ok(split.splitOverCount <= 2)
  } |`,
  `| 6.2 | split 10 MB ≤ 11x split 1 MB | ${f2(split.linearity.tenOverOne)}x | ${
    ok(split.linearity.tenOverOne <= 11)
  } |`,
  `| 6.3 | import mod.ts ≤ 1.3x an empty script (whole process) | ${f2(importRatio)}x${
    importRatio > 1.3 ? ' (see "Why goal 6.3 is not met")' : ""
  } | ${ok(importRatio <= 1.3)} |`,
  `| 6.4 | counting 10 MB peaks < 2x (text + one encoder) | ${f2(memory.peakOverHeld)}x | ${
    ok(memory.peakOverHeld < 2)
  } |`,
  ...coldRows.map((r) =>
    `| 8.1 | cold start ${r.model}: time ≤ WASM tiktoken | ${f2(r.ours.ms / r.wasm.ms)}x | ${
      ok(r.ours.ms <= r.wasm.ms)
    } |`
  ),
  ...coldRows.map((r) =>
    `| 8.2 | cold start ${r.model}: peak memory ≤ 1.2x gpt-tokenizer | ${
      f2(r.ours.mb / r.gpt.mb)
    }x | ${ok(r.ours.mb <= 1.2 * r.gpt.mb)} |`
  ),
  `| 8.4 | echo backend + naive calculator load no encoder | the \`echo + naive\` process checks it (and \`tests/tokenizer_test.ts\`) | **met** |`,
  `| 13 | correct 1 MB of HTML: library's own time (against an in-process backend) ≤ 1.5x one count pass | ${
    f2(documents.exact.libraryOverCount)
  }x (median of 3 runs; ${f2(ownRange[0])}x to ${f2(ownRange[2])}x) | ${
    okRuns(documents.exact.libraryOverCount, ownRange[2], 1.5)
  } |`,
  `| 13 | the same after one edited block ≤ 5% of the first run | ${
    f1(100 * rerunRange[1])
  }% (median of 3 runs; ${f1(100 * rerunRange[0])}% to ${f1(100 * rerunRange[2])}%) | ${
    okRuns(rerunRange[1], rerunRange[2], 0.05)
  } |`,
  "",
);

push(
  "## Counting 1 MB of unseen text (issue 6, goal 1)",
  "",
  "Median ms per 1 MB (MB/s in brackets); the last column is WASM tiktoken's time over ours.",
  "",
  "| encoding, text | ours | WASM tiktoken | gpt-tokenizer | js-tiktoken | WASM / ours |",
  "| --- | ---: | ---: | ---: | ---: | ---: |",
);
for (const [key, result] of Object.entries(count)) {
  const m = result.medians;
  const cell = (x: number | undefined) => (x === undefined ? "-" : `${f1(x)} (${f1(1000 / x)})`);
  push(
    `| ${key} | ${cell(m["ours"])} | ${cell(m["wasm tiktoken"])} | ${cell(m["gpt-tokenizer"])} | ${
      cell(m["js-tiktoken"])
    } | ${f2(result.wasmOverOurs)}x |`,
  );
}
push(
  "",
  "Prose: English-like sentences from a word list (Zipf-like frequencies, capitals,",
  "punctuation, quotes, contractions, numbers, paragraphs). High-variety: random-syllable",
  "words, numbers, code, CJK, Cyrillic, Arabic, Greek, Hiragana, accented Latin, emoji.",
  "",
);

const sm = split.medians;
const lm = split.linearity.medians;
push(
  "## Token-accurate splitting (issue 6, goal 2)",
  "",
  "`RecursiveCharacterTextSplitter` with chunks of 4096 tokens (gpt-4o, o200k_base), default",
  "overlap, 1 MB of fresh prose per run; medians in ms.",
  "",
  "| variant | ms | / one count pass |",
  "| --- | ---: | ---: |",
  `| one \`countTokens\` pass over 1 MB | ${f1(sm["one count pass 1MB"])} | 1.00 |`,
  `| split, exact (TiktokenLengthCalculator) | ${f1(sm["split exact 1MB"])} | ${
    f2(split.splitOverCount)
  } (median of per-run ratios) |`,
  `| split, naive estimate | ${f1(sm["split naive 1MB"])} | ${
    f2(sm["split naive 1MB"] / sm["one count pass 1MB"])
  } |`,
  `| baseline: LangChain-style splitter calling js-tiktoken on every piece | ${
    f1(sm["baseline splitter (js-tiktoken per piece) 1MB"])
  } | ${f2(sm["baseline splitter (js-tiktoken per piece) 1MB"] / sm["one count pass 1MB"])} |`,
  "",
  "Linearity: in turn, a block of ten 1 MB splits (fresh text each) and one 10 MB split; the",
  "ratio is the 10 MB time over the block's mean 1 MB time (median over the rounds; the 1 MB",
  "row shows the median of the block means):",
  "",
  "| | ms |",
  "| --- | ---: |",
  `| split exact 1 MB | ${f1(lm["split exact 1MB"])} |`,
  `| split exact 10 MB | ${f1(lm["split exact 10MB"])} |`,
  `| one count pass 10 MB | ${f1(lm["one count pass 10MB"])} |`,
  `| 10 MB / 1 MB | ${f2(split.linearity.tenOverOne)}x |`,
  "",
  "Every chunk is within 4096 exact tokens and no text is lost (`tests/tokenizer_test.ts`",
  "checks both against js-tiktoken's encode).",
  "",
);

push(
  "## Cold start and import (issues 8 and 6, goal 3)",
  "",
  "Each variant is a separate `deno run` process (warm Deno cache) that imports the tokenizer,",
  "counts the tokens of the same 10 KB of prose and exits; medians of 7 runs, interleaved.",
  "Peak memory is the process's VmHWM.",
  "",
  "| process | wall ms | peak MB | tokens |",
  "| --- | ---: | ---: | ---: |",
);
for (const r of cold) {
  push(`| ${r.name} | ${f1(r.ms)} | ${f1(r.mb)} | ${r.tokens} |`);
}
push(
  "",
  "| model | ours / WASM tiktoken (time) | ours / gpt-tokenizer (peak memory) |",
  "| --- | ---: | ---: |",
  ...coldRows.map((r) =>
    `| ${r.model} | ${f2(r.ours.ms / r.wasm.ms)}x | ${f2(r.ours.mb / r.gpt.mb)}x |`
  ),
  "",
  `Import: \`import mod.ts\` takes ${f2(importRatio)}x an empty script (${
    f1(row("import mod.ts").ms)
  } ms against ${f1(row("empty").ms)} ms). Importing the tokenizer alone takes ${
    f2(row("import _tokenizer/mod.ts").ms / row("empty").ms)
  }x: it is one small module (its implementation and rank data load on first use, and`,
  "no npm package is loaded for requests); the rest of the time is the rest of `mod.ts`'s module graph",
  "(settings, backends, providers, and `js-yaml`, which is imported statically).",
  "",
  ...(importRatio <= 1.3 ? [] : [
    "### Why goal 6.3 is not met",
    "",
    `Two rows above take \`mod.ts\` apart. \`import js-yaml\` imports only \`js-yaml\`: ${
      f2(yamlRatio)
    }x. \`mod.ts graph, no code\` is a generated graph with the shape of \`mod.ts\`'s static module`,
    `graph (${shape.modules} local modules and the ${shape.imports} static imports between them, as \`deno info\``,
    `reports them) in which every module is one line of code: ${
      f2(shapeRatio)
    }x. Together they add ${f1(yamlMs + shapeMs)} ms to the`,
    `empty script's ${f1(row("empty").ms)} ms, against the ${f1(budgetMs)} ms that 1.3x allows${
      yamlMs + shapeMs >= budgetMs
        ? ", before any of our code runs"
        : `, leaving ${f1(budgetMs - yamlMs - shapeMs)} ms for running the library's own code, ` +
          `which takes ${f1(row("import mod.ts").ms - row("empty").ms - yamlMs - shapeMs)} ms`
    }.`,
    "Making the rest of the code lazy cannot close that gap (the tokenizer is lazy already and no",
    "npm client is loaded). Each cause is a design decision, not an implementation detail:",
    "",
    "- `js-yaml` is in the static graph because `getAIBackend()` is synchronous (the design's",
    "  public contract) and the LLM backend, the default CLASS, resolves its model from the `llm`",
    "  tool's `extra-openai-models.yaml` while it is built. Loading `js-yaml` on first use needs",
    "  that resolution to move to the first request (or an async `getAIBackend()`).",
    "- The module count follows the layout rules (one concern per file, a `mod.ts` in each",
    "  folder). Deno costs about the same per module and per import whatever the module holds, so",
    "  meeting 1.3x would mean folding the library into a handful of files or publishing a",
    "  generated bundle.",
    "",
  ]),
);

const de = documents.exact;
const dn = documents.naive;
push(
  "## Editor actions over 1 MB of HTML (issue 13)",
  "",
  `\`ai.processText({prompt: "correction", format: "html", cache})\` over a fresh 1 MB HTML document`,
  `(\`bench/_documents.ts\`: ${de.blocks} blocks of headings, paragraphs with inline markup and`,
  "links, lists, tables and code) with the OpenAI backend (gpt-4o, the exact `tiktoken` length",
  "calculator, chunks of up to 4,096 tokens) against the test peer on 127.0.0.1, which answers at",
  "once (each chunk back with one word changed). Per iteration, in turn: one `countTokens` pass over",
  "the document; the first run (caches emptied); the peer's time: the same requests sent again through",
  "the same backend, four at once as the run sent them (its HTTP client, the transport and the peer);",
  "and the run again after one paragraph in the middle is edited, with the first run's cache; then",
  "the library's own time, measured directly: the same first run (caches emptied) against an",
  "in-process backend that answers at once (the OpenAI backend's config and length calculator, but",
  "no request: no HTTP client, no peer), so that all of its time is the document machinery's.",
  "(Earlier versions took the first run's time minus the peer's: a difference of two noisy times",
  "of about the same size, which came out as low as -0.05x; it is kept below only as a cross-check.)",
  `Medians in ms (ratios: medians of per-iteration ratios, ${de.rounds} iterations after a warm-up).`,
  "",
  "| | ms | ratio |",
  "| --- | ---: | ---: |",
  `| one \`countTokens\` pass over the document | ${f1(de.medians.count)} | 1.00 |`,
  `| first run (${de.medians.requests} requests) | ${f1(de.medians.first)} | |`,
  `| its requests alone, through the backend (the peer's time) | ${f1(de.medians.peer)} | |`,
  `| the library's own time (the first run against an in-process backend) | ${
    f1(de.medians.own)
  } | ${f2(de.libraryOverCount)}x the count pass |`,
  `| run after one edited block (${de.medians.rerunRequests} request) | ${f1(de.medians.rerun)} | ${
    f1(100 * de.rerunOverFirst)
  }% of the first run |`,
  "",
  "Where the time goes: measuring each chunk against its limit (the tokenizer counts a chunk only",
  "until the exact tokens of its counted part plus the UTF-8 bytes of the rest, which no token is",
  "shorter than, prove that it fits: about seven tenths of the text is counted; a chunk near the limit",
  "is counted to its end), reading the HTML, the cache keys (SHA-256 of each chunk) and putting each",
  "answer back with its tags checked. The backend's own check of each prompt against its window is",
  "outside this figure (the in-process backend makes none): a count of the chunk, unless the",
  "prompt's size alone proves that it fits.",
  "After an edit, the HTML is read again only around it, and the blocks and chunks that did not",
  "change keep their measured lengths, keys and replacements from the last run: the run measures,",
  "hashes and sends the chunk with the edit.",
  "",
  "Run to run, on this shared machine, the figures move by a factor of about two: the section runs",
  "three times, each in a fresh process, and the figures here are the run with the median library",
  "time (the goal lines give the range of the three). In the runs made while writing this (the same",
  "code, 9 or 11 iterations each), the library's own time ranged from 1.26x to 1.53x the count pass,",
  "and the run after an edit from 4.1% to 6.7% of the first run.",
  "",
  `Other figures of the same runs: the first run minus the peer's time (the old, indirect figure)`,
  `gives ${
    f2(de.firstMinusPeerOverCount)
  }x; counting the HTTP client as the library's too (the peer's time`,
  `taken with plain \`fetch\` instead) gives ${
    f2(de.withClientOverCount)
  }x; the library's own time in process CPU time, ${f2(de.cpu.libraryOverCount)}x and`,
  `${
    f1(100 * de.cpu.rerunOverFirst)
  }%. With the default \`naive\` length calculator (the library's own time, each chunk measured`,
  `whole by the estimate): ${f2(dn.libraryOverCount)}x and ${
    f1(100 * dn.rerunOverFirst)
  }% (${dn.rounds} iterations).`,
  "",
);

push(
  "## Memory (issue 6, goal 4)",
  "",
  "A process that imports only the tokenizer (`bench/_memory.ts`) holds 10 MB of prose (read",
  "from a file) and the o200k_base encoder, collects garbage, and notes its resident memory;",
  "it then resets its peak and counts the 10 MB.",
  "",
  "| runtime alone | held (runtime + text + encoder) | peak while counting | peak / held |",
  "| ---: | ---: | ---: | ---: |",
  `| ${f1(memory.baseMB)} MB | ${f1(memory.heldMB)} MB | ${f1(memory.peakMB)} MB | ${
    f2(memory.peakOverHeld)
  }x |`,
  "",
  "The caches are bounded: the piece cache holds at most 65,536 pieces of up to 16 UTF-16",
  "units in typed arrays (about 2.6 MB per encoding); the join memo holds at most 4,096 texts",
  "and 1 Mi UTF-16 units; neither keeps a reference to a caller's string.",
  "",
);
if (!memory.reset) push("(The peak could not be reset on this system; it includes loading.)", "");

// Issue 18's section, measured in its own processes.
push(...await limitsSection());
// Issue 16's requests section, measured in its own processes.
push(...await requestSection());

// Issue 16's LLM-backend and budget section (goals 3 and 5), measured in its own process.
push(...await backendSection());

const readme = new URL("README.md", HERE).pathname;
await Deno.writeTextFile(readme, lines.join("\n") + "\n");
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--config", CONFIG, readme] }).output();
console.error("wrote bench/README.md");
