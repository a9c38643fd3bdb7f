/**
 * Memory while counting 10 MB (issue 6, goal 4), in a process that imports
 * only the tokenizer: `deno run -A --v8-flags=--expose-gc bench/_memory.ts FILE`.
 * It holds the text (read from FILE) and the o200k_base encoder, collects
 * garbage and notes its resident memory; then it resets its peak (Linux:
 * writing 5 to /proc/self/clear_refs), counts the whole text and reads the
 * peak. Prints JSON.
 *
 * @module
 */
import { loadEncoding } from "../_tokenizer/mod.ts";

function status(field: string): number {
  const text = Deno.readTextFileSync("/proc/self/status");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? "0") / 1024;
}

if (import.meta.main) {
  const base = status("VmRSS");
  const text = Deno.readTextFileSync(Deno.args[0]);
  const encoding = await loadEncoding("o200k_base");
  encoding.count(text.slice(0, 10_000));
  (globalThis as { gc?: () => void }).gc?.();
  const held = status("VmRSS");
  let reset = true;
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5");
  } catch {
    reset = false;
  }
  const tokens = encoding.count(text);
  const peak = status("VmHWM");
  console.log(
    JSON.stringify({
      baseMB: base,
      heldMB: held,
      peakMB: peak,
      peakOverHeld: peak / held,
      tokens,
      reset,
    }),
  );
}
