/**
 * What the operations layer adds to a request against an instant test peer on
 * 127.0.0.1: the same request plain, with usage events (`onEvent`, `PRICES`),
 * and with a fallback chain whose primary answers. Whole answers and streams
 * of 200 chunks, through a provider and through a provider backend; ratios are
 * against the plain request of each group.
 *
 * @module
 */
import { createAI } from "../mod.ts";
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

globalThis.addEventListener("unload", () => {
  peer.close();
});
