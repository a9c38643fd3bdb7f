/**
 * Interleaved measurements for `bench/report.ts`, run in a fresh process per
 * section (`deno run -A bench/_measure.ts count|split`). Within a
 * section the variants run in turn, iteration by iteration, on fresh text,
 * so that a change of machine speed hits them alike; the medians (and the
 * median of per-iteration ratios) are printed as JSON.
 *
 * @module
 */
import { get_encoding } from "npm:tiktoken@^1.0.22";
import { countTokens as gptCl100k } from "npm:gpt-tokenizer@^3.4.0/encoding/cl100k_base";
import { countTokens as gptO200k } from "npm:gpt-tokenizer@^3.4.0/encoding/o200k_base";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import {
  countTokens,
  NaiveTextSplitterCalculator,
  RecursiveCharacterTextSplitter,
  TiktokenLengthCalculator,
} from "../mod.ts";
import { clearTokenizerCaches, type EncodingName, loadEncoding } from "../_tokenizer/mod.ts";
import { prose, variety } from "./corpus.ts";
import { baselineSplit } from "./_baseline_splitter.ts";

/** Median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

let seed = 50_000;
const MB = 1_000_000;

type Samples = Record<string, number[]>;

function summarize(samples: Samples, skip: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, values] of Object.entries(samples)) out[name] = median(values.slice(skip));
  return out;
}

async function measureCount(rounds: number): Promise<unknown> {
  const result: Record<string, unknown> = {};
  for (const name of ["cl100k_base", "o200k_base"] as EncodingName[]) {
    const ours = await loadEncoding(name);
    const wasm = get_encoding(name);
    const gpt = name === "cl100k_base" ? gptCl100k : gptO200k;
    const js = new Tiktoken(name === "cl100k_base" ? cl100k : o200k);
    for (const kind of ["prose", "variety"] as const) {
      const generate = kind === "prose" ? prose : variety;
      const samples: Samples = {};
      const ratios: number[] = [];
      for (let i = 0; i < rounds + 1; i++) {
        const texts = [generate(MB, seed++), generate(MB, seed++), generate(MB, seed++)];
        clearTokenizerCaches();
        const a = time(() => ours.count(texts[0]));
        const b = time(() => wasm.encode_ordinary(texts[1]).length);
        (samples["ours"] ??= []).push(a);
        (samples["wasm tiktoken"] ??= []).push(b);
        // gpt-tokenizer takes seconds per MB of high-variety text: three runs there.
        if (kind === "prose" || i < 3) {
          (samples["gpt-tokenizer"] ??= []).push(time(() => gpt(texts[2])));
        }
        if (i > 0) ratios.push(b / a);
        if (kind === "prose" && i < 3) {
          (samples["js-tiktoken"] ??= []).push(
            time(() => js.encode(generate(MB, seed++), [], []).length),
          );
        }
      }
      samples["js-tiktoken"] &&= samples["js-tiktoken"].slice(0); // few, slow runs: keep all
      const medians = summarize(samples, 1);
      if (samples["js-tiktoken"]) medians["js-tiktoken"] = median(samples["js-tiktoken"]);
      result[`${name} ${kind}`] = { medians, wasmOverOurs: median(ratios), rounds };
    }
    wasm.free();
  }
  return result;
}

async function measureSplit(rounds: number): Promise<unknown> {
  const exact = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  await exact.load();
  const naive = new NaiveTextSplitterCalculator();
  const js = new Tiktoken(o200k);
  const split = (text: string, length: (t: string) => number) =>
    new RecursiveCharacterTextSplitter({ chunkSize: 4096, lengthFunction: length }).splitText(text);
  const samples: Samples = {};
  const ratios: number[] = [];
  const countFn = (t: string) => countTokens(t, "gpt-4o");
  await countFn("warm");
  for (let i = 0; i < rounds + 1; i++) {
    const [a, b, c] = [prose(MB, seed++), prose(MB, seed++), prose(MB, seed++)];
    clearTokenizerCaches();
    const start = performance.now();
    await countFn(a);
    const count = performance.now() - start;
    clearTokenizerCaches();
    const exactMs = time(() => split(b, (t) => exact.getSplitterLength(t)));
    const naiveMs = time(() => split(c, (t) => naive.getSplitterLength(t)));
    (samples["one count pass 1MB"] ??= []).push(count);
    (samples["split exact 1MB"] ??= []).push(exactMs);
    (samples["split naive 1MB"] ??= []).push(naiveMs);
    if (i > 0) ratios.push(exactMs / count);
  }
  const medians = summarize(samples, 1);
  // The straightforward splitter calling js-tiktoken on every piece: slow, two runs.
  const baseline: number[] = [];
  for (let i = 0; i < 2; i++) {
    const text = prose(MB, seed++);
    baseline.push(time(() => baselineSplit(text, 4096, 200, (t) => js.encode(t, [], []).length)));
  }
  medians["baseline splitter (js-tiktoken per piece) 1MB"] = median(baseline);
  // Linearity: a block of ten 1 MB splits (fresh text each, caches emptied)
  // and one 10 MB split, in turn; per round, the 10 MB time over the block's
  // mean 1 MB time (robust to the machine's drift between short runs).
  const lin: Samples = {};
  const linRatios: number[] = [];
  for (let i = 0; i < 4; i++) {
    const smalls = Array.from({ length: 10 }, () => prose(MB, seed++));
    const large = prose(10 * MB, seed++);
    let block = 0;
    for (const small of smalls) {
      clearTokenizerCaches();
      block += time(() => split(small, (t) => exact.getSplitterLength(t)));
    }
    clearTokenizerCaches();
    const l = time(() => split(large, (t) => exact.getSplitterLength(t)));
    clearTokenizerCaches();
    const lc = time(() => exact.getSplitterLength(large));
    (lin["split exact 1MB"] ??= []).push(block / 10);
    (lin["split exact 10MB"] ??= []).push(l);
    (lin["one count pass 10MB"] ??= []).push(lc);
    if (i > 0) linRatios.push(l / (block / 10));
  }
  return {
    medians,
    splitOverCount: median(ratios),
    linearity: { medians: summarize(lin, 1), tenOverOne: median(linRatios) },
    rounds,
  };
}

if (import.meta.main) {
  const [section, arg] = Deno.args;
  let result: unknown;
  if (section === "count") result = await measureCount(Number(arg ?? 7));
  else if (section === "split") result = await measureSplit(Number(arg ?? 9));
  else throw new Error("usage: _measure.ts count|split [rounds]");
  console.log(JSON.stringify(result));
}
