/**
 * `@cms-ai/backends/redis`: limits and fallback cooldowns shared by several
 * server processes, on the application's own Redis client. It is an entry of
 * its own so that an application that does not use Redis never loads this
 * code; the package loads no Redis library either way (pass your node-redis
 * client, `npm:redis` v4 or v5).
 *
 * In an application, the client is node-redis's:
 *
 * ```ts ignore
 * import { createClient } from "npm:redis@^5";
 * const client = createClient({ url: Deno.env.get("REDIS_URL") });
 * client.on("error", (error) => console.error("Redis:", error.message));
 * await client.connect();
 * const ai = createAI(settings, { limitStore: createRedisStore(client) });
 * ```
 *
 * @example With a stand-in client that answers as Redis does when other processes used the budget
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, LimitExceededError } from "./mod.ts";
 * import { createRedisStore, type RedisClientLike } from "./redis.ts";
 *
 * const commands: string[][] = [];
 * const client: RedisClientLike = {
 *   isReady: true,
 *   sendCommand(args) {
 *     commands.push(args);
 *     // The reservation script's reply: refused by rule 0, 30 used, free again in 12 s.
 *     return Promise.resolve([0, 0, 30, 12_000]);
 *   },
 * };
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   LIMITS: [{ key: "user", requests_per_minute: 30 }],
 * }, { limitStore: createRedisStore(client, { prefix: "{blog}:" }) });
 * const answer = ai.getBackend().promptWithContext({
 *   prePrompt: "",
 *   context: "hi",
 *   metadata: { user: "42" },
 * });
 * await assert.rejects(answer.text(), (error: unknown) => {
 *   assert.ok(error instanceof LimitExceededError);
 *   assert.equal(error.retryAfterSeconds, 12);
 *   assert.equal(error.value, "42");
 *   return true;
 * });
 * assert.equal(commands[0][0], "EVALSHA");
 * assert.equal(commands[0][3], "{blog}:limit:rpm|*|user=42");
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
