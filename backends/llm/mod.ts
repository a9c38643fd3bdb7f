/**
 * The LLM backend and its model registry: built-in OpenAI models with the
 * `llm` tool's aliases, the `llm` user directory (`extra-openai-models.yaml`,
 * `keys.json`, `aliases.json`, `default_model.txt`) and plugins.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, listModels } from "./mod.ts";
 *
 * const userPath = await Deno.makeTempDir();
 * assert.equal(getModel("4o", { userPath }).modelId, "gpt-4o");
 * assert.ok(listModels({ userPath }).length > 10);
 * await Deno.remove(userPath);
 * ```
 *
 * @module
 */
export {
  type Attachment,
  type ExecuteContext,
  type Model,
  modelLabel,
  type ModelPrompt,
  type OptionSchema,
  type OptionSpec,
  type OptionType,
  supportsImages,
  validateModelOptions,
  type ValidateOptionsOptions,
} from "./model.ts";
export {
  getDefaultModelId,
  getModel,
  getUserDir,
  listModels,
  type ModelEntry,
  type ModelSource,
  type RegistryOptions,
  type ResolveKeyOptions,
  resolveModelKey,
} from "./registry.ts";
export {
  getUserFilePaths,
  listAliases,
  listKeyNames,
  removeAlias,
  setAlias,
  setDefaultModel,
  setKey,
  type UserFilePaths,
} from "./user_files.ts";
export {
  OPENAI_API_BASE,
  OPENAI_CHAT_OPTIONS,
  OPENAI_IMAGE_TYPES,
  OPENAI_REASONING_OPTIONS,
  OpenAIChatModel,
  type OpenAIChatModelOptions,
  type OpenAIModelObjectOptions,
} from "./openai_models.ts";
export {
  listPlugins,
  type LLMPlugin,
  type RegisterModel,
  type RegisterModelOptions,
  registerPlugin,
  unregisterPlugin,
} from "./plugins.ts";
export {
  type AttachmentInput,
  LLMModel,
  type LLMModelOptions,
  type LLMPromptOptions,
} from "./llm_model.ts";
export { LLMBackend, type LLMBackendConfig } from "./backend.ts";
