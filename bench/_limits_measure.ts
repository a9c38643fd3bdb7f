/**
 * Interleaved measurements of the limits (issue 18) for `bench/report.ts`, run
 * in a fresh process: `deno run -A bench/_limits_measure.ts memory|redis`.
 *
 * - `memory`: a request against an instant test peer on 127.0.0.1, plain, with
 *   a requests-only rule, with `LIMITS` on a store that does nothing and on the
 *   in-memory store (a provider's `completion()` and a provider backend's
 *   `text()`), in turn iteration by iteration; the median of per-iteration
 *   ratios.
 * - `redis`: on one node-redis client of a redis-server started for the run,
 *   a bare `PING`, a reservation (`reserve()` of 1 and of 4 counters) and a
 *   settlement, in turn; medians, their ratio to the PING, and the commands
 *   each sends (counted on the client).
 *
 * Prints one line of JSON.
 *
 * @module
 */
import { startServerProcess } from "./_server_process.ts";
import { createRedisStore, type RedisClientLike } from "../redis.ts";
import { connectRedis, startRedis } from "../tests/_redis.ts";
import { createAI, type LimitStore, MemoryLimitStore } from "../mod.ts";

/** Median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** The Redis store's reservation and settlement against a bare PING on the same client. */
async function measureRedis(rounds: number): Promise<unknown> {
  await using server = await startRedis();
  const client = await connectRedis(server);
  try {
    let commands = 0;
    const counted: RedisClientLike = {
      get isReady() {
        return client.isReady;
      },
      sendCommand(args) {
        commands++;
        return client.sendCommand(args);
      },
    };
    const store = createRedisStore(counted);
    const one = [{
      key: "tpm|*|user=1",
      amount: 1,
      limit: Number.MAX_SAFE_INTEGER,
      windowMs: 60_000,
    }];
    const four = ["rpm", "tpm", "tpd", "cpd"].map((tag, index) => ({
      key: `${tag}|*|user=1`,
      amount: 1,
      limit: Number.MAX_SAFE_INTEGER,
      windowMs: index < 2 ? 60_000 : 86_400_000,
    }));
    const settlements = four.map((charge) => ({ ...charge, delta: -1 }));
    let at = 0;
    const variants: Record<string, () => Promise<unknown>> = {
      "PING": () => counted.sendCommand(["PING"]),
      "reserve, 1 counter": async () => {
        const result = await store.reserve(one);
        if (result.granted) at = result.at;
      },
      "reserve, 4 counters": async () => {
        const result = await store.reserve(four);
        if (result.granted) at = result.at;
      },
      "settle, 4 counters": () => Promise.resolve(store.settle(settlements, at)),
    };
    // Warm up: the scripts are cached on the server (the first call is EVALSHA, then EVAL).
    for (const run of Object.values(variants)) await run();
    await client.sendCommand(["CONFIG", "RESETSTAT"]);
    const samples: Record<string, number[]> = {};
    const sent: Record<string, number> = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of Object.entries(variants)) {
        const before = commands;
        (samples[name] ??= []).push(await time(run));
        sent[name] = commands - before;
      }
    }
    const medians: Record<string, number> = {};
    for (const [name, values] of Object.entries(samples)) medians[name] = median(values);
    const overPing: Record<string, number> = {};
    for (const name of Object.keys(variants)) {
      overPing[name] = median(samples[name].map((value, index) => value / samples.PING[index]));
    }
    // The server's own time per script call (Lua included), from INFO commandstats.
    const stats = String(await client.sendCommand(["INFO", "commandstats"]));
    const perCall = (command: string) =>
      Number(new RegExp(`cmdstat_${command}:.*usec_per_call=([\\d.]+)`).exec(stats)?.[1] ?? NaN);
    const serverUs = { PING: perCall("ping"), EVALSHA: perCall("evalsha") };
    return { medians, overPing, commands: sent, serverUs, rounds };
  } finally {
    client.destroy();
  }
}

