/**
 * `@cms-ai/backends/redis`: limits and fallback cooldowns shared by several
 * server processes, on the application's own Redis client. It is an entry of
 * its own so that an application that does not use Redis never loads this
 * code; the package loads no Redis library either way (pass your node-redis
 * client, `npm:redis` v4 or v5).
 *
 * @example
 * ```ts ignore
 * import { createClient } from "npm:redis@^5";
 * import { createAI } from "@cms-ai/backends";
 * import { createRedisStore } from "@cms-ai/backends/redis";
 *
 * const client = createClient({ url: Deno.env.get("REDIS_URL") });
 * client.on("error", (error) => console.error("Redis:", error.message));
 * await client.connect();
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
 *   PROVIDERS: { default: { provider: "openai", model: "gpt-4.1-mini" } },
 *   LIMITS: [{ key: "user", tokens_per_minute: 20_000, tokens_per_day: 200_000 }],
 * }, { limitStore: createRedisStore(client) });
 * ```
 *
 * @module
 */
export {
  createRedisStore,
  LimitStoreError,
  type RedisClientLike,
  type RedisStoreOptions,
} from "./limits/redis_store.ts";
export type {
  CounterState,
  LimitCharge,
  LimitSettlement,
  LimitStore,
  ReserveResult,
} from "./limits/types.ts";
