/**
 * The LLM-backend and budget section of `bench/README.md` (issue 16, goals 3
 * and 5), for `bench/report.ts`: {@link backendSection} runs this file in a
 * fresh process (`deno run -A bench/_backend_report.ts measure`), which
 * measures, interleaved round by round:
 *
 * - 1,000 `getBackend()` calls of an LLM backend (an `extra-openai-models.yaml`
 *   model, `aliases.json`, `keys.json` in its user directory) against 1,000 of
 *   an OpenAI backend, and the user-directory files opened and `stat`-ed per
 *   1,000 calls (counted at `Deno.openSync` and `Deno.statSync`);
 * - a 2 MB prompt (gpt-4.1, near its window, so counted) through the OpenAI
 *   backend against the bare `openai` client making the same request, and one
 *   `countTokens` pass over 2 MB, on fresh text each round, against the test
 *   peer in its own process;
 * - whether small prompts load an encoder (they must not).
 *
 * @module
 */
import { startServerProcess } from "./_server_process.ts";
import OpenAI from "openai";
import { countTokens, createAI } from "../mod.ts";
import { clearTokenizerCaches, loadedEncoding } from "../_tokenizer/mod.ts";
import { prose } from "./corpus.ts";

const HERE = new URL("./", import.meta.url);
const CONFIG = new URL("../deno.json", HERE).pathname;
const PEER = new URL("_peer_process.ts", HERE).pathname;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** What the measuring process prints. */
export interface BackendResult {
  getBackend: {
    /** Median µs per call. */
    us: Record<string, number>;
    /** Median of per-round ratios LLM / OpenAI. */
    llmOverOpenAI: number;
    /** The same for the LLM backend whose directory comes from LLM_USER_PATH. */
    envOverOpenAI: number;
    /** Files of the user directory opened and stat-ed per 1,000 calls (after the first call). */
    per1000: Record<string, { opens: number; stats: number }>;
    rounds: number;
  };
  prompt2mb: {
    /** Median ms. */
    ms: { bare: number; backend: number; roomy: number; count: number };
    /** Median of per-round (backend - bare) / count. */
    extraOverCount: number;
    /** Median of per-round (backend - backend not counting) / count: the budget's own cost. */
    budgetOverCount: number;
    tokens: number;
    rounds: number;
  };
  /** Whether any encoder was loaded after 100 small prompts through each path. */
  smallPromptLoadedEncoder: boolean;
}

/** Counts the opens and stats of files under `dir` while `fn` runs. */
function fileAccess(dir: string, fn: () => void): { opens: number; stats: number } {
  const counts = { opens: 0, stats: 0 };
  const openSync = Deno.openSync;
  const statSync = Deno.statSync;
  Deno.openSync = (path, options) => {
    if (String(path).startsWith(dir)) counts.opens++;
    return openSync(path, options);
  };
  Deno.statSync = (path) => {
    if (String(path).startsWith(dir)) counts.stats++;
    return statSync(path);
  };
  try {
    fn();
  } finally {
    Deno.openSync = openSync;
    Deno.statSync = statSync;
  }
  return counts;
}

