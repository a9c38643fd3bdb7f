/**
 * Interleaved measurements of whole requests (issue 16) for `bench/report.ts`,
 * against the instant server of `bench/_request_peer.ts` in a process of its
 * own:
 *
 * - `deno run -A bench/_request_measure.ts throughput [rounds]`: starts the
 *   server; for each scenario (whole answers and streams, concurrency 1 and
 *   50, a 2 MB prompt), every round runs one batch of requests through each
 *   variant of `bench/_request_variants.ts` in turn, rotating which goes
 *   first. Per variant: the median time per request, the median of
 *   per-round throughput ratios against the bare `openai` client, the median
 *   process CPU time per request, and for streams the time to the first
 *   chunk (p50 and p99 over every request). The first round is a warm-up.
 * - `deno run -A --v8-flags=--expose-gc bench/_request_measure.ts memory
 *   VARIANT ORIGIN [streams]`: in this fresh process, one variant holds
 *   `streams` (500) streams open at once (the server sends each its first
 *   chunk and the rest when this process asks, once every stream has its
 *   first chunk) and reads them to the end; the process's resident memory
 *   before, while they are held open (and its JavaScript heap), and its peak
 *   (VmHWM).
 *
 * Prints one line of JSON.
 *
 * @module
 */
import process from "node:process";
import { startRequestPeer, type Variant, VARIANTS } from "./_request_variants.ts";

/** Median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** One scenario: what is asked, how many at once, how many per round. */
interface Scenario {
  name: string;
  /** The path's first part on the server (`json`, `s50`, `s2000`). */
  kind: string;
  stream: boolean;
  concurrency: number;
  /** Requests per worker per round. */
  perWorker: number;
  context: string;
  /** Rounds as a share of the rounds asked (slow scenarios run fewer). */
  share: number;
}

const SHORT = "Teh quick brown fox jumsp over the lazy dog.";
/** About 2 MB of prose-like text. */
function twoMB(): string {
  const words = ["the", "editor", "page", "content", "of", "a", "paragraph", "and", "is", "text"];
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < 2_000_000; i++) {
    const word = words[(i * 7 + (i >> 3)) % words.length];
    parts.push(word);
    length += word.length + 1;
    if (i % 12 === 11) parts.push(".\n");
  }
  return parts.join(" ");
}

const SCENARIOS: Scenario[] = [
  {
    name: "whole answer, concurrency 1",
    kind: "json",
    stream: false,
    concurrency: 1,
    perWorker: 20,
    context: SHORT,
    share: 2,
  },
  {
    name: "whole answer, concurrency 50",
    kind: "json",
    stream: false,
    concurrency: 50,
    perWorker: 4,
    context: SHORT,
    share: 2,
  },
  {
    name: "50-chunk stream, concurrency 1",
    kind: "s50",
    stream: true,
    concurrency: 1,
    perWorker: 20,
    context: SHORT,
    share: 1,
  },
  {
    name: "50-chunk stream, concurrency 50",
    kind: "s50",
    stream: true,
    concurrency: 50,
    perWorker: 2,
    context: SHORT,
    share: 1,
  },
  {
    name: "2,000-chunk stream, concurrency 1",
    kind: "s2000",
    stream: true,
    concurrency: 1,
    perWorker: 4,
    context: SHORT,
    share: 1,
  },
  {
    name: "2 MB prompt, whole answer, concurrency 1",
    kind: "json",
    stream: false,
    concurrency: 1,
    perWorker: 1,
    context: "",
    share: 0.5,
  },
];

/** What a scenario measured (the report reads it from this script's output). */
export interface ScenarioResult {
  requests: number;
  rounds: number;
  /** Median ms per request (wall time of the batch over its requests). */
  ms: Record<string, number>;
  /** Median of per-round ratios: the bare client's batch time over the variant's (throughput). */
  ratio: Record<string, number>;
  /** Median process CPU µs per request. */
  cpuUs: Record<string, number>;
  /** Median of per-round ratios: the Vercel AI SDK's batch time over the variant's. */
  overVercel: Record<string, number>;
  /** Streams: the time to the first chunk, ms. */
  first?: Record<string, { p50: number; p99: number }>;
}

async function batch(
  variant: Variant,
  scenario: Scenario,
  firsts: number[] | undefined,
): Promise<void> {
  const worker = async () => {
    for (let i = 0; i < scenario.perWorker; i++) {
      if (!scenario.stream) {
        await variant.json(scenario.context);
        continue;
      }
      const start = performance.now();
      let first = -1;
      const length = await variant.stream(scenario.context, () => {
        first = performance.now() - start;
      });
      if (length === 0 || first < 0) throw new Error("a stream gave no text");
      firsts?.push(first);
    }
  };
  await Promise.all(Array.from({ length: scenario.concurrency }, worker));
}

