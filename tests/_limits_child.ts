// A server process of tests/limits_redis_test.ts: its own createAI() on the shared Redis
// store, sending `count` requests at once to the test peer for the site "shared" once the
// parent says "go" on stdin. Prints one line of JSON: what it was granted and refused.
//
// deno run --allow-net=127.0.0.1 --allow-env --allow-read tests/_limits_child.ts \
//   REDIS_URL PEER_URL COUNT BUDGET
import { createClient } from "npm:redis@^5";
import { createAI, LimitExceededError } from "../mod.ts";
import { createRedisStore } from "../redis.ts";

const [redisUrl, peerUrl, count, budget] = Deno.args;
const client = createClient({ url: redisUrl });
client.on("error", () => {});
await client.connect();
const ai = createAI({
  PROVIDERS: {
    default: {
      provider: "openai_compatible",
      model: "gpt-4o-mini",
      api_base: peerUrl,
      api_key: "sk-child",
      max_retries: 0,
    },
  },
  BACKENDS: { default: { CLASS: "provider", CONFIG: { MAX_OUTPUT_TOKENS: 200 } } },
  LIMITS: [{ key: "site", tokens_per_day: Number(budget) }],
}, { limitStore: createRedisStore(client, { timeoutMs: 60_000 }) });
await ai.preload();

console.log("ready");
// Wait for the parent's "go", so that both processes send at the same time.
const reader = Deno.stdin.readable.getReader();
await reader.read();
reader.releaseLock();

let granted = 0;
let refused = 0;
let tokens = 0;
const failures: string[] = [];
await Promise.all(Array.from({ length: Number(count) }, async (_, index) => {
  const answer = ai.getBackend().promptWithContext({
    prePrompt: "Fix:",
    context: "word ".repeat(10 + (index % 30)),
    metadata: { site: "shared" },
  });
  try {
    await answer.text();
    const usage = await answer.usage();
    granted++;
    tokens += usage!.totalTokens;
  } catch (error) {
    if (error instanceof LimitExceededError && !error.storeUnreachable) refused++;
    else failures.push(String(error));
  }
}));
// Settlements still in flight are done before getUsage() reads.
await ai.getUsage({ key: "site", value: "shared" });
client.destroy();
console.log(JSON.stringify({ granted, refused, tokens, failures }));
Deno.exit(0);
