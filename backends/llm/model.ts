/**
 * The public model interface of the LLM backend's registry: what a model is,
 * what it is asked, and how its options are described and checked.
 *
 * Built-in OpenAI models, models from `extra-openai-models.yaml` and plugin
 * models all implement {@link Model}.
 *
 * @example A model that answers with its prompt reversed
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Model, ModelPrompt } from "./model.ts";
 *
 * const reverse: Model = {
 *   modelId: "reverse",
 *   async *execute(prompt: ModelPrompt) {
 *     yield { type: "text", text: [...prompt.prompt].reverse().join("") };
 *   },
 * };
 * const events = [];
 * for await (const event of reverse.execute(
 *   { prompt: "abc", attachments: [], options: {} },
 *   { key: undefined, stream: true },
 * )) events.push(event);
 * assert.deepEqual(events, [{ type: "text", text: "cba" }]);
 * ```
 *
 * @module
 */
import { ImproperlyConfigured } from "../../errors.ts";
import type { ResponseEvent } from "../response.ts";

/**
 * The type of a model option, as `models --options` shows it:
 * - `"float"`: a finite number (`min`/`max` bound it),
 * - `"int"`: an integer (`min`/`max` bound it),
 * - `"str"`: a string,
 * - `"boolean"`: `true` or `false`,
 * - `"str_or_list"`: a string or a list of strings (`max` bounds the list's length),
 * - `"dict"`: an object (or its JSON text) of numbers (`min`/`max` bound the values),
 * - `"choice"`: one of `choices`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OptionSpec, OptionType } from "./model.ts";
 * const type: OptionType = "choice";
 * const effort: OptionSpec = {
 *   type,
 *   choices: ["low", "high"],
 *   description: "How hard it thinks.",
 * };
 * assert.deepEqual(effort.choices, ["low", "high"]);
 * ```
 */
export type OptionType = "float" | "int" | "str" | "boolean" | "str_or_list" | "dict" | "choice";

/**
 * One option a model takes (`temperature`, `max_tokens`...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OptionSpec } from "./model.ts";
 * const temperature: OptionSpec = {
 *   type: "float",
 *   min: 0,
 *   max: 2,
 *   description: "Sampling temperature.",
 * };
 * assert.equal(temperature.max, 2);
 * ```
 */
export interface OptionSpec {
  /** The option's type. */
  readonly type: OptionType;
  /** One or two sentences for `models --options`. */
  readonly description: string;
  /** The smallest value (numbers, dict values). */
  readonly min?: number;
  /** The largest value (numbers, dict values), or the longest list. */
  readonly max?: number;
  /** The allowed values of a `"choice"` option. */
  readonly choices?: readonly string[];
}

/**
 * The options of a model, by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OptionSchema } from "./model.ts";
 * const schema: OptionSchema = { seed: { type: "int", description: "Seed." } };
 * assert.ok("seed" in schema);
 * ```
 */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/**
 * A file sent with a prompt (an image for a vision model).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Attachment } from "./model.ts";
 * const png: Attachment = {
 *   mimeType: "image/png",
 *   bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
 *   name: "pixel.png",
 * };
 * assert.equal(png.mimeType, "image/png");
 * ```
 */
export interface Attachment {
  /** The content's mime type, for example `image/png`. */
  readonly mimeType: string;
  /** The content. */
  readonly bytes: Uint8Array;
  /** The file name, when known. */
  readonly name?: string;
}

/**
 * What a model is asked: the prompt, the system prompt, attachments and the
 * options (already checked against the model's {@link OptionSchema}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ModelPrompt } from "./model.ts";
 * const prompt: ModelPrompt = {
 *   prompt: "Correct this:\nteh cat",
 *   system: "You fix spelling.",
 *   attachments: [],
 *   options: { temperature: 0 },
 * };
 * assert.equal(prompt.options.temperature, 0);
 * ```
 */
