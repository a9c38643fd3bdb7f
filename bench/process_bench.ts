/**
 * Whole-process benches (each iteration is a separate `deno run`): importing
 * `mod.ts` against an empty script, and the cold start of counting 10 KB for
 * `gpt-4o` and `gpt-4` with ours, the WASM `tiktoken` and `gpt-tokenizer`.
 * Peak memory is not shown here; `bench/report.ts` (through
 * `bench/cold_start.ts`) measures it.
 *
 * @module
 */
import { prepareColdStart, runOnce } from "./cold_start.ts";
import { record } from "./_samples.ts";

const { paths } = await prepareColdStart();
for (const path of Object.values(paths)) await runOnce(path); // warm Deno's caches

function bench(group: string, name: string, variant: string, baseline = false): void {
  Deno.bench({ name, group, baseline, n: 7, warmup: 1 }, async (b) => {
    b.start();
    const { ms } = await runOnce(paths[variant]);
    b.end();
    record(group, name, ms);
  });
}

bench("import (whole process)", "empty script", "empty", true);
bench("import (whole process)", "import mod.ts", "import mod.ts");
for (const model of ["gpt-4o", "gpt-4"]) {
  const group = `cold start: count 10 KB for ${model} (whole process)`;
  bench(group, "wasm tiktoken", `wasm tiktoken ${model}`, true);
  bench(group, "ours", `ours ${model}`);
  bench(group, "gpt-tokenizer", `gpt-tokenizer ${model}`);
}
