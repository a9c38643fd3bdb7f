/**
 * Providers: one `PROVIDERS` entry per alias naming a vendor and a model,
 * the built-in OpenAI-compatible vendors, and the migration from backends.
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
} from "./openai_compatible.ts";
export { AZURE_ENV, DEFAULT_AZURE_API_VERSION } from "./azure.ts";
