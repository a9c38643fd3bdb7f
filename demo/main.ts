/**
 * The offline demo of the main job: split a sample article to fit the
 * model, ask for a correction of each chunk and stream the answers, then
 * describe an image, all through the OpenAI backend and the real `openai`
 * client, against an OpenAI-compatible server started here on 127.0.0.1.
 *
 * Run it with `deno task demo`. With `--settings FILE` (and your key in
 * `OPENAI_API_KEY`) it runs the same job against the backends of a settings
 * file instead: `deno run --allow-net --allow-read --allow-env demo/main.ts --settings ai.yaml`.
 *
 * @module
 */
import {
  type AISettings,
  BackendFeature,
  BackendNotFound,
  createAI,
  loadSettings,
} from "../mod.ts";
import { type RecordedRequest, startPeer, wordChunks } from "../tests/_peer.ts";

const encoder = new TextEncoder();
const write = (text: string) => Deno.stdout.write(encoder.encode(text));
const progress = (text: string) => Deno.stderr.write(encoder.encode(text + "\n"));

// The offline model: "corrects" a few words and streams the result word by word.
const FIXES: Record<string, string> = { suprised: "surprised", practise: "practice" };
function offlineModel(request: RecordedRequest) {
  const messages = request.body?.messages ?? [];
  const user = messages.find((m: { role: string }) => m.role === "user");
  const parts: { type: string; text?: string }[] = user?.content ?? [];
  if (parts.some((part) => part.type === "image_url")) {
    return { text: "A small green square with a soft leaf-like texture." };
  }
  const text = parts.map((part) => part.text ?? "").join(" ");
  const fixed = text.replace(/\b\w+\b/g, (word) => FIXES[word] ?? word);
  return { stream: wordChunks(fixed) };
}

const USAGE = "Usage: demo/main.ts [--settings FILE]";

class UsageError extends Error {}

/** The settings file named by `--settings FILE`, or undefined; throws a usage error otherwise. */
function parseArgs(args: string[]): string | undefined {
  if (args.length === 0) return undefined;
  if (args.length === 2 && args[0] === "--settings" && args[1] !== "") return args[1];
  const match = args.length === 1 && /^--settings=(.+)$/.exec(args[0]);
  if (match) return match[1];
  throw new UsageError(`Unexpected arguments: ${args.join(" ")}`);
}

async function main(args: string[]): Promise<void> {
  const settingsFile = parseArgs(args);
  let settings: AISettings;
  let peer: Awaited<ReturnType<typeof startPeer>> | undefined;
  if (settingsFile !== undefined) {
    settings = await loadSettings(settingsFile);
  } else {
    peer = await startPeer({ handler: offlineModel });
    settings = {
      BACKENDS: {
        default: {
          CLASS: "wagtail_ai.ai.openai.OpenAIBackend",
          CONFIG: {
            MODEL_ID: "gpt-4o-mini",
            TOKEN_LIMIT: 400,
            API_BASE: peer.url,
            OPENAI_API_KEY: "sk-offline-demo",
          },
          TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "tiktoken" },
        },
        vision: {
          CLASS: "openai",
          CONFIG: {
            MODEL_ID: "gpt-4o-mini",
            API_BASE: peer.url,
            OPENAI_API_KEY: "sk-offline-demo",
          },
        },
      },
      IMAGE_DESCRIPTION_BACKEND: "vision",
    };
    await progress(`Offline OpenAI-compatible server on ${peer.url}`);
  }
  try {
    const ai = createAI(settings, { onWarning: () => {} });
    const backend = ai.getBackend(BackendFeature.TEXT_COMPLETION);
    const article = await Deno.readTextFile(new URL("./article.md", import.meta.url));
    // Half the window for each chunk leaves room for the instruction and the answer.
    const splitter = await backend.getTextSplitter({
      chunkSize: Math.floor(backend.config.tokenLimit / 2),
      chunkOverlap: 0,
    });
    const chunks = splitter.splitText(article);
    for (const [index, chunk] of chunks.entries()) {
      await progress(`[${index + 1}/${chunks.length}] correcting ${chunk.length} characters...`);
      const response = backend.promptWithContext({
        prePrompt: "Correct the spelling and grammar of this text. Answer with the text only.",
        context: chunk,
      });
      for await (const text of response) await write(text);
      await write("\n\n");
    }
    const image = new File(
      [await Deno.readFile(new URL("./leaf.png", import.meta.url))],
      "leaf.png",
    );
    let imageBackend;
    try {
      imageBackend = ai.getBackend(BackendFeature.IMAGE_DESCRIPTION);
    } catch (error) {
      if (!(error instanceof BackendNotFound)) throw error;
      await progress(
        "No image description backend: set IMAGE_DESCRIPTION_BACKEND (or IMAGE_DESCRIPTION_PROVIDER)\n" +
          "in the settings to describe demo/leaf.png too.",
      );
      return;
    }
    await progress("Describing demo/leaf.png...");
    const description = imageBackend.describeImage({
      image,
      prompt: "Describe this image in one sentence for alt text.",
    });
    await write(`Alt text: ${await description.text()}\n`);
  } finally {
    await peer?.close();
  }
  if (peer) {
    await progress(
      "\nTo run the same job against the OpenAI API: export OPENAI_API_KEY=sk-..., write ai.yaml\n" +
        "(any settings of README.md work; here the provider layer, for text and images):\n\n" +
        "  BACKENDS:\n" +
        "    default: {CLASS: provider, CONFIG: {}}\n" +
        "  PROVIDERS:\n" +
        "    default: {provider: openai, model: gpt-4o-mini}\n" +
        "  IMAGE_DESCRIPTION_PROVIDER: default\n\n" +
        "and run:\n" +
        "  deno run --allow-net --allow-read --allow-env demo/main.ts --settings ai.yaml",
    );
  }
}

try {
  await main(Deno.args);
} catch (error) {
  // One line, no stack, as the CLI does: 2 for wrong arguments, else 1.
  const usage = error instanceof UsageError;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  await progress(usage ? `Error: ${(error as Error).message}\n${USAGE}` : `Error: ${message}`);
  Deno.exit(usage ? 2 : 1);
}