export interface ModelPrompt {
  /** The user prompt. */
  readonly prompt: string;
  /** The system prompt, when any. */
  readonly system?: string;
  /** Files sent with the prompt. */
  readonly attachments: readonly Attachment[];
  /** Checked options. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * How a model is run: the resolved key, whether to stream, and the abort signal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExecuteContext } from "./model.ts";
 * const context: ExecuteContext = { key: undefined, stream: false };
 * assert.equal(context.stream, false);
 * ```
 */
export interface ExecuteContext {
  /**
   * The API key resolved for this model (explicit key, then `keys.json`, then
   * the environment variable), or `undefined` when the model needs none.
   */
  readonly key: string | undefined;
  /** Stream the answer (`true` only when the model can stream). */
  readonly stream: boolean;
  /** Aborts the request. */
  readonly signal?: AbortSignal;
}

/**
 * A model of the LLM backend's registry. Only `modelId` and `execute` are
 * required; the other fields have the defaults written on them.
 *
 * `execute` is called when the answer is read (not when the prompt is made)
 * and yields the answer's text pieces, then optionally its token usage.
 *
 * @example A plugin model registered and used through the LLM backend
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type Model, registerPlugin } from "../../mod.ts";
 *
 * class ShoutModel implements Model {
 *   readonly modelId = "shout";
 *   readonly label = "Shout";
 *   readonly contextWindow = 1000;
 *   async *execute(prompt: { prompt: string }) {
 *     yield { type: "text" as const, text: prompt.prompt.toUpperCase() };
 *   }
 * }
 * registerPlugin({ name: "shout", registerModels: (register) => register(new ShoutModel()) });
 *
 * const dir = await Deno.makeTempDir();
 * const ai = createAI({ BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "shout" } } } }, {
 *   llmUserPath: dir,
 * });
 * const answer = ai.getAIBackend("default").promptWithContext({ prePrompt: "say", context: "hi" });
 * assert.equal(await answer.text(), "SAY\nHI");
 * await Deno.remove(dir);
 * ```
 */
export interface Model {
  /** The id used as `MODEL_ID` and listed by `models`. */
  readonly modelId: string;
  /** The kind of model shown before the id by `models` (default: the class name, else "Model"). */
  readonly label?: string;
  /** Whether the model can stream its answer (default `true`). */
  readonly canStream?: boolean;
  /** The mime types of attachments it takes (default none; images make it a vision model). */
  readonly attachmentTypes?: readonly string[];
  /** Whether it takes a system prompt (default `true`). */
  readonly supportsSystemPrompt?: boolean;
  /** The name of its key in `keys.json` (default: it needs no key). */
  readonly needsKey?: string;
  /** The environment variable its key may come from (default none). */
  readonly keyEnvVar?: string;
  /** The options it takes (default none). */
  readonly optionSchema?: OptionSchema;
  /** Its context window in tokens, used when `TOKEN_LIMIT` is not set. */
  readonly contextWindow?: number;
  /**
   * Called when a prompt is made, before anything is sent: throws (for
   * example `UnsupportedFeatureError`) for what the model cannot do.
   * Attachment types and system prompts are already checked against
   * `attachmentTypes` and `supportsSystemPrompt`.
   */
  checkPrompt?(prompt: ModelPrompt): void;
  /** Runs a prompt, yielding text pieces and, optionally, the usage at the end. */
  execute(prompt: ModelPrompt, context: ExecuteContext): AsyncIterable<ResponseEvent>;
}

/**
 * The label `models` shows for a model: its `label`, else its class name,
 * else "Model".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelLabel } from "./model.ts";
 * class Parrot {
 *   modelId = "parrot";
 *   async *execute() {}
 * }
 * assert.equal(modelLabel(new Parrot()), "Parrot");
 * assert.equal(modelLabel({ modelId: "x", label: "Custom", async *execute() {} }), "Custom");
 * ```
 */
export function modelLabel(model: Model): string {
  if (typeof model.label === "string" && model.label !== "") return model.label;
  const name = Object.getPrototypeOf(model)?.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? name : "Model";
}

/**
 * Whether a model takes images (any `image/*` attachment type).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, supportsImages } from "./mod.ts";
 * const userPath = await Deno.makeTempDir();
 * assert.equal(supportsImages(getModel("4o", { userPath })), true);
 * assert.equal(supportsImages(getModel("gpt-3.5-turbo", { userPath })), false);
 * await Deno.remove(userPath);
 * ```
 */
export function supportsImages(model: Model): boolean {
  return (model.attachmentTypes ?? []).some((type) => type.startsWith("image/"));
}

/**
 * Options of {@link validateModelOptions}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, validateModelOptions, type ValidateOptionsOptions } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * const settings: ValidateOptionsOptions = { coerce: true, where: "the command line" };
 * const options = validateModelOptions(getModel("gpt-4o-mini", { userPath }), {
 *   temperature: "0.5",
 * }, settings);
 * assert.equal(options.temperature, 0.5); // the string, as typed, made a number
 * await Deno.remove(userPath);
 * ```
 */
export interface ValidateOptionsOptions {
  /** Where the options come from, for messages (`PROMPT_KWARGS of backend "default"`). */
  where?: string;
  /** Accept strings for numbers, booleans and dicts, as typed on a command line. */
  coerce?: boolean;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    return value.length <= 40 ? JSON.stringify(value) : "a long string";
  }
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function expectation(spec: OptionSpec): string {
  const range = spec.min !== undefined && spec.max !== undefined
    ? ` from ${spec.min} to ${spec.max}`
    : spec.min !== undefined
    ? ` of at least ${spec.min}`
    : spec.max !== undefined
    ? ` of at most ${spec.max}`
    : "";
  switch (spec.type) {
    case "float":
      return `a number${range}`;
    case "int":
      return `an integer${range}`;
    case "str":
      return "a string";
    case "boolean":
      return "true or false";
    case "str_or_list":
      return `a string or a list of ${spec.max === undefined ? "" : `at most ${spec.max} `}strings`;
    case "dict":
      return `an object (or JSON text) of numbers${range}`;
    case "choice":
      return `one of ${(spec.choices ?? []).join(", ")}`;
  }
}

function inRange(value: number, spec: OptionSpec): boolean {
  return (spec.min === undefined || value >= spec.min) &&
    (spec.max === undefined || value <= spec.max);
}

function checkOne(
  value: unknown,
  spec: OptionSpec,
  coerce: boolean,
): { ok: true; value: unknown } | {
  ok: false;
} {
  const bad = { ok: false } as const;
  switch (spec.type) {
    case "float":
    case "int": {
      let number = value;
      if (coerce && typeof value === "string" && value.trim() !== "") number = Number(value);
      if (typeof number !== "number" || !Number.isFinite(number)) return bad;
      if (spec.type === "int" && !Number.isSafeInteger(number)) return bad;
      return inRange(number, spec) ? { ok: true, value: number } : bad;
    }
    case "str":
      return typeof value === "string" ? { ok: true, value } : bad;
    case "boolean": {
      if (typeof value === "boolean") return { ok: true, value };
      if (coerce && typeof value === "string") {
        const text = value.toLowerCase();
        if (["true", "1", "yes", "on"].includes(text)) return { ok: true, value: true };
        if (["false", "0", "no", "off"].includes(text)) return { ok: true, value: false };
      }
      return bad;
    }
    case "str_or_list": {
      if (typeof value === "string") return { ok: true, value };
      if (
        Array.isArray(value) && value.length > 0 &&
        value.every((item) => typeof item === "string") &&
        (spec.max === undefined || value.length <= spec.max)
      ) return { ok: true, value: [...value] };
      return bad;
    }
    case "dict": {
      let object = value;
      if (typeof value === "string") {
        try {
          object = JSON.parse(value);
        } catch {
          return bad;
        }
      }
      if (typeof object !== "object" || object === null || Array.isArray(object)) return bad;
      const out: Record<string, number> = {};
      for (const [key, item] of Object.entries(object)) {
        if (key === "__proto__" || key === "constructor" || key === "prototype") return bad;
        if (typeof item !== "number" || !Number.isFinite(item) || !inRange(item, spec)) return bad;
        out[key] = item;
      }
      return { ok: true, value: out };
    }
    case "choice":
      return typeof value === "string" && (spec.choices ?? []).includes(value)
        ? { ok: true, value }
        : bad;
  }
}

/**
 * Checks options against a model's {@link OptionSchema} and returns them
 * normalised (`undefined` and `null` values dropped, strings converted when
 * `coerce` is set).
 *
 * @throws {ImproperlyConfigured} naming the option, the model and `where`,
 * for an unknown option or a value of the wrong type or out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getModel, ImproperlyConfigured, validateModelOptions } from "../../mod.ts";
 * const userPath = await Deno.makeTempDir();
 * const model = getModel("gpt-4o-mini", { userPath });
 * assert.deepEqual(validateModelOptions(model, { temperature: "0.5" }, { coerce: true }), {
 *   temperature: 0.5,
 * });
 * assert.throws(
 *   () => validateModelOptions(model, { temperature: 3 }),
 *   (error: Error) => error instanceof ImproperlyConfigured && /temperature/.test(error.message),
 * );
 * await Deno.remove(userPath);
 * ```
 */
export function validateModelOptions(
  model: Model,
  options: Readonly<Record<string, unknown>>,
  settings: ValidateOptionsOptions = {},
): Record<string, unknown> {
  const schema = model.optionSchema ?? {};
  const where = settings.where === undefined ? "" : ` in ${settings.where}`;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(schema, name)) {
      const known = Object.keys(schema);
      throw new ImproperlyConfigured(
        `Unknown option "${name}" for model "${model.modelId}"${where} (${
          known.length ? `options: ${known.join(", ")}` : "the model takes no options"
        })`,
      );
    }
    if (value === undefined || value === null) continue;
    const spec = schema[name];
    const checked = checkOne(value, spec, settings.coerce === true);
    if (!checked.ok) {
      const shown = settings.coerce && typeof value === "string" && value.trim() !== "" &&
          Number.isFinite(Number(value))
        ? Number(value)
        : value;
      throw new ImproperlyConfigured(
        `Option "${name}" for model "${model.modelId}"${where} must be ${expectation(spec)}, got ${
          describeValue(shown)
        }`,
      );
    }
    out[name] = checked.value;
  }
  return out;
}
