// CLI commands on the settings and tokens layer: complete, prompts, describe-image, tokens, split.
import { type AI, createAI } from "../ai.ts";
import { loadSettings } from "../load_settings.ts";
import { BackendFeature } from "../backends/types.ts";
import { countTokens, getDefaultTokenLimit, getEncodingName } from "../tokens.ts";
import { OpenAIChatModel } from "../backends/llm/openai_models.ts";
import { getModel } from "../backends/llm/registry.ts";
import { UnknownModelError } from "../errors.ts";
import { NaiveTextSplitterCalculator } from "../text_splitters/naive.ts";
import { RecursiveCharacterTextSplitter } from "../text_splitters/recursive.ts";
import { TiktokenLengthCalculator } from "../text_splitters/tiktoken.ts";
import type { LengthCalculator } from "../text_splitters/types.ts";
import { parseArgs, positiveInteger, UsageError } from "./args.ts";
import { type CliContext, type Command, readTextArgument } from "./context.ts";

async function loadAI(path: string | undefined, context: CliContext): Promise<AI> {
  const settings = path === undefined ? {} : await loadSettings(path);
  const options: { llmUserPath?: string; onWarning: (w: Error) => void } = {
    onWarning: (warning) => void context.io.stderr(`Warning: ${warning.message}\n`),
  };
  if (context.llmUserPath !== undefined) options.llmUserPath = context.llmUserPath;
  return createAI(settings, options);
}

/** A model as `tokens` and `split` count for it. */
interface CountedModel {
  /** The model whose encoding counts (what an alias or a YAML model stands for). */
  id: string;
  /** Its context window, when the registry knows it. */
  contextWindow?: number;
}

/**
 * The model `-m NAME` stands for: an LLM alias (`4o`, aliases.json) or an
 * extra-openai-models.yaml model (its `model_name`), else NAME as it is.
 */
async function countedModel(name: string, context: CliContext): Promise<CountedModel> {
  try {
    const model = getModel(
      name,
      context.llmUserPath === undefined ? {} : { userPath: context.llmUserPath },
    );
    const id = model instanceof OpenAIChatModel ? model.modelName : model.modelId;
    const contextWindow = model.contextWindow;
    return contextWindow === undefined ? { id } : { id, contextWindow };
  } catch (error) {
    if (!(error instanceof UnknownModelError)) {
      // An unreadable user directory must not stop a count: say so, and count NAME.
      await context.io.stderr(
        `Warning: model "${name}" could not be looked up in the llm registry (${
          (error as Error).message.split("\n")[0]
        }): counting for "${name}"\n`,
      );
    }
    return { id: name };
  }
}

function onePositional(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`Missing ${what}`);
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"`);
  return positionals[0];
}

const FORMATS = ["text", "html", "markdown"] as const;

