// CLI commands on the LLM registry and the `llm` user directory, shaped like
// the `llm` tool's own: models, aliases, keys, logs path, user-dir, prompt.
import { ImproperlyConfigured } from "../errors.ts";
import { KEYS_NOTE_NAME, readKeys } from "../backends/llm/_user_dir.ts";
import { LLMModel } from "../backends/llm/llm_model.ts";
import {
  type Model,
  modelLabel,
  type OptionSpec,
  validateModelOptions,
} from "../backends/llm/model.ts";
import { OpenAIChatModel } from "../backends/llm/openai_models.ts";
import {
  getDefaultModelId,
  getModel,
  getUserDir,
  listModels,
  type ModelEntry,
  type RegistryOptions,
} from "../backends/llm/registry.ts";
import {
  getUserFilePaths,
  listKeyNames,
  removeAlias,
  setAlias,
  setDefaultModel,
  setKey,
} from "../backends/llm/user_files.ts";
import { parseArgs, UsageError } from "./args.ts";
import type { CliContext, Command } from "./context.ts";

function registryOptions(context: CliContext): RegistryOptions {
  return context.llmUserPath === undefined ? {} : { userPath: context.llmUserPath };
}

function subcommand(
  positionals: string[],
  known: readonly string[],
  fallback: string,
): [string, string[]] {
  const [first, ...rest] = positionals;
  if (first === undefined) return [fallback, []];
  if (!known.includes(first)) {
    throw new UsageError(`Unknown subcommand "${first}" (expected ${known.join(", ")})`);
  }
  return [first, rest];
}

function expectArgs(args: string[], names: string[], optional = 0, echo = true): void {
  if (args.length < names.length - optional) {
    throw new UsageError(`Missing ${names[args.length]}`);
  }
  if (args.length > names.length) {
    // An argument of `keys` may be a key: it is never repeated.
    throw new UsageError(
      echo
        ? `Unexpected argument "${args[names.length]}"`
        : `Unexpected argument number ${
          names.length + 1
        } (not shown: it may be a key; pass a key with --value or on standard input)`,
    );
  }
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}

function typeLabel(spec: OptionSpec): string {
  switch (spec.type) {
    case "str_or_list":
      return "str, list";
    case "dict":
      return "dict, str";
    case "choice":
      return `choice (${(spec.choices ?? []).join(", ")})`;
    default:
      return spec.type;
  }
}

function modelLine(entry: ModelEntry): string {
  const aliases = entry.aliases.length ? ` (aliases: ${entry.aliases.join(", ")})` : "";
  return `${modelLabel(entry.model)}: ${entry.model.modelId}${aliases}`;
}

function modelDetails(model: Model, described: Set<string>): string[] {
  const lines: string[] = [];
  const options = Object.entries(model.optionSchema ?? {});
  if (options.length) {
    lines.push("  Options:");
    for (const [name, spec] of options) {
      lines.push(`    ${name}: ${typeLabel(spec)}`);
      if (!described.has(name)) {
        described.add(name);
        lines.push(...wrap(spec.description, 79, "      "));
      }
    }
  }
  const types = [...(model.attachmentTypes ?? [])].sort();
  if (types.length) lines.push("  Attachment types:", ...wrap(types.join(", "), 79, "    "));
  const features: string[] = [];
  if (model.canStream !== false) features.push("streaming");
  if (model.supportsSystemPrompt === false) features.push("no system prompt");
  if (features.length) lines.push("  Features:", ...features.map((feature) => `  - ${feature}`));
  if (model.needsKey) {
    lines.push("  Keys:", `    key: ${model.needsKey}`);
    if (model.keyEnvVar) lines.push(`    env_var: ${model.keyEnvVar}`);
  }
  return lines;
}

function safeBase(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, "");
  } catch {
    return "(invalid URL)";
  }
}

