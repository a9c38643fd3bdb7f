/**
 * Issue 16, goals 3 and 5, for `deno task bench`: 1,000 `getBackend()` calls
 * of an LLM backend (its user directory holding `extra-openai-models.yaml`,
 * `aliases.json` and `keys.json`) against 1,000 of an OpenAI backend; and a
 * 2 MB prompt near gpt-4.1's window (counted at most once) through the OpenAI backend
 * against the bare `openai` client's same request and one `countTokens`
 * pass, against an instant test peer on 127.0.0.1. `bench/report.ts` measures
 * the same for `bench/README.md` (`bench/_backend_report.ts`).
 *
 * @module
 */
import OpenAI from "openai";
import { countTokens, createAI } from "../mod.ts";
import { startPeer } from "../tests/_peer.ts";
import { prose } from "./corpus.ts";

const dir = await Deno.makeTempDir({ prefix: "bench_llm_" });
await Deno.writeTextFile(
  `${dir}/extra-openai-models.yaml`,
  '- model_id: "local-llama"\n  model_name: llama3.1\n  api_base: http://127.0.0.1:9/v1\n',
);
await Deno.writeTextFile(`${dir}/aliases.json`, JSON.stringify({ fast: "gpt-4o-mini" }));
await Deno.writeTextFile(`${dir}/keys.json`, JSON.stringify({ openai: "sk-x" }));
// Written a minute ago, as a user directory's files are: a file modified in the last 2 s is
// read again at each check (docs/llm.md).
for (const name of ["extra-openai-models.yaml", "aliases.json", "keys.json"]) {
  const then = new Date(Date.now() - 60_000);
  Deno.utimeSync(`${dir}/${name}`, then, then);
}
const llm = createAI({
  BACKENDS: {
    default: { CLASS: "llm", CONFIG: { MODEL_ID: "fast", INIT_KWARGS: { temperature: 0.2 } } },
  },
}, { llmUserPath: dir });
const openai = createAI({
  BACKENDS: {
    default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x" } },
  },
});

Deno.bench("1,000 getBackend(): OpenAI backend", { group: "getBackend", baseline: true }, () => {
  for (let i = 0; i < 1000; i++) openai.getBackend();
});
Deno.bench("1,000 getBackend(): LLM backend", { group: "getBackend" }, () => {
  for (let i = 0; i < 1000; i++) llm.getBackend();
});

const peer = await startPeer();
peer.setHandler(() => ({ text: "A short answer." }));
const MODEL = "gpt-4.1";
const ai = createAI({
  BACKENDS: {
    default: {
      CLASS: "openai",
      CONFIG: { MODEL_ID: MODEL, OPENAI_API_KEY: "sk-x", API_BASE: peer.url, MAX_RETRIES: 0 },
    },
  },
});
const client = new OpenAI({ apiKey: "sk-x", baseURL: peer.url, maxRetries: 0 });
let seed = 1;
// Fresh text each iteration, so that no count is a lookup of the last one.
const fresh = () => prose(2_000_000, seed++);

Deno.bench(
  "2 MB prompt: bare openai client",
  { group: "2 MB prompt", baseline: true },
  async (b) => {
    const text = fresh();
    b.start();
    await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: [{ type: "text", text: "Correct this text:" }] },
        { role: "user", content: [{ type: "text", text }] },
      ],
      max_tokens: 32_768,
    });
    b.end();
    peer.reset();
  },
);
Deno.bench(
  "2 MB prompt: OpenAI backend (counted at most once)",
  { group: "2 MB prompt" },
  async (b) => {
    const text = fresh();
    b.start();
    await ai.getBackend().promptWithContext({ prePrompt: "Correct this text:", context: text })
      .text();
    b.end();
    peer.reset();
  },
);
Deno.bench("2 MB prompt: one countTokens pass", { group: "2 MB prompt" }, async (b) => {
  const text = fresh();
  b.start();
  await countTokens(text, MODEL);
  b.end();
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
