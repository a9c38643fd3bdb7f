/**
 * Operations: fallbacks between providers and backends, cooldowns, usage
 * events with cost, and OpenTelemetry spans. Configured with `PROVIDERS`
 * `fallbacks`, `CONFIG.FALLBACKS`, `PRICES` and the `onEvent`, `tracer`,
 * `events` and `cooldownStore` options of `createAI()`: see
 * docs/operations.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AIEvent, createAI } from "../mod.ts";
 *
 * const events: AIEvent[] = [];
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   PRICES: { echo: { input: 1, output: 2 } },
 * }, { onEvent: (event) => events.push(event) });
 * const answer = ai.getBackend().promptWithContext({
 *   prePrompt: "",
 *   context: "hi",
 *   metadata: { user: "42" },
 * });
 * await answer.text();
 * assert.equal(events[1].type, "answer");
 * assert.equal(events[1].metadata.user, "42");
 * assert.equal(events[1].cost?.estimated, true); // the echo backend reports no usage
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./cooldown.ts";