function modelJson(entry: ModelEntry): Record<string, unknown> {
  const model = entry.model;
  const out: Record<string, unknown> = {
    model_id: model.modelId,
    name: modelLabel(model),
    aliases: entry.aliases,
    source: entry.source,
    can_stream: model.canStream !== false,
    attachment_types: [...(model.attachmentTypes ?? [])].sort(),
    options: Object.fromEntries(
      Object.entries(model.optionSchema ?? {}).map(([name, spec]) => [name, { ...spec }]),
    ),
    needs_key: model.needsKey ?? null,
    key_env_var: model.keyEnvVar ?? null,
    context_window: model.contextWindow ?? null,
  };
  if (model instanceof OpenAIChatModel) {
    out.model_name = model.modelName;
    out.api_base = safeBase(model.apiBase);
  }
  return out;
}

export const models: Command = {
  name: "models",
  summary: "List the LLM backend's models and aliases, or show or set the default model",
  usage: `Usage: models [list] [--options] [--json] [-q TERM]...
       models default [MODEL]

Lists the models the LLM backend can use (built-in OpenAI models, extra-openai-models.yaml,
plugins), like "llm models".
  --options      show each model's options, attachment types, features and keys
  --json         print JSON instead
  -q, --query    only models whose name, id or aliases contain TERM (repeat to narrow)
"models default" prints the default model; "models default MODEL" sets it (default_model.txt).`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: { "-q": "query", "--query": "query" },
      booleans: { "--options": "options", "--json": "json" },
      repeatable: ["query"],
    });
    const [sub, rest] = subcommand(parsed.positionals, ["list", "default"], "list");
    const options = registryOptions(context);
    if (sub === "default") {
      expectArgs(rest, ["MODEL"], 1);
      if (rest.length === 0) {
        await context.io.stdout(`${getDefaultModelId(options)}\n`);
      } else {
        await setDefaultModel(rest[0], options);
      }
      return 0;
    }
    expectArgs(rest, []);
    const terms = (parsed.lists.query ?? []).map((term) => term.toLowerCase());
    const entries = listModels(options).filter((entry) => {
      const haystack = [modelLine(entry), ...entry.aliases].join(" ").toLowerCase();
      return terms.every((term) => haystack.includes(term));
    });
    if (parsed.flags.json) {
      await context.io.stdout(JSON.stringify(entries.map(modelJson), null, 2) + "\n");
      return 0;
    }
    const lines: string[] = [];
    const described = new Set<string>();
    for (const entry of entries) {
      lines.push(modelLine(entry));
      if (parsed.flags.options) lines.push(...modelDetails(entry.model, described));
    }
    if (terms.length === 0) lines.push(`Default: ${getDefaultModelId(options)}`);
    await context.io.stdout(lines.length ? lines.join("\n") + "\n" : "");
    return 0;
  },
};

export const aliases: Command = {
  name: "aliases",
  summary: "List, set or remove model aliases (aliases.json)",
  usage: `Usage: aliases [list] [--json]
       aliases set ALIAS MODEL
       aliases remove ALIAS
       aliases path

  list     every alias and its model (the models' own and those of aliases.json)
  set      add or change an alias in aliases.json (the model must exist)
  remove   remove an alias from aliases.json
  path     print the path of aliases.json`,
  async run(args, context) {
    const parsed = parseArgs(args, { booleans: { "--json": "json" } });
    const [sub, rest] = subcommand(parsed.positionals, ["list", "set", "remove", "path"], "list");
    const options = registryOptions(context);
    if (sub === "list") {
      expectArgs(rest, []);
      // In the models' order, as the llm tool lists them (an object would put
      // numeric aliases such as "4" first).
      const pairs = listModels(options).flatMap((entry) =>
        entry.aliases.map((alias) => [alias, entry.model.modelId] as const)
      );
      if (parsed.flags.json) {
        const body = pairs.map(([name, id]) =>
          `    ${JSON.stringify(name)}: ${JSON.stringify(id)}`
        );
        await context.io.stdout(pairs.length ? `{\n${body.join(",\n")}\n}\n` : "{}\n");
        return 0;
      }
      const width = Math.max(0, ...pairs.map(([name]) => name.length));
      await context.io.stdout(
        pairs.map(([name, id]) => `${name.padEnd(width)} : ${id}\n`).join(""),
      );
      return 0;
    }
    if (parsed.flags.json) throw new UsageError("--json only applies to aliases list");
    if (sub === "path") {
      expectArgs(rest, []);
      await context.io.stdout(`${getUserFilePaths(options).aliases}\n`);
      return 0;
    }
    if (sub === "set") {
      expectArgs(rest, ["ALIAS", "MODEL"]);
      await setAlias(rest[0], rest[1], options);
      return 0;
    }
    expectArgs(rest, ["ALIAS"]);
    if (!(await removeAlias(rest[0], options))) {
      throw new ImproperlyConfigured(`No such alias in aliases.json: ${rest[0]}`);
    }
    return 0;
  },
};

