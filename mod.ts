/**
 * AI backends and providers for TypeScript content tools: complete text and
 * describe images with whichever AI vendor the settings name, split long
 * content to fit a model, count tokens exactly.
 *
 * The settings use the keys of Wagtail AI's `WAGTAIL_AI` setting.
 *
 * @example Complete text with the echo backend (no AI service needed)
 * ```ts
 * import { createAI } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ai = createAI({
 *   BACKENDS: {
 *     default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } },
 *   },
 * });
 * const backend = ai.getBackend();
 * const splitter = await backend.getTextSplitter();
 * let answer = "";
 * for (const chunk of splitter.splitText("A long article...")) {
 *   const response = backend.promptWithContext({ prePrompt: "Correct this:", context: chunk });
 *   for await (const text of response) answer += text; // streamed as it arrives
 * }
 * assert.equal(answer, "This is an echo backend: A long article...");
 * ```
 *
 * @module
 */
export type {
  AISettings,
  BackendConfigSettings,
  BackendSettings,
  Prompt,
  PromptMethod,
  PromptSettings,
  TextSplittingSettings,
} from "./settings.ts";
export { DEFAULT_BACKENDS, DEFAULT_PROMPTS } from "./settings.ts";
export {
  AI,
  createAI,
  type CreateAIOptions,
  type ProcessTextOptions,
  type UsageQuery,
} from "./ai.ts";
export * from "./documents/mod.ts";
export { loadSettings } from "./load_settings.ts";
export {
  CLIENT_CLOSED_STATUS,
  type ErrorBody,
  errorResponse,
  type ErrorResponseOptions,
  type ResponseFormat,
  type StreamableAnswer,
  toResponse,
  type ToResponseOptions,
} from "./web.ts";
export { type MigrateOptions, migrateSettings, type MigrationResult } from "./migrate.ts";
export { registerBackendClass, unregisterBackendClass } from "./backends/registry.ts";
export {
  registerLengthCalculatorClass,
  registerTextSplitterClass,
} from "./text_splitters/registry.ts";
export * from "./errors.ts";
export * from "./backends/mod.ts";
export * from "./backends/llm/mod.ts";
export {
  type PromptStyle,
  ProviderBackend,
  type ProviderBackendConfig,
} from "./backends/provider.ts";
export * from "./providers/mod.ts";
export * from "./operations/mod.ts";
export * from "./limits/mod.ts";
export * from "./text_splitters/mod.ts";
export {
  countTokens,
  getDefaultTokenLimit,
  getEncodingName,
  getMaxOutputTokens,
  getTokenCounter,
  registerTokenLimit,
} from "./tokens.ts";
export type {
  EncodingName,
  ModelLimits,
  RegisterTokenLimitOptions,
  TokenCounter,
} from "./tokens.ts";
