/**
 * Backends: the shared contract and the built-in backends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, EchoBackend } from "../mod.ts";
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } } },
 * });
 * assert.ok(ai.getAIBackend("default") instanceof EchoBackend);
 * ```
 *
 * @module
 */
export * from "./types.ts";
// Not observedResponse() and responseSource(): the operations layer's, package-private.
export {
  AIResponse,
  type AnswerInfo,
  type CompleteAnswer,
  type FallbackRecord,
  type RequestPlan,
  type ResponseEvent,
  type ResponseSource,
  type ResponseUsage,
} from "./response.ts";
export * from "./base.ts";
export * from "./echo.ts";
export { OpenAIBackend, type OpenAIBackendConfig } from "./openai.ts";