export const complete: Command = {
  name: "complete",
  summary: "Run a prompt over a text (default: correction), markup kept, and print the result",
  usage:
    `Usage: complete [--settings FILE] [-p NAME | --pre TEXT] [--format text|html|markdown] [-b ALIAS] [--concurrency N] FILE|-

Runs a prompt over the whole text, as an editor action does, and prints the new text: a
"replace" prompt corrects it chunk by chunk (chunks sized to the backend, several sent at
once), an "append" prompt adds its answer after it. Progress goes to standard error.
  --settings FILE    settings file (YAML or JSON); default: the default settings
  -p, --prompt NAME  a prompt of PROMPTS, or "correction" (default) or "completion"
  --pre TEXT         a one-off instruction instead of a named prompt (a "replace" prompt)
  --format NAME      text (default), html or markdown: markup and code are kept
  -b, --backend      backend alias (default: the prompt's BACKEND, else TEXT_COMPLETION_BACKEND)
  --concurrency N    chunks sent at once, 1 to 64 (default 4)`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: {
        "--settings": "settings",
        "-b": "backend",
        "--backend": "backend",
        "-p": "prompt",
        "--prompt": "prompt",
        "--pre": "pre",
        "--format": "format",
        "--concurrency": "concurrency",
      },
    });
    const format = parsed.values.format ?? "text";
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be text, html or markdown, got "${format}"`);
    }
    if (parsed.values.prompt !== undefined && parsed.values.pre !== undefined) {
      throw new UsageError("Give --prompt or --pre, not both");
    }
    const concurrency = positiveInteger(parsed.values.concurrency, "--concurrency");
    if (concurrency !== undefined && concurrency > 64) {
      throw new UsageError(`--concurrency must be from 1 to 64, got "${concurrency}"`);
    }
    const text = await readTextArgument(onePositional(parsed.positionals, "FILE or -"), context.io);
    const ai = await loadAI(parsed.values.settings, context);
    const named = parsed.values.pre === undefined
      ? ai.getPrompt(parsed.values.prompt ?? "correction")
      : { name: "pre", label: "--pre", prompt: parsed.values.pre, method: "replace" as const };
    const prompt = parsed.values.backend === undefined
      ? named
      : { ...named, backend: parsed.values.backend };
    const response = ai.processText({
      prompt,
      text,
      format: format as typeof FORMATS[number],
      ...(concurrency === undefined ? {} : { concurrency }),
    });
    for await (const event of response) {
      const notes = [event.cached ? " cached" : "", event.kept ? ` kept: ${event.kept}` : ""];
      await context.io.stderr(`[chunk ${event.index + 1}/${event.total}]${notes.join("")}\n`);
    }
    await context.io.stdout(await response.text());
    return 0;
  },
};

export const prompts: Command = {
  name: "prompts",
  summary: "List the prompts (editor actions) of the settings",
  usage: `Usage: prompts [--settings FILE] [--json]

  --settings FILE   settings file (YAML or JSON); default: the default settings
  --json            print a JSON array (name, label, description, method, backend, prompt)`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: { "--settings": "settings" },
      booleans: { "--json": "json" },
    });
    if (parsed.positionals.length > 0) {
      throw new UsageError(`Unexpected argument "${parsed.positionals[0]}"`);
    }
    const ai = await loadAI(parsed.values.settings, context);
    const list = ai.listPrompts();
    if (parsed.flags.json) {
      await context.io.stdout(JSON.stringify(list, null, 2) + "\n");
      return 0;
    }
    const width = Math.max(4, ...list.map((prompt) => prompt.name.length));
    const lines = list.map((prompt) =>
      `${prompt.name.padEnd(width)}  ${prompt.method.padEnd(7)}  ${prompt.label}` +
      (prompt.description ? ` - ${prompt.description}` : "") +
      (prompt.backend ? ` (backend "${prompt.backend}")` : "")
    );
    await context.io.stdout((lines.length > 0 ? lines.join("\n") : "(no prompts)") + "\n");
    return 0;
  },
};

export const describeImage: Command = {
  name: "describe-image",
  summary: "Describe an image with the configured image backend",
  usage: `Usage: describe-image [--settings FILE] [-b ALIAS] [-p PROMPT] IMAGE_FILE

  --settings FILE   settings file (YAML or JSON)
  -b, --backend     backend alias (default: IMAGE_DESCRIPTION_BACKEND)
  -p, --prompt      what to ask (default "Describe this image in one sentence for alt text.")`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: {
        "--settings": "settings",
        "-b": "backend",
        "--backend": "backend",
        "-p": "prompt",
        "--prompt": "prompt",
      },
    });
    const path = onePositional(parsed.positionals, "IMAGE_FILE");
    const ai = await loadAI(parsed.values.settings, context);
    const backend = parsed.values.backend === undefined
      ? ai.getBackend(BackendFeature.IMAGE_DESCRIPTION)
      : ai.getAIBackend(parsed.values.backend);
    const bytes = await context.io.readFile(path);
    const response = backend.describeImage({
      image: bytes,
      fileName: path.split(/[\\/]/).pop() ?? path,
      prompt: parsed.values.prompt ?? "Describe this image in one sentence for alt text.",
    });
    for await (const piece of response) await context.io.stdout(piece);
    await context.io.stdout("\n");
    return 0;
  },
};

export const tokens: Command = {
  name: "tokens",
  summary: "Count the tokens of a text for a model",
  usage: `Usage: tokens [-m MODEL] [--json] FILE|-

  -m, --model MODEL   the model whose encoding counts (default gpt-4o): an id, an llm
                      alias (4o) or an extra-openai-models.yaml model (its model_name counts)
  --json              print {model, tokens, exact, encoding} instead of the count