export const keys: Command = {
  name: "keys",
  summary: "Store API keys (keys.json) or show where they are",
  usage: `Usage: keys [list]
       keys get NAME
       keys path
       keys set NAME [--value VALUE]

  list     print the names of the stored keys (never their values); the default
  get      print the key stored under NAME
  path     print the path of keys.json
  set      store a key under NAME (for OpenAI models: "openai"); the value comes from
           --value or standard input. keys.json is written with mode 0600.`,
  async run(args, context) {
    const parsed = parseArgs(args, { values: { "--value": "value" } });
    const known = ["list", "get", "path", "set"];
    if (parsed.positionals.length > 0 && !known.includes(parsed.positionals[0])) {
      throw new UsageError(
        "Unknown subcommand (expected list, get, path or set; not shown: it may be a key)",
      );
    }
    const [sub, rest] = subcommand(parsed.positionals, known, "list");
    const options = registryOptions(context);
    if (sub !== "set" && parsed.values.value !== undefined) {
      throw new UsageError("--value only applies to keys set");
    }
    if (sub === "path") {
      expectArgs(rest, [], 0, false);
      await context.io.stdout(`${getUserFilePaths(options).keys}\n`);
      return 0;
    }
    if (sub === "list") {
      expectArgs(rest, [], 0, false);
      await context.io.stdout(listKeyNames(options).map((name) => `${name}\n`).join(""));
      return 0;
    }
    if (sub === "get") {
      expectArgs(rest, ["NAME"], 0, false);
      const stored = readKeys(getUserDir(options));
      if (rest[0] === KEYS_NOTE_NAME || !Object.hasOwn(stored, rest[0])) {
        // The name is not repeated: a key typed in its place would be printed.
        throw new ImproperlyConfigured(
          "No key found in keys.json with the name given (not shown: it may be a key; " +
            "'keys list' prints the names)",
        );
      }
      await context.io.stdout(`${stored[rest[0]]}\n`);
      return 0;
    }
    expectArgs(rest, ["NAME"], 0, false);
    const value = (parsed.values.value ?? (await context.io.readStdin())).trim();
    if (value === "") {
      throw new UsageError("No key given: pass --value VALUE or the key on standard input");
    }
    const path = await setKey(rest[0], value, options);
    // The name is not repeated either ('keys list' shows it): it may be a key typed in its place.
    await context.io.stderr(`Stored the key in ${path} ('keys list' prints the names)\n`);
    return 0;
  },
};

export const logs: Command = {
  name: "logs",
  summary: "Print the path of the llm tool's logs database (logs path)",
  usage: `Usage: logs path

Prints the path of logs.db in the llm user directory, so that
dirname "$(cli logs path)" is the directory of extra-openai-models.yaml.
This module does not write logs.`,
  async run(args, context) {
    const parsed = parseArgs(args, {});
    if (parsed.positionals[0] !== "path") {
      throw new UsageError(
        parsed.positionals.length === 0
          ? "Missing subcommand (path)"
          : `Unknown subcommand "${parsed.positionals[0]}" (expected path)`,
      );
    }
    expectArgs(parsed.positionals.slice(1), []);
    await context.io.stdout(`${getUserFilePaths(registryOptions(context)).logs}\n`);
    return 0;
  },
};

