/**
 * What limits add (issue 18), for `deno task bench`: a request against an
 * instant test peer on 127.0.0.1, plain and with `LIMITS` on the in-memory
 * store; and on a redis-server started for the run (skipped without one), the
 * Redis store's reservation and settlement against a bare `PING` on the same
 * client. `bench/report.ts` measures the same for `bench/README.md`.
 *
 * @module
 */
import { createAI } from "../mod.ts";
import { createRedisStore } from "../redis.ts";
import { startPeer } from "../tests/_peer.ts";
import { connectRedis, REDIS_SERVER, startRedis } from "../tests/_redis.ts";

const peer = await startPeer();
peer.setHandler(() => ({ text: "A short answer." }));
const base = {
  PROVIDERS: {
    default: {
      provider: "openai_compatible",
      model: "gpt-4o-mini",
      api_base: peer.url,
      api_key: "sk-bench",
      max_retries: 0,
    },
  },
  BACKENDS: { default: { CLASS: "provider", CONFIG: { MAX_OUTPUT_TOKENS: 256 } } },
  PRICES: { "gpt-4o-mini": { input: 0.15, output: 0.6 } },
};
const variants = {
  plain: createAI(base),
  "LIMITS, in memory": createAI({
    ...base,
    LIMITS: [
      { key: "user", requests_per_minute: 1e12, tokens_per_minute: 1e15, tokens_per_day: 1e15 },
      { key: "site", cost_per_day: 1_000_000 },
    ],
  }),
};
const messages = [{ role: "user" as const, content: "Correct this paragraph, please." }];
const metadata = { user: "42", site: "blog" };
for (const ai of Object.values(variants)) {
  await ai.preload();
  await ai.getProvider().completion({ messages, max_tokens: 256, metadata });
}
for (const [name, ai] of Object.entries(variants)) {
  const baseline = name === "plain";
  Deno.bench({ name, group: "provider.completion()", baseline }, async () => {
    await ai.getProvider().completion({ messages, max_tokens: 256, metadata });
  });
  Deno.bench({ name, group: "backend text()", baseline }, async () => {
    await ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh", metadata }).text();
  });
}

const redis = REDIS_SERVER === undefined ? undefined : await startRedis();
const client = redis === undefined ? undefined : await connectRedis(redis);
if (client !== undefined) {
  const store = createRedisStore(client);
  const charges = ["rpm", "tpm", "tpd", "cpd"].map((tag, index) => ({
    key: `${tag}|*|user=1`,
    amount: 1,
    limit: Number.MAX_SAFE_INTEGER,
    windowMs: index < 2 ? 60_000 : 86_400_000,
  }));
  const settlements = charges.map((charge) => ({ ...charge, delta: -1 }));
  await store.reserve(charges); // the server caches the script
  Deno.bench({ name: "PING", group: "Redis, one client", baseline: true }, async () => {
    await client.ping();
  });
  Deno.bench({ name: "reserve, 4 counters", group: "Redis, one client" }, async () => {
    await store.reserve(charges);
  });
  Deno.bench({ name: "reserve and settle, 4 counters", group: "Redis, one client" }, async () => {
    const result = await store.reserve(charges);
    if (result.granted) await store.settle(settlements, result.at);
  });
}

globalThis.addEventListener("unload", () => {
  peer.close();
  client?.destroy();
  redis?.close();
});
