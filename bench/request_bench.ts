/**
 * Whole requests (issue 16), for `deno task bench`: the same chat request
 * through the module's OpenAI backend and provider, the bare `openai` client,
 * plain `fetch` and the Vercel AI SDK (`bench/_request_variants.ts`), against
 * the instant server of `bench/_request_peer.ts` in a process of its own; a
 * whole answer, a 50-chunk and a 2,000-chunk stream, one request at a time
 * and 50 at once. The bare client is each group's baseline. `bench/report.ts`
 * measures the same, interleaved, for `bench/README.md`.
 *
 * @module
 */
import { startRequestPeer, VARIANTS } from "./_request_variants.ts";

const peer = await startRequestPeer();
const context = "Teh quick brown fox jumsp over the lazy dog.";
const groups = [
  { group: "whole answer", kind: "json", stream: false, concurrency: 1 },
  { group: "whole answer, 50 at once", kind: "json", stream: false, concurrency: 50 },
  { group: "50-chunk stream", kind: "s50", stream: true, concurrency: 1 },
  { group: "50-chunk stream, 50 at once", kind: "s50", stream: true, concurrency: 50 },
  { group: "2,000-chunk stream", kind: "s2000", stream: true, concurrency: 1 },
];
for (const { group, kind, stream, concurrency } of groups) {
  for (const [name, make] of Object.entries(VARIANTS)) {
    const variant = await make(`${peer.origin}/${kind}/v1`);
    const once = () => (stream ? variant.stream(context) : variant.json(context));
    await once();
    Deno.bench({ name, group, baseline: name === "openai client" }, async () => {
      await Promise.all(Array.from({ length: concurrency }, once));
    });
  }
}

globalThis.addEventListener("unload", () => {
  peer.stop();
});
