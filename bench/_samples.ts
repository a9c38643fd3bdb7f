/**
 * Per-iteration samples for the report: each bench times its measured
 * section itself and, when `BENCH_SAMPLES` names a file, appends
 * `{group, name, ms}` lines to it (outside the timed section), so
 * `bench/report.ts` can take medians from one `deno bench` run.
 *
 * @module
 */

const file = Deno.env.get("BENCH_SAMPLES");

/**
 * Runs `fn` between `b.start()` and `b.end()` and records its wall time.
 *
 * @example
 * ```ts ignore
 * Deno.bench("x", (b) => timed(b, "group", "x", () => work()));
 * ```
 */
export function timed(b: Deno.BenchContext, group: string, name: string, fn: () => unknown): void {
  b.start();
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  b.end();
  if (file) {
    Deno.writeTextFileSync(file, JSON.stringify({ group, name, ms }) + "\n", { append: true });
  }
}

/** Records a sample measured elsewhere (for benches that time whole processes). */
export function record(group: string, name: string, ms: number): void {
  if (file) {
    Deno.writeTextFileSync(file, JSON.stringify({ group, name, ms }) + "\n", { append: true });
  }
}

/** A new seed for every call, so every iteration sees text it has not seen. */
let seed = 10_000;
export function freshSeed(): number {
  return seed++;
}