Counts are exact for models with a known encoding (OpenAI's); for others the count is the
naive estimate, and a note on standard error says so.`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: { "-m": "model", "--model": "model" },
      booleans: { "--json": "json" },
    });
    const text = await readTextArgument(onePositional(parsed.positionals, "FILE or -"), context.io);
    const model = (await countedModel(parsed.values.model ?? "gpt-4o", context)).id;
    const count = await countTokens(text, model);
    const encoding = getEncodingName(model) ?? null;
    if (encoding === null) {
      await context.io.stderr(
        `Note: no known encoding for model "${model}": the count is an estimate\n`,
      );
    }
    await context.io.stdout(
      parsed.flags.json
        ? `${JSON.stringify({ model, tokens: count, exact: encoding !== null, encoding })}\n`
        : `${count}\n`,
    );
    return 0;
  },
};

export const split: Command = {
  name: "split",
  summary: "Split a text into chunks that fit a model",
  usage:
    `Usage: split [-m MODEL] [--size N] [--overlap N] [--calculator naive|tiktoken] [--json] FILE|-

  -m, --model MODEL   the model (default gpt-4o, or an llm alias or extra-openai-models.yaml
                      model); its context window is the default size
  --size N            the chunk size in tokens
  --overlap N         tokens shared by neighbouring chunks (default 200, at most half the size)
  --calculator NAME   naive (estimate, default) or tiktoken (exact)
  --json              print a JSON array instead of chunks separated by lines of dashes
Standard error says how many chunks, and whether their sizes are estimates.`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: {
        "-m": "model",
        "--model": "model",
        "--size": "size",
        "--overlap": "overlap",
        "--calculator": "calculator",
      },
      booleans: { "--json": "json" },
    });
    const text = await readTextArgument(onePositional(parsed.positionals, "FILE or -"), context.io);
    const counted = await countedModel(parsed.values.model ?? "gpt-4o", context);
    const model = counted.id;
    const size = positiveInteger(parsed.values.size, "--size") ?? counted.contextWindow ??
      getDefaultTokenLimit(model);
    const overlapText = parsed.values.overlap;
    if (overlapText !== undefined && !/^\d+$/.test(overlapText)) {
      throw new UsageError(`--overlap must be a whole number, got "${overlapText}"`);
    }
    if (overlapText !== undefined && Number(overlapText) > Math.floor(size / 2)) {
      throw new UsageError(
        `--overlap must be at most half of --size (${Math.floor(size / 2)}), got ${overlapText}`,
      );
    }
    let calculator: LengthCalculator;
    const name = parsed.values.calculator ?? "naive";
    if (name === "naive") calculator = new NaiveTextSplitterCalculator();
    else if (name === "tiktoken") {
      const exact = new TiktokenLengthCalculator({ modelId: model });
      await exact.load();
      calculator = exact;
    } else throw new UsageError(`--calculator must be naive or tiktoken, got "${name}"`);
    const options: {
      chunkSize: number;
      lengthFunction: (t: string) => number;
      chunkOverlap?: number;
    } = {
      chunkSize: size,
      lengthFunction: (t) => calculator.getSplitterLength(t),
    };
    if (overlapText !== undefined) options.chunkOverlap = Number(overlapText);
    let splitter: RecursiveCharacterTextSplitter;
    try {
      splitter = new RecursiveCharacterTextSplitter(options);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const chunks = splitter.splitText(text);
    if (parsed.flags.json) await context.io.stdout(JSON.stringify(chunks, null, 2) + "\n");
    else await context.io.stdout(chunks.join("\n-----\n") + "\n");
    const estimated = name === "naive"
      ? " (estimated by the naive calculator; --calculator tiktoken counts exactly)"
      : getEncodingName(model) === undefined
      ? ` (estimated: no known encoding for model "${model}")`
      : "";
    await context.io.stderr(`${chunks.length} chunk(s) of at most ${size} tokens${estimated}\n`);
    return 0;
  },
};

export const coreCommands: Command[] = [complete, prompts, describeImage, tokens, split];
