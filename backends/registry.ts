/**
 * The backend `CLASS` registry: upstream dotted names, short names, and names
 * added with {@link registerBackendClass}.
 *
 * @module
 */
import { EchoBackend } from "./echo.ts";
import { LLMBackend } from "./llm/backend.ts";
import { OpenAIBackend } from "./openai.ts";
import { ProviderBackend } from "./provider.ts";
import type { BackendClass } from "./types.ts";
import { isConstructor } from "../_validate.ts";

/** The backend classes by name (built-in and registered). */
export const backendClasses: Map<string, BackendClass> = new Map<string, BackendClass>([
  ["wagtail_ai.ai.echo.EchoBackend", EchoBackend],
  ["echo", EchoBackend],
  ["EchoBackend", EchoBackend],
  ["wagtail_ai.ai.llm.LLMBackend", LLMBackend],
  ["llm", LLMBackend],
  ["LLMBackend", LLMBackend],
  ["wagtail_ai.ai.openai.OpenAIBackend", OpenAIBackend],
  ["openai", OpenAIBackend],
  ["OpenAIBackend", OpenAIBackend],
  ["provider", ProviderBackend],
  ["ProviderBackend", ProviderBackend],
]);

/**
 * Adds a backend class under a name usable as `CLASS`.
 *
 * @throws {TypeError} when `cls` is not a backend class (a constructor with a
 * static `parseConfig`, as {@link BaseBackend} subclasses have).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, EchoBackend, registerBackendClass } from "../mod.ts";
 * class PoliteEcho extends EchoBackend {}
 * registerBackendClass("polite-echo", PoliteEcho);
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "polite-echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 10 } } },
 * });
 * assert.ok(ai.getAIBackend("default") instanceof PoliteEcho);
 * ```
 */
export function registerBackendClass(name: string, cls: BackendClass): void {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError("registerBackendClass() needs a non-empty name");
  }
  if (!isBackendClass(cls)) {
    throw new TypeError(
      `registerBackendClass("${name}") needs a backend class with a static parseConfig()`,
    );
  }
  backendClasses.set(name, cls);
}

// The built-in CLASS names as they were, for unregisterBackendClass().
const BUILTIN_BACKEND_CLASSES: ReadonlyMap<string, BackendClass> = new Map(backendClasses);

/**
 * Removes a name added with {@link registerBackendClass}; a built-in name it
 * had replaced is the built-in again. Built-in names themselves stay. Returns
 * whether a registration was removed. Backends already built keep working.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EchoBackend, registerBackendClass, unregisterBackendClass } from "../mod.ts";
 * registerBackendClass("quiet-echo", class QuietEcho extends EchoBackend {});
 * assert.equal(unregisterBackendClass("quiet-echo"), true);
 * assert.equal(unregisterBackendClass("quiet-echo"), false);
 * assert.equal(unregisterBackendClass("echo"), false); // a built-in stays
 * ```
 */
export function unregisterBackendClass(name: string): boolean {
  const current = backendClasses.get(name);
  if (current === undefined) return false;
  const builtin = BUILTIN_BACKEND_CLASSES.get(name);
  if (builtin === current) return false;
  if (builtin) backendClasses.set(name, builtin);
  else backendClasses.delete(name);
  return true;
}

/** Whether `value` is a backend class: a constructor with a static `parseConfig`. */
export function isBackendClass(value: unknown): value is BackendClass {
  return isConstructor(value) &&
    typeof (value as { parseConfig?: unknown }).parseConfig === "function";
}
