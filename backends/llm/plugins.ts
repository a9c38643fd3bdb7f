/**
 * Plugins add models to the LLM backend's registry, as `llm` plugins do with
 * their `register_models` hook.
 *
 * A plugin is an object with a `name` and a `registerModels(register)`
 * function; `register(model, {aliases})` adds one {@link Model}. The
 * function is called on every registry lookup (so it may add models
 * depending on the current state), after the built-in models and those of
 * `extra-openai-models.yaml`: a plugin model with the same id or alias
 * replaces an earlier one.
 *
 * @example A plugin with a model that answers with its prompt reversed
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type Model, registerPlugin, unregisterPlugin } from "../../mod.ts";
 *
 * const reverse: Model = {
 *   modelId: "reverse",
 *   label: "Reverse",
 *   contextWindow: 4096,
 *   async *execute(prompt) {
 *     yield { type: "text", text: [...prompt.prompt].reverse().join("") };
 *   },
 * };
 * registerPlugin({
 *   name: "reverse-plugin",
 *   registerModels(register) {
 *     register(reverse, { aliases: ["rev"] });
 *   },
 * });
 *
 * const llmUserPath = await Deno.makeTempDir();
 * const ai = createAI(
 *   { BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "rev" } } } },
 *   { llmUserPath },
 * );
 * const response = ai.getAIBackend("default").promptWithContext({ prePrompt: "ab", context: "cd" });
 * assert.equal(await response.text(), "dc\nba");
 * unregisterPlugin("reverse-plugin");
 * await Deno.remove(llmUserPath);
 * ```
 *
 * @module
 */
import { ImproperlyConfigured } from "../../errors.ts";
import type { Model } from "./model.ts";

/**
 * Options of a {@link RegisterModel} call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RegisterModelOptions } from "./plugins.ts";
 * const options: RegisterModelOptions = { aliases: ["rev", "r"] };
 * assert.equal(options.aliases?.length, 2);
 * ```
 */
export interface RegisterModelOptions {
  /** Short names for the model. */
  aliases?: readonly string[];
}

/**
 * The function a plugin's `registerModels` receives: adds one model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Model, RegisterModel } from "./mod.ts";
 * const added: string[] = [];
 * const register: RegisterModel = (model: Model) => void added.push(model.modelId);
 * register({ modelId: "m", async *execute() {} });
 * assert.deepEqual(added, ["m"]);
 * ```
 */
export type RegisterModel = (model: Model, options?: RegisterModelOptions) => void;

/**
 * A plugin: a name and the function that registers its models.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LLMPlugin } from "./plugins.ts";
 * const plugin: LLMPlugin = { name: "nothing", registerModels() {} };
 * assert.equal(plugin.name, "nothing");
 * ```
 */
export interface LLMPlugin {
  /** A unique name; registering the same name again replaces the plugin. */
  readonly name: string;
  /** Adds the plugin's models with `register(model, {aliases})`. */
  registerModels(register: RegisterModel): void;
}

/**
 * A model a plugin registered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { PluginModel } from "./plugins.ts";
 * const entry: PluginModel = { model: { modelId: "m", async *execute() {} }, aliases: [], plugin: "p" };
 * assert.equal(entry.plugin, "p");
 * ```
 */
export interface PluginModel {
  /** The model. */
  model: Model;
  /** Its aliases. */
  aliases: readonly string[];
  /** The plugin's name. */
  plugin: string;
}

const plugins = new Map<string, LLMPlugin>();
let version = 0;

/**
 * A number that changes whenever a plugin is registered or unregistered (for
 * the registry's kept catalogs).
 */
export function pluginsVersion(): number {
  return version;
}

