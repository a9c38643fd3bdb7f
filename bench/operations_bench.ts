/**
 * What the operations layer adds to a request: the same request plain, with
 * usage events (`onEvent`, `PRICES`), and with a fallback chain whose primary
 * answers. Against an instant test peer on 127.0.0.1 (whole answers and
 * streams of 200 chunks, through a provider and a provider backend), and
 * against an in-memory provider, which shows the layer's own work without the
 * network's noise. Ratios are against the plain request of each group.
 *
 * @module
 */
import { type ChatCompletion, createAI, registerProvider } from "../mod.ts";
import { startPeer } from "../tests/_peer.ts";

const peer = await startPeer();
const words = Array.from({ length: 200 }, (_, i) => (i === 0 ? "w0" : ` w${i}`));
peer.setHandler((request) =>
  request.body?.stream === true ? { stream: words } : { text: "A short answer." }
);

const provider = (extra: Record<string, unknown> = {}) => ({
  provider: "openai_compatible",
  model: "gpt-4o-mini",
  api_base: peer.url,
  api_key: "sk-bench",
  max_retries: 0,
  ...extra,
});
const settings = (fallbacks: boolean) => ({
  PROVIDERS: {
    default: provider(fallbacks ? { fallbacks: ["backup"] } : {}),
    backup: provider(),
  },
  BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
  PRICES: { "gpt-4o-mini": { input: 0.15, output: 0.6 } },
});
let events = 0;
const variants = {
  plain: createAI(settings(false)),
  "onEvent + PRICES": createAI(settings(false), { onEvent: () => void events++ }),
  "fallbacks + onEvent": createAI(settings(true), { onEvent: () => void events++ }),
};
const messages = [{ role: "user" as const, content: "Correct this paragraph, please." }];
for (const ai of Object.values(variants)) {
  await ai.preload();
  await ai.getProvider().completion({ messages }); // warm the client cache and the tokenizer
}

for (const [name, ai] of Object.entries(variants)) {
  const baseline = name === "plain";
  Deno.bench({ name, group: "provider.completion()", baseline }, async () => {
    await ai.getProvider().completion({ messages });
  });
  Deno.bench({ name, group: "provider.stream(), 200 chunks", baseline }, async () => {
    for await (const _ of ai.getProvider().stream({ messages })) { /* read */ }
  });
  Deno.bench({ name, group: "backend text()", baseline }, async () => {
    await ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh text" }).text();
  });
  Deno.bench({ name, group: "backend stream, 200 chunks", baseline }, async () => {
    const response = ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh" });
    for await (const _ of response) { /* read */ }
  });
}

// An in-memory provider: an answer, or 200 chunks and usage, at once.
const completion: ChatCompletion = {
  id: "m",
  object: "chat.completion",
  created: 0,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { inputTokens: 10, outputTokens: 1, totalTokens: 11 },
};
registerProvider("memory", (settings) => ({
  provider: "memory",
  model: settings.model,
  completion: () => Promise.resolve(completion),
  async *stream() {
    for (const text of words) yield { type: "text", text };
    yield { type: "usage", usage: { inputTokens: 10, outputTokens: 200, totalTokens: 210 } };
  },
}));
const memory = (fallbacks: boolean) => ({
  PROVIDERS: {
    default: {
      provider: "memory",
      model: "gpt-4o-mini",
      ...(fallbacks ? { fallbacks: ["b"] } : {}),
    },
    b: { provider: "memory", model: "gpt-4o-mini" },
  },
  BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
  PRICES: { "gpt-4o-mini": { input: 0.15, output: 0.6 } },
});
const inMemory = {
  plain: createAI(memory(false)),
  "onEvent + PRICES": createAI(memory(false), { onEvent: () => void events++ }),
  "fallbacks + onEvent": createAI(memory(true), { onEvent: () => void events++ }),
};
for (const ai of Object.values(inMemory)) await ai.preload();
for (const [name, ai] of Object.entries(inMemory)) {
  const baseline = name === "plain";
  Deno.bench({ name, group: "in memory: provider.completion()", baseline }, async () => {
    await ai.getProvider().completion({ messages });
  });
  Deno.bench({ name, group: "in memory: provider.stream(), 200 chunks", baseline }, async () => {
    for await (const _ of ai.getProvider().stream({ messages })) { /* read */ }
  });
  Deno.bench({ name, group: "in memory: backend stream, 200 chunks", baseline }, async () => {
    const response = ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh" });
    for await (const _ of response) { /* read */ }
  });
}

globalThis.addEventListener("unload", () => {
  peer.close();
});
