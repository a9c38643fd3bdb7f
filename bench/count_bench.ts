/**
 * Counting 1 MB of text the process has not seen before: ours against the
 * WASM `tiktoken`, `gpt-tokenizer` and `js-tiktoken` used directly. Every
 * iteration generates a new text (fresh seed, outside the timed section) and
 * our piece cache and join memo are emptied first, so no variant has seen the
 * text. (The peers keep whatever internal caches they have.)
 *
 * @module
 */
import { get_encoding } from "npm:tiktoken@^1.0.22";
import { countTokens as gptCl100k } from "npm:gpt-tokenizer@^3.4.0/encoding/cl100k_base";
import { countTokens as gptO200k } from "npm:gpt-tokenizer@^3.4.0/encoding/o200k_base";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";
import { clearTokenizerCaches, type EncodingName, loadEncoding } from "../_tokenizer/mod.ts";
import { prose, variety } from "./corpus.ts";
import { freshSeed, timed } from "./_samples.ts";

const MB = 1_000_000;
const kinds = { prose, variety } as const;

for (const name of ["cl100k_base", "o200k_base"] as EncodingName[]) {
  const ours = await loadEncoding(name);
  const wasm = get_encoding(name);
  const gpt = name === "cl100k_base" ? gptCl100k : gptO200k;
  const js = new Tiktoken(name === "cl100k_base" ? cl100k : o200k);
  for (const kind of ["prose", "variety"] as const) {
    const group = `count ${name} ${kind} 1MB`;
    const text = () => kinds[kind](MB, freshSeed());
    Deno.bench({ name: "ours", group, n: 9, warmup: 2 }, (b) => {
      const t = text();
      clearTokenizerCaches();
      timed(b, group, "ours", () => ours.count(t));
    });
    Deno.bench({ name: "wasm tiktoken", group, baseline: true, n: 7, warmup: 1 }, (b) => {
      const t = text();
      timed(b, group, "wasm tiktoken", () => wasm.encode_ordinary(t).length);
    });
    // gpt-tokenizer takes seconds per MB of high-variety text: fewer runs there.
    const gptRuns = kind === "prose" ? { n: 7, warmup: 1 } : { n: 2, warmup: 0 };
    Deno.bench({ name: "gpt-tokenizer", group, ...gptRuns }, (b) => {
      const t = text();
      timed(b, group, "gpt-tokenizer", () => gpt(t));
    });
    if (kind === "prose") {
      Deno.bench({ name: "js-tiktoken", group, n: 2, warmup: 0 }, (b) => {
        const t = text();
        timed(b, group, "js-tiktoken", () => js.encode(t, [], []).length);
      });
    }
  }
}
