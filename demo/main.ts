/**
 * The offline demo: split a sample article by the model's token limit and
 * stream an answer for each chunk.
 *
 * Run it with `deno task demo`.
 *
 * @module
 */
import { createAI } from "../mod.ts";

const article = await Deno.readTextFile(new URL("./article.md", import.meta.url));

const ai = createAI({
  BACKENDS: {
    default: {
      CLASS: "echo",
      CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 120 },
    },
  },
});

const backend = ai.getBackend();
const splitter = await backend.getTextSplitter();
const chunks = splitter.splitText(article);
const encoder = new TextEncoder();

for (const [index, chunk] of chunks.entries()) {
  console.error(`--- chunk ${index + 1}/${chunks.length} (${chunk.length} characters)`);
  const response = backend.promptWithContext({
    prePrompt: "Correct the spelling and grammar of this text:",
    context: chunk,
  });
  for await (const text of response) await Deno.stdout.write(encoder.encode(text));
  await Deno.stdout.write(encoder.encode("\n"));
}