async function measureGetBackend(rounds: number): Promise<BackendResult["getBackend"]> {
  const dir = await Deno.makeTempDir({ prefix: "bench_llm_" });
  await Deno.writeTextFile(
    `${dir}/extra-openai-models.yaml`,
    '- model_id: "local-llama"\n  model_name: llama3.1\n  api_base: http://127.0.0.1:9/v1\n' +
      "  api_key_name: local\n",
  );
  await Deno.writeTextFile(`${dir}/aliases.json`, JSON.stringify({ fast: "gpt-4o-mini" }));
  await Deno.writeTextFile(`${dir}/keys.json`, JSON.stringify({ openai: "sk-x", local: "sk-y" }));
  // Written a minute ago, as a user directory's files are: a file modified in the last 2 s is
  // read again at each check (docs/llm.md).
  for (const name of ["extra-openai-models.yaml", "aliases.json", "keys.json"]) {
    const then = new Date(Date.now() - 60_000);
    Deno.utimeSync(`${dir}/${name}`, then, then);
  }
  Deno.env.set("LLM_USER_PATH", dir);
  const llmSettings = {
    BACKENDS: {
      default: { CLASS: "llm", CONFIG: { MODEL_ID: "fast", INIT_KWARGS: { temperature: 0.2 } } },
    },
  };
  const ais = {
    openai: createAI({
      BACKENDS: {
        default: {
          CLASS: "openai",
          CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x" },
        },
      },
    }),
    llm: createAI(llmSettings, { llmUserPath: dir }),
    "llm, LLM_USER_PATH": createAI(llmSettings),
    "llm, llmCheckIntervalMs 0": createAI(llmSettings, { llmUserPath: dir, llmCheckIntervalMs: 0 }),
  };
  const CALLS = 1000;
  const samples: Record<string, number[]> = {};
  const ratios: number[] = [];
  const envRatios: number[] = [];
  for (const ai of Object.values(ais)) for (let i = 0; i < 2000; i++) ai.getBackend();
  for (let round = 0; round < rounds; round++) {
    const us: Record<string, number> = {};
    // In turn, the order reversed every other round (the one measured second pays the first's garbage).
    const order = Object.entries(ais);
    if (round % 2) order.reverse();
    for (const [name, ai] of order) {
      const start = performance.now();
      for (let i = 0; i < CALLS; i++) ai.getBackend();
      us[name] = (performance.now() - start) * 1000 / CALLS;
      (samples[name] ??= []).push(us[name]);
    }
    ratios.push(us.llm / us.openai);
    envRatios.push(us["llm, LLM_USER_PATH"] / us.openai);
  }
  const per1000: Record<string, { opens: number; stats: number }> = {};
  for (const [name, ai] of Object.entries(ais)) {
    if (name === "openai") continue;
    ai.reload();
    ai.getBackend();
    per1000[name] = fileAccess(dir, () => {
      for (let i = 0; i < CALLS; i++) ai.getBackend();
    });
  }
  await Deno.remove(dir, { recursive: true });
  const us: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) us[name] = median(values);
  return {
    us,
    llmOverOpenAI: median(ratios),
    envOverOpenAI: median(envRatios),
    per1000,
    rounds,
  };
}

async function measurePrompt(rounds: number, url: string): Promise<BackendResult["prompt2mb"]> {
  const SIZE = 2_000_000;
  const MODEL = "gpt-4.1";
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: MODEL, OPENAI_API_KEY: "sk-x", API_BASE: url, MAX_RETRIES: 0 },
      },
      // A window so large that the prompt's size proves it fits: not counted.
      roomy: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: MODEL,
          OPENAI_API_KEY: "sk-x",
          API_BASE: url,
          MAX_RETRIES: 0,
          TOKEN_LIMIT: 10_000_000,
        },
      },
    },
  });
  const client = new OpenAI({ apiKey: "sk-x", baseURL: url, maxRetries: 0 });
  const bare = async (text: string) => {
    await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: [{ type: "text", text: "Correct this text:" }] },
        { role: "user", content: [{ type: "text", text }] },
      ],
      max_tokens: 32_768,
    });
  };
  const backend = async (text: string, alias = "default") => {
    await ai.getAIBackend(alias).promptWithContext({
      prePrompt: "Correct this text:",
      context: text,
    })
      .text();
  };
  const time = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const ms = {
    bare: [] as number[],
    backend: [] as number[],
    roomy: [] as number[],
    count: [] as number[],
  };
  const ratios: number[] = [];
  const ownRatios: number[] = [];
  let tokens = 0;
  let seed = 160_000;
  for (let round = 0; round <= rounds; round++) {
    // Fresh text for each variant, tokenizer caches emptied: every count starts cold. The
    // order is reversed every other round (a variant pays for the garbage of the one before).
    const texts = [
      prose(SIZE, seed++),
      prose(SIZE, seed++),
      prose(SIZE, seed++),
      prose(SIZE, seed++),
    ];
    let counted = 0;
    const variants: (() => Promise<unknown>)[] = [
      () => bare(texts[0]),
      () => backend(texts[1]),
      async () => counted = await countTokens(texts[2], MODEL),
      () => backend(texts[3], "roomy"),
    ];
    const times: number[] = [];
    for (const index of round % 2 ? [3, 2, 1, 0] : [0, 1, 2, 3]) {
      clearTokenizerCaches();
      times[index] = await time(variants[index]);
    }
    const [b, m, c, roomy] = times;
    if (round === 0) continue; // warm-up
    tokens = counted;
    ms.bare.push(b);
    ms.backend.push(m);
    ms.count.push(c);
    ms.roomy.push(roomy);
    ratios.push((m - b) / c);
    ownRatios.push((m - roomy) / c);
  }
  return {
    ms: {
      bare: median(ms.bare),
      backend: median(ms.backend),
      roomy: median(ms.roomy),
      count: median(ms.count),
    },
    extraOverCount: median(ratios),
    budgetOverCount: median(ownRatios),
    tokens,
    rounds,
  };
}

