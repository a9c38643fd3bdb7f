// CLI commands on the settings and tokens layer: complete, describe-image, tokens, split.
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

export const complete: Command = {
  name: "complete",
  summary: "Complete text with a configured backend (split to fit, streamed)",
  usage: `Usage: complete [--settings FILE] [-b ALIAS] [--pre TEXT] [--post TEXT] FILE|-

Splits the text to fit the backend's TOKEN_LIMIT and streams one answer per chunk.
  --settings FILE   settings file (YAML or JSON); default: the default settings
  -b, --backend     backend alias (default: TEXT_COMPLETION_BACKEND, else "default")
  --pre TEXT        instruction before the text (default "Correct this text:")
  --post TEXT       instruction after the text`,
  async run(args, context) {
    const parsed = parseArgs(args, {
      values: {
        "--settings": "settings",
        "-b": "backend",
        "--backend": "backend",
        "--pre": "pre",
        "--post": "post",
      },
    });
    const text = await readTextArgument(onePositional(parsed.positionals, "FILE or -"), context.io);
    const ai = await loadAI(parsed.values.settings, context);
    const backend = parsed.values.backend === undefined
      ? ai.getBackend(BackendFeature.TEXT_COMPLETION)
      : ai.getAIBackend(parsed.values.backend);
    const chunks = (await backend.getTextSplitter()).splitText(text);
    for (const [index, chunk] of chunks.entries()) {
      if (chunks.length > 1) await context.io.stderr(`[chunk ${index + 1}/${chunks.length}]\n`);
      const options: { prePrompt: string; context: string; postPrompt?: string } = {
        prePrompt: parsed.values.pre ?? "Correct this text:",
        context: chunk,
      };
      if (parsed.values.post !== undefined) options.postPrompt = parsed.values.post;
      for await (const piece of backend.promptWithContext(options)) await context.io.stdout(piece);
      await context.io.stdout("\n");
    }
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

export const coreCommands: Command[] = [complete, describeImage, tokens, split];