const BASELINE = "openai client";
const VERCEL = "Vercel AI SDK";

async function measureScenario(
  origin: string,
  scenario: Scenario,
  rounds: number,
): Promise<ScenarioResult> {
  const names = Object.keys(VARIANTS);
  const variants: Record<string, Variant> = {};
  for (const name of names) variants[name] = await VARIANTS[name](`${origin}/${scenario.kind}/v1`);
  const requests = scenario.concurrency * scenario.perWorker;
  const times: Record<string, number[]> = {};
  const cpus: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  const overVercel: Record<string, number[]> = {};
  const firsts: Record<string, number[]> = {};
  for (let round = 0; round <= rounds; round++) {
    const counted = round > 0;
    const took: Record<string, number> = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const cpu = cpuMicros();
      const start = performance.now();
      await batch(
        variants[name],
        scenario,
        counted && scenario.stream ? (firsts[name] ??= []) : undefined,
      );
      const ms = performance.now() - start;
      took[name] = ms;
      if (counted) {
        (times[name] ??= []).push(ms / requests);
        (cpus[name] ??= []).push((cpuMicros() - cpu) / requests);
      }
    }
    if (counted) {
      for (const name of names) {
        (ratios[name] ??= []).push(took[BASELINE] / took[name]);
        (overVercel[name] ??= []).push(took[VERCEL] / took[name]);
      }
    }
  }
  const result: ScenarioResult = {
    requests,
    rounds,
    ms: {},
    ratio: {},
    cpuUs: {},
    overVercel: {},
  };
  for (const name of names) {
    result.overVercel[name] = median(overVercel[name]);
    result.ms[name] = median(times[name]);
    result.ratio[name] = median(ratios[name]);
    result.cpuUs[name] = median(cpus[name]);
  }
  if (scenario.stream) {
    result.first = {};
    for (const name of names) {
      result.first[name] = {
        p50: percentile(firsts[name], 0.5),
        p99: percentile(firsts[name], 0.99),
      };
    }
  }
  return result;
}

async function measureThroughput(rounds: number, only?: string): Promise<unknown> {
  const peer = await startRequestPeer();
  try {
    const big = twoMB();
    const out: Record<string, ScenarioResult> = {};
    for (const scenario of SCENARIOS) {
      if (only !== undefined && !scenario.name.includes(only)) continue;
      if (scenario.context === "") scenario.context = big;
      console.error(`requests: ${scenario.name}...`);
      out[scenario.name] = await measureScenario(
        peer.origin,
        scenario,
        Math.max(3, Math.round(rounds * scenario.share)),
      );
    }
    return out;
  } finally {
    await peer.stop();
  }
}

function status(field: string): number {
  const text = Deno.readTextFileSync("/proc/self/status");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? "0") / 1024;
}

/**
 * One variant holding `streams` streams open at once, in this fresh process: the
 * resident memory before (after a warm-up and a collection), while all are held
 * open (once each has its first chunk: after a collection, and the JavaScript
 * heap then), and the process's peak (VmHWM) once they are read to the end.
 */
async function measureMemory(name: string, origin: string, streams: number): Promise<unknown> {
  const make = VARIANTS[name];
  if (make === undefined) throw new Error(`unknown variant "${name}"`);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const warm = await make(`${origin}/s50/v1`);
  for (let i = 0; i < 3; i++) await warm.stream(SHORT);
  const id = crypto.randomUUID().replaceAll("-", "");
  const variant = await make(`${origin}/hold-${id}/v1`);
  gc();
  const before = status("VmRSS");
  let firsts = 0;
  let allOpen!: () => void;
  const open = new Promise<void>((resolve) => (allOpen = resolve));
  const reading = Promise.all(
    Array.from({ length: streams }, () =>
      variant.stream(SHORT, () => {
        if (++firsts === streams) allOpen();
      })),
  );
  await open;
  gc();
  const heldMB = status("VmRSS");
  const heapMB = Deno.memoryUsage().heapUsed / 1024 / 1024;
  await (await fetch(`${origin}/release/${id}`)).text();
  const lengths = await reading;
  if (lengths.some((length) => length === 0)) throw new Error("a stream gave no text");
  return { variant: name, streams, beforeMB: before, heldMB, heapMB, peakMB: status("VmHWM") };
}

if (import.meta.main) {
  const [section, ...args] = Deno.args;
  let result: unknown;
  if (section === "throughput") result = await measureThroughput(Number(args[0] ?? 30), args[1]);
  else if (section === "memory") {
    result = await measureMemory(args[0], args[1], Number(args[2] ?? 500));
  } else throw new Error("usage: _request_measure.ts throughput [rounds] | memory VARIANT ORIGIN");
  console.log(JSON.stringify(result));
}