export const userDir: Command = {
  name: "user-dir",
  summary: "Print the llm user directory (--user-dir, LLM_USER_PATH or the llm default)",
  usage: `Usage: user-dir

Prints the directory of keys.json, aliases.json, default_model.txt and
extra-openai-models.yaml: --user-dir, else LLM_USER_PATH, else the llm tool's default.`,
  async run(args, context) {
    const parsed = parseArgs(args, {});
    expectArgs(parsed.positionals, []);
    await context.io.stdout(`${getUserFilePaths(registryOptions(context)).dir}\n`);
    return 0;
  },
};

/**
 * The prompt of `prompt`, as the llm tool reads it: piped standard input and
 * the TEXT argument combined (input first, then a newline, then TEXT), input
 * alone, or TEXT alone. A terminal's input is read only for "-".
 */
async function promptText(positionals: string[], context: CliContext): Promise<string> {
  expectArgs(positionals, ["TEXT or -"], 1);
  const source = positionals[0];
  if (source === "-") return await context.io.readStdin();
  const piped = context.io.stdinIsTerminal?.() === false ? await context.io.readStdin() : "";
  if (source === undefined) {
    if (piped === "") throw new UsageError("Missing TEXT or -");
    return piped;
  }
  return piped === "" ? source : `${piped.replace(/\r?\n$/, "")}\n${source}`;
}

export const prompt: Command = {
  name: "prompt",
  summary: "Prompt a model of the LLM backend, streaming the answer",
  usage: `Usage: prompt [-m MODEL] [-s SYSTEM] [-o KEY VALUE]... [-a IMAGE]... [--key KEY]
              [--no-stream] TEXT|-

  -m, --model MODEL     model id or alias (default: the default model, see "models default")
  -s, --system SYSTEM   system prompt
  -o, --option K V      a model option, for example -o temperature 0.5 (see "models --options")
  -a, --attachment F    an image file for a vision model (repeatable)
  --key KEY             an API key, or the name of a key in keys.json
  --no-stream           wait for the whole answer
  TEXT|-                the prompt, or - to read it from standard input; piped input
                        and TEXT are combined as the llm tool does (input, a newline, TEXT)`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: {
        "-m": "model",
        "--model": "model",
        "-s": "system",
        "--system": "system",
        "-a": "attachment",
        "--attachment": "attachment",
        "--key": "key",
      },
      pairs: { "-o": "option", "--option": "option" },
      booleans: { "--no-stream": "noStream" },
      repeatable: ["attachment"],
    });
    const text = await promptText(parsed.positionals, context);
    const options = registryOptions(context);
    const model = getModel(parsed.values.model ?? getDefaultModelId(options), options);
    const modelOptions: Record<string, unknown> = {};
    for (const [key, value] of parsed.pairs.option ?? []) modelOptions[key] = value;
    let checkedOptions: Record<string, unknown>;
    try {
      checkedOptions = validateModelOptions(model, modelOptions, {
        coerce: true,
        where: "-o options",
      });
    } catch (error) {
      // A bad -o is a wrong argument: the usage follows.
      if (error instanceof ImproperlyConfigured) throw new UsageError(error.message);
      throw error;
    }
    const llmModel = new LLMModel(model, {
      ...options,
      ...(parsed.values.key === undefined ? {} : { key: parsed.values.key }),
    });
    const attachments: File[] = [];
    for (const path of parsed.lists.attachment ?? []) {
      const bytes = await context.io.readFile(path);
      attachments.push(
        new File([bytes as Uint8Array<ArrayBuffer>], path.split(/[\\/]/).pop() ?? path),
      );
    }
    const response = llmModel.prompt(text, {
      options: checkedOptions,
      ...(parsed.values.system === undefined ? {} : { system: parsed.values.system }),
      ...(attachments.length ? { attachments } : {}),
      stream: !parsed.flags.noStream,
    });
    for await (const piece of response) await context.io.stdout(piece);
    await context.io.stdout("\n");
    return 0;
  },
};

export const llmCommands: Command[] = [models, aliases, keys, logs, userDir, prompt];
