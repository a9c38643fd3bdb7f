/**
 * Token-accurate splitting of 1 MB (and 10 MB) of prose into chunks of 4096
 * tokens, against one count pass over the same amount of text. Fresh text
 * every iteration and emptied caches, as in the counting bench.
 *
 * Variants: one `countTokens` pass (the reference), our splitter with the
 * exact calculator, our splitter with the naive estimate, and a
 * straightforward LangChain-style splitter that calls the exact counter on
 * every piece (with `js-tiktoken`, as such a splitter would be written).
 *
 * @module
 */
import { Tiktoken } from "js-tiktoken/lite";
import o200k from "js-tiktoken/ranks/o200k_base";
import {
  countTokens,
  NaiveTextSplitterCalculator,
  RecursiveCharacterTextSplitter,
  TiktokenLengthCalculator,
} from "../mod.ts";
import { clearTokenizerCaches } from "../_tokenizer/mod.ts";
import { prose } from "./corpus.ts";
import { baselineSplit } from "./_baseline_splitter.ts";
import { freshSeed, record, timed } from "./_samples.ts";

const CHUNK = 4096;
const exact = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
await exact.load();
await countTokens("warm up", "gpt-4o");
const naive = new NaiveTextSplitterCalculator();
const js = new Tiktoken(o200k);

function splitter(length: (text: string) => number): RecursiveCharacterTextSplitter {
  return new RecursiveCharacterTextSplitter({ chunkSize: CHUNK, lengthFunction: length });
}

// Warm the JIT on every path once (other text), so no variant pays for it.
for (let i = 0; i < 2; i++) {
  const warm = prose(1_000_000, 1 + i);
  await countTokens(warm, "gpt-4o");
  splitter((x) => exact.getSplitterLength(x)).splitText(warm);
  splitter((x) => naive.getSplitterLength(x)).splitText(warm);
}

for (const [label, size, n] of [["1MB", 1_000_000, 9], ["10MB", 10_000_000, 3]] as const) {
  const group = `split gpt-4o ${label} into ${CHUNK}-token chunks`;
  Deno.bench({ name: "one count pass", group, baseline: true, n, warmup: 1 }, async (b) => {
    const t = prose(size, freshSeed());
    clearTokenizerCaches();
    b.start();
    const start = performance.now();
    await countTokens(t, "gpt-4o");
    const ms = performance.now() - start;
    b.end();
    record(group, "one count pass", ms);
  });
  Deno.bench({ name: "split exact (ours)", group, n, warmup: 1 }, (b) => {
    const t = prose(size, freshSeed());
    clearTokenizerCaches();
    timed(
      b,
      group,
      "split exact (ours)",
      () => splitter((x) => exact.getSplitterLength(x)).splitText(t),
    );
  });
  if (label === "1MB") {
    Deno.bench({ name: "split naive (ours)", group, n, warmup: 1 }, (b) => {
      const t = prose(size, freshSeed());
      timed(
        b,
        group,
        "split naive (ours)",
        () => splitter((x) => naive.getSplitterLength(x)).splitText(t),
      );
    });
    Deno.bench({ name: "baseline: per-piece js-tiktoken", group, n: 2, warmup: 0 }, (b) => {
      const t = prose(size, freshSeed());
      timed(
        b,
        group,
        "baseline: per-piece js-tiktoken",
        () => baselineSplit(t, CHUNK, 200, (x) => js.encode(x, [], []).length),
      );
    });
  }
}
