/**
 * Limits: per-user, per-site (per any metadata field) and global rate limits
 * and token and cost budgets (`LIMITS` in settings), counted in a
 * {@link LimitStore}: in memory by default ({@link MemoryLimitStore}), or on
 * Redis for several processes (`@cms-ai/backends/redis`). See
 * docs/operations.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, LimitExceededError } from "../mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   LIMITS: [{ key: "user", requests_per_minute: 2 }],
 * });
 * const ask = (user: string) =>
 *   ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user } }).text();
 * await ask("ana");
 * await ask("ana");
 * await assert.rejects(ask("ana"), LimitExceededError);
 * await ask("ben"); // each user has their own count
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./memory_store.ts";