async function smallPromptsLoadEncoder(url: string): Promise<boolean> {
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x", API_BASE: url },
      },
      provider: { CLASS: "provider", CONFIG: {} },
    },
    PROVIDERS: {
      default: { provider: "openai_compatible", model: "gpt-4o", api_base: url, api_key: "sk-x" },
    },
  });
  const args = { prePrompt: "Correct this paragraph:", context: prose(2000, 5) };
  for (let i = 0; i < 100; i++) {
    await ai.getBackend().promptWithContext(args).text();
    await ai.getAIBackend("provider").promptWithContext(args).text();
  }
  return loadedEncoding("o200k_base") !== undefined || loadedEncoding("cl100k_base") !== undefined;
}

async function measure(): Promise<BackendResult> {
  const getBackend = await measureGetBackend(31);
  const peer = await startServerProcess(PEER);
  try {
    // First, while no encoder has been loaded in this process.
    const smallPromptLoadedEncoder = await smallPromptsLoadEncoder(peer.url);
    const prompt2mb = await measurePrompt(15, peer.url);
    return { getBackend, prompt2mb, smallPromptLoadedEncoder };
  } finally {
    await peer.stop();
  }
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const ok = (met: boolean) => (met ? "**met**" : "**NOT met**");

/** Measures in a fresh process and returns the section's Markdown lines (its goals first). */
export async function backendSection(): Promise<string[]> {
  console.error("LLM backend and budget...");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, new URL(import.meta.url).pathname, "measure"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error("_backend_report.ts measure failed");
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  const r = JSON.parse(lines[lines.length - 1]) as BackendResult;
  const g = r.getBackend;
  const p = r.prompt2mb;
  const kept = g.per1000.llm;
  const env = g.per1000["llm, LLM_USER_PATH"];
  const every = g.per1000["llm, llmCheckIntervalMs 0"];
  return [
    "## LLM backend and the answer budget (issue 16, goals 3 and 5)",
    "",
    "Measured by `bench/_backend_report.ts` in a fresh process (`deno run -A bench/report.ts`",
    "regenerates it); `deno task bench` runs the same comparisons (`bench/backend_bench.ts`).",
    "",
    "| goal | measured | |",
    "| --- | --- | --- |",
    `| 5: LLM backend \`getBackend()\` ≤ 2x the OpenAI backend's | ${
      f2(g.llmOverOpenAI)
    }x (directory from \`LLM_USER_PATH\`: ${f2(g.envOverOpenAI)}x) | ${
      ok(g.llmOverOpenAI <= 2 && g.envOverOpenAI <= 2)
    } |`,
    `| 5: no file read while the user directory is unchanged | ${kept.opens} files opened per 1,000 calls (${env.opens} with \`LLM_USER_PATH\`; ${every.opens} with \`llmCheckIntervalMs: 0\`) | ${
      ok(kept.opens === 0 && env.opens === 0 && every.opens === 0)
    } |`,
    `| 3: small prompts send without counting or loading an encoder | 200 requests (OpenAI and provider backends): encoder loaded: ${
      r.smallPromptLoadedEncoder ? "yes" : "no"
    } (and \`tests/budget_test.ts\`) | ${ok(!r.smallPromptLoadedEncoder)} |`,
    `| 3: a 2 MB prompt costs at most one \`countTokens\` pass more than the bare client | ${
      f2(p.extraOverCount)
    } count passes more | ${ok(p.extraOverCount <= 1)} |`,
    "",
    `\`getBackend()\`, ${g.rounds} rounds of 1,000 calls per variant, in turn; medians in µs per call. The`,
    "LLM backend's model is an alias of `aliases.json`; its user directory also holds an",
    "`extra-openai-models.yaml` model and `keys.json`.",
    "",
    "| variant | µs per call | files opened / 1,000 calls | files `stat`-ed / 1,000 calls |",
    "| --- | ---: | ---: | ---: |",
    `| OpenAI backend | ${f2(g.us.openai)} | - | - |`,
    `| LLM backend, \`llmUserPath\` (checked at most once a second) | ${
      f2(g.us.llm)
    } | ${kept.opens} | ${kept.stats} |`,
    `| LLM backend, \`LLM_USER_PATH\` | ${
      f2(g.us["llm, LLM_USER_PATH"])
    } | ${env.opens} | ${env.stats} |`,
    `| LLM backend, \`llmCheckIntervalMs: 0\` (a \`stat\` per file at every call) | ${
      f2(g.us["llm, llmCheckIntervalMs 0"])
    } | ${every.opens} | ${every.stats} |`,
    "",
    "Before this change the LLM backend read `extra-openai-models.yaml` and `aliases.json` twice per",
    "call (about 4,000 file opens and 80x the OpenAI backend's time per 1,000 calls, as issue 16",
    "measured).",
    "",
    `A 2 MB prompt (fresh prose each round, ${p.tokens} tokens, gpt-4.1's window of 1,047,576: near`,
    "enough that its size alone does not prove it fits with the 32,768-token answer cap, so it is",
    "counted, by ranges, until the counted part and the rest's byte length prove it: about two",
    `thirds of it) against the test peer in its own process; ${p.rounds} rounds after a warm-up, in`,
    "turn, the order reversed every other round, tokenizer caches emptied before each variant;",
    "medians in ms.",
    "",
    "| variant | ms |",
    "| --- | ---: |",
    `| bare \`openai\` client, the same request | ${f1(p.ms.bare)} |`,
    `| OpenAI backend \`promptWithContext()\` (counted) | ${f1(p.ms.backend)} |`,
    `| the same with \`TOKEN_LIMIT: 10_000_000\` (its size proves it fits: not counted) | ${
      f1(p.ms.roomy)
    } |`,
    `| one \`countTokens\` pass over 2 MB | ${f1(p.ms.count)} |`,
    `| (backend - bare client) / count pass | ${
      f2(p.extraOverCount)
    } (median of per-round ratios) |`,
    `| (backend counted - backend not counted) / count pass: the budget's own cost | ${
      f2(p.budgetOverCount)
    } |`,
    "",
    "Run to run, on this shared machine: in the runs made while writing this, (backend - bare",
    "client) / count pass ranged from 0.7 to 1.0, and `getBackend()` LLM / OpenAI from 1.3x to 1.6x.",
    "",
  ];
}

if (import.meta.main && Deno.args[0] === "measure") {
  console.log(JSON.stringify(await measure()));
}