/** A request against an instant peer, plain and with LIMITS on the in-memory store. */
async function measureMemory(rounds: number): Promise<unknown> {
  // The instant peer in a process of its own (its work must not share this thread).
  const peer = await startServerProcess(new URL("_peer_process.ts", import.meta.url).pathname, {
    stderr: "null",
  });
  try {
    return await measureMemoryOn(peer.url, rounds);
  } finally {
    await peer.stop();
  }
}

async function measureMemoryOn(url: string, rounds: number): Promise<unknown> {
  const provider = {
    provider: "openai_compatible",
    model: "gpt-4o-mini",
    api_base: url,
    api_key: "sk-bench",
    max_retries: 0,
  };
  const base = {
    PROVIDERS: { default: provider },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { MAX_OUTPUT_TOKENS: 256 } } },
    PRICES: { "gpt-4o-mini": { input: 0.15, output: 0.6 } },
  };
  const LIMITS = [
    { key: "user", requests_per_minute: 1e12, tokens_per_minute: 1e15, tokens_per_day: 1e15 },
    { key: "site", cost_per_day: 1_000_000 },
  ];
  // A store that keeps nothing and grants everything at once: what is left of the cost of
  // LIMITS without the in-memory store's own work.
  const nothing = new MemoryLimitStore();
  const none: LimitStore = {
    reserve: () => ({ granted: true, at: 0 }),
    settle: () => {},
    read: (counters) => counters.map(() => ({ used: 0, resetMs: 0 })),
    isCoolingDown: (key) => nothing.isCoolingDown(key),
    recordFailure: (key, options) => nothing.recordFailure(key, options),
    recordSuccess: (key) => nothing.recordSuccess(key),
  };
  const variants = {
    plain: createAI(base),
    // Requests only: no prompt to count, no tokens or cost to reserve (the wrapper and the
    // gate alone).
    "LIMITS, requests only": createAI({
      ...base,
      LIMITS: [{ key: "user", requests_per_minute: 1e12 }],
    }),
    "LIMITS, a store that does nothing": createAI({ ...base, LIMITS }, { limitStore: none }),
    "LIMITS, in-memory store": createAI({ ...base, LIMITS }),
  };
  const messages = [{ role: "user" as const, content: "Correct this paragraph, please." }];
  const metadata = { user: "42", site: "blog" };
  type Variant = (typeof variants)[keyof typeof variants];
  const groups: Record<string, (ai: Variant) => Promise<unknown>> = {
    "backend text()": (ai) =>
      ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh text", metadata })
        .text(),
    "provider.completion()": (ai) =>
      ai.getProvider().completion({ messages, max_tokens: 256, metadata }),
  };
  const entries = Object.entries(variants);
  for (const [, ai] of entries) {
    await ai.preload();
    for (const run of Object.values(groups)) for (let i = 0; i < 100; i++) await run(ai);
  }
  const out: Record<string, unknown> = {};
  for (const [group, run] of Object.entries(groups)) {
    const samples: Record<string, number[]> = {};
    const overPlain: Record<string, number[]> = {};
    const storeRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Rotate which goes first, so that none always follows another.
      const times: Record<string, number> = {};
      for (let i = 0; i < entries.length; i++) {
        const [name, ai] = entries[(round + i) % entries.length];
        times[name] = await time(() => run(ai));
      }
      for (const [name] of entries) {
        (samples[name] ??= []).push(times[name]);
        (overPlain[name] ??= []).push(times[name] / times.plain);
      }
      storeRatios.push(
        times["LIMITS, in-memory store"] / times["LIMITS, a store that does nothing"],
      );
    }
    const ms: Record<string, number> = {};
    const ratio: Record<string, number> = {};
    for (const [name] of entries) {
      ms[name] = median(samples[name]);
      ratio[name] = median(overPlain[name]);
    }
    out[group] = { ms, ratio, storeRatio: median(storeRatios), rounds };
  }
  return out;
}

const [section, count] = Deno.args;
const rounds = Number(count ?? 2000);
const result = section === "redis" ? await measureRedis(rounds) : await measureMemory(rounds);
console.log(JSON.stringify(result));
