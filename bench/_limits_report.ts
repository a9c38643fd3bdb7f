/**
 * The limits section of `bench/README.md` (issue 18), for `bench/report.ts`:
 * runs `bench/_limits_measure.ts` in fresh processes and gives the section's
 * lines (its goals first).
 *
 * @module
 */

const HERE = new URL("./", import.meta.url);
const MEASURE = new URL("_limits_measure.ts", HERE).pathname;
const CONFIG = new URL("../deno.json", HERE).pathname;

interface MemoryGroup {
  plainMs: number;
  limitedMs: number;
  ratio: number;
  rounds: number;
}
interface RedisResult {
  medians: Record<string, number>;
  overPing: Record<string, number>;
  commands: Record<string, number>;
  serverUs: { PING: number; EVALSHA: number };
  rounds: number;
}

async function run(section: string, rounds: number): Promise<unknown> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, MEASURE, section, String(rounds)],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`_limits_measure.ts ${section} failed`);
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const ok = (met: boolean) => (met ? "**met**" : "**NOT met**");

/** Measures and returns the section's Markdown lines. */
export async function limitsSection(): Promise<string[]> {
  console.error("limits: in-memory store...");
  const memory = await run("memory", 3000) as Record<string, MemoryGroup>;
  console.error("limits: Redis store...");
  const redis = await run("redis", 3000) as RedisResult;
  const worst = Math.max(...Object.values(memory).map((group) => group.ratio));
  const calls = ["reserve, 1 counter", "reserve, 4 counters", "settle, 4 counters"];
  const oneTrip = calls.every((name) => redis.commands[name] === 1);
  return [
    "## Limits (issue 18)",
    "",
    "| goal | measured | |",
    "| --- | --- | --- |",
    `| the in-memory store adds at most 2% to a request against an instant peer | ${
      Object.entries(memory).map(([name, group]) => `${name} ${f3(group.ratio)}x`).join(", ")
    } | ${ok(worst <= 1.02)} |`,
    `| the Redis store's reserve and settle cost at most one round trip each | one command each (${
      calls.map((name) => `${name}: ${redis.commands[name]}`).join(", ")
    }); ${calls.map((name) => `${name} ${f2(redis.overPing[name])}x`).join(", ")} a bare PING | ${
      ok(oneTrip)
    } |`,
    "",
    "In-memory store: the same request to an instant test peer on 127.0.0.1, plain and with",
    "`LIMITS` (a user rule with requests, tokens per minute and per day, and a site rule with a",
    "cost per day: five counters, reserved before sending and settled at the end), in turn,",
    "alternating which goes first; the ratio is the median of per-iteration ratios.",
    "",
    "| request | rounds | plain ms | with LIMITS ms | ratio |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...Object.entries(memory).map(([name, group]) =>
      `| ${name} | ${group.rounds} | ${f3(group.plainMs)} | ${f3(group.limitedMs)} | ${
        f3(group.ratio)
      } |`
    ),
    "",
    "Redis store: a redis-server started for the run on 127.0.0.1, one node-redis client; a bare",
    "`PING`, reservations of 1 and 4 counters and a settlement of 4, in turn; medians of",
    `${redis.rounds} rounds. Commands are those the store sent on the client per call. Each call is`,
    "one Lua script (EVALSHA): one round trip, plus the script's run on the server, which a PING",
    `does not have (the server's own time per call: PING ${redis.serverUs.PING} µs, the scripts ${redis.serverUs.EVALSHA} µs on average, from \`INFO commandstats\`).`,
    "",
    "| call | commands | ms | / PING |",
    "| --- | ---: | ---: | ---: |",
    ...Object.keys(redis.medians).map((name) =>
      `| ${name} | ${redis.commands[name] ?? 0} | ${f3(redis.medians[name])} | ${
        f2(redis.overPing[name])
      } |`
    ),
    "",
  ];
}