function collect(plugin: LLMPlugin): PluginModel[] {
  const out: PluginModel[] = [];
  const register: RegisterModel = (model, options = {}) => {
    if (
      typeof model !== "object" || model === null || typeof model.modelId !== "string" ||
      model.modelId.trim() === "" || typeof model.execute !== "function"
    ) {
      throw new TypeError(
        `Plugin "${plugin.name}" registered something that is not a model (a model has a ` +
          "non-empty modelId and an execute() function)",
      );
    }
    const aliases = options?.aliases ?? [];
    if (
      !Array.isArray(aliases) ||
      !aliases.every((alias) => typeof alias === "string" && alias.trim() !== "")
    ) {
      throw new TypeError(
        `Plugin "${plugin.name}" gave model "${model.modelId}" aliases that are not a list of ` +
          "non-empty strings",
      );
    }
    out.push({ model, aliases: [...aliases], plugin: plugin.name });
  };
  plugin.registerModels(register);
  return out;
}

/**
 * Adds a plugin (or replaces the plugin of the same name). Its
 * `registerModels` is called once now, so a broken plugin fails here.
 *
 * @throws {TypeError} when the plugin is malformed or registers something
 * that is not a model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listModels, registerPlugin, unregisterPlugin } from "../../mod.ts";
 * registerPlugin({
 *   name: "parrot",
 *   registerModels(register) {
 *     register({
 *       modelId: "parrot",
 *       async *execute(prompt) {
 *         yield { type: "text", text: prompt.prompt };
 *       },
 *     }, { aliases: ["polly"] });
 *   },
 * });
 * const userPath = await Deno.makeTempDir();
 * const entry = listModels({ userPath }).find((item) => item.model.modelId === "parrot");
 * assert.deepEqual(entry?.aliases, ["polly"]);
 * assert.equal(entry?.source, "plugin:parrot");
 * unregisterPlugin("parrot");
 * await Deno.remove(userPath);
 * ```
 */
export function registerPlugin(plugin: LLMPlugin): void {
  if (typeof plugin !== "object" || plugin === null) {
    throw new TypeError("registerPlugin() takes a plugin object {name, registerModels}");
  }
  if (typeof plugin.name !== "string" || plugin.name.trim() === "") {
    throw new TypeError("A plugin needs a non-empty name");
  }
  if (typeof plugin.registerModels !== "function") {
    throw new TypeError(`Plugin "${plugin.name}" needs a registerModels(register) function`);
  }
  collect(plugin);
  plugins.set(plugin.name, plugin);
  version++;
}

/**
 * Removes a plugin by name. Returns whether it was registered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerPlugin, unregisterPlugin } from "./plugins.ts";
 * registerPlugin({ name: "empty", registerModels() {} });
 * assert.equal(unregisterPlugin("empty"), true);
 * assert.equal(unregisterPlugin("empty"), false);
 * ```
 */
export function unregisterPlugin(name: string): boolean {
  const removed = plugins.delete(name);
  if (removed) version++;
  return removed;
}

/**
 * The names of the registered plugins, in registration order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listPlugins, registerPlugin, unregisterPlugin } from "./plugins.ts";
 * registerPlugin({ name: "listed", registerModels() {} });
 * assert.ok(listPlugins().includes("listed"));
 * unregisterPlugin("listed");
 * ```
 */
export function listPlugins(): string[] {
  return [...plugins.keys()];
}

/**
 * The models of every plugin, in registration order.
 *
 * @throws {ImproperlyConfigured} naming the plugin when its `registerModels` fails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pluginModels, registerPlugin, unregisterPlugin } from "./plugins.ts";
 * registerPlugin({
 *   name: "one-model",
 *   registerModels: (register) => register({ modelId: "solo", async *execute() {} }),
 * });
 * assert.ok(pluginModels().some((entry) => entry.model.modelId === "solo"));
 * unregisterPlugin("one-model");
 * ```
 */
export function pluginModels(): PluginModel[] {
  const out: PluginModel[] = [];
  for (const plugin of plugins.values()) {
    try {
      out.push(...collect(plugin));
    } catch (error) {
      throw new ImproperlyConfigured(
        `Plugin "${plugin.name}" failed to register its models: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { cause: error },
      );
    }
  }
  return out;
}
