/**
 * Providers: one `PROVIDERS` entry per alias naming a vendor and a model,
 * the built-in OpenAI-compatible vendors, native Anthropic, structured
 * output (`completeObject()`), and the migration from backends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, migrateSettings } from "../mod.ts";
 *
 * const { settings, notes } = migrateSettings({
 *   BACKENDS: {
 *     default: { CLASS: "wagtail_ai.ai.openai.OpenAIBackend", CONFIG: { MODEL_ID: "gpt-4" } },
 *   },
 * });
 * assert.deepEqual(settings.PROVIDERS?.default, { provider: "openai", model: "gpt-4", timeout: 15 });
 * assert.ok(Array.isArray(notes));
 * const ai = createAI(settings);
 * assert.equal(ai.getProviderSettings().model, "gpt-4");
 * ```
 *
 * @module
 */
export * from "./types.ts";
// The chat message and completion types the provider API takes and returns.
export * from "../chat.ts";
// The structured-output types completeObject() takes and returns.
export type * from "../structured.ts";
export {
  createProvider,
  type CreateProviderOptions,
  getProviderInfo,
  listProviders,
  parseProviderModel,
  registerProvider,
  resolveProviderSettings,
  unregisterProvider,
} from "./registry.ts";
export {
  DEFAULT_PROVIDER_MAX_RETRIES,
  DEFAULT_PROVIDER_TIMEOUT_SECONDS,
  type OpenAICompatibleConfig,
  type OpenAICompatibleDefaults,
  openAICompatibleFactory,
  OpenAICompatibleProvider,
  type OpenAICompatibleStrategy,
} from "./openai_compatible.ts";
export {
  ANTHROPIC_KEYS,
  type AnthropicConfig,
  AnthropicProvider,
  type AnthropicStrategy,
  createAnthropicProvider,
  DEFAULT_ANTHROPIC_API_BASE,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  DEFAULT_ANTHROPIC_VERSION,
  hasNativeStructuredOutput,
} from "./anthropic.ts";
export { AZURE_ENV, DEFAULT_AZURE_API_VERSION } from "./azure.ts";
