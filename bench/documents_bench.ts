/**
 * Editor actions (issue 13): `ai.processText()` correcting 1 MB of HTML
 * (about 2,000 blocks) against a peer on 127.0.0.1 that answers at once,
 * against one `countTokens` pass over the same text; the same requests sent
 * without the document machinery (the peer's time); the library's own time,
 * measured directly (the first run against an in-process backend that
 * answers at once: no HTTP, no peer); and the run again after one block is
 * edited. `bench/report.ts` takes the table from
 * `bench/_documents.ts` instead (interleaved, per-iteration ratios).
 *
 * @module
 */
import { countTokens, createMemoryCache, type MemoryCache } from "../mod.ts";
import { clearTokenizerCaches } from "../_tokenizer/mod.ts";
import { clearDocumentMemos } from "../documents/process.ts";
import type { RecordedRequest } from "../tests/_peer.ts";
import { documentsSetup, editOneBlock, htmlDocument, instantSetup, replay } from "./_documents.ts";
import { freshSeed, record } from "./_samples.ts";

const { peer, ai } = await documentsSetup("tiktoken");
const instant = instantSetup("tiktoken");
const group = "correct 1 MB of HTML (about 2,000 blocks) against an instant peer";

// Warm the JIT on every path once (other text).
{
  const warm = htmlDocument(1_000_000, 1);
  await countTokens(warm, "gpt-4o");
  const cache = createMemoryCache();
  await ai.processText({ prompt: "correction", text: warm, format: "html", cache }).text();
  await ai.processText({ prompt: "correction", text: editOneBlock(warm), format: "html", cache })
    .text();
}

function run(text: string, cache: MemoryCache): Promise<string> {
  return ai.processText({ prompt: "correction", text, format: "html", cache }).text();
}

Deno.bench({ name: "one countTokens pass", group, baseline: true, n: 7, warmup: 1 }, async (b) => {
  const text = htmlDocument(1_000_000, freshSeed());
  clearTokenizerCaches();
  b.start();
  const start = performance.now();
  await countTokens(text, "gpt-4o");
  record(group, "one countTokens pass", performance.now() - start);
  b.end();
});

Deno.bench({ name: "processText, first run", group, n: 7, warmup: 1 }, async (b) => {
  const text = htmlDocument(1_000_000, freshSeed());
  clearTokenizerCaches();
  clearDocumentMemos();
  b.start();
  const start = performance.now();
  await run(text, createMemoryCache());
  record(group, "processText, first run", performance.now() - start);
  b.end();
});

Deno.bench({
  name: "processText against an in-process backend (the library's own time)",
  group,
  n: 7,
  warmup: 1,
}, async (b) => {
  const text = htmlDocument(1_000_000, freshSeed());
  clearTokenizerCaches();
  clearDocumentMemos();
  b.start();
  const start = performance.now();
  await instant.processText({ prompt: "correction", text, format: "html" }).text();
  record(
    group,
    "processText against an in-process backend (the library's own time)",
    performance.now() - start,
  );
  b.end();
});

Deno.bench({ name: "its requests alone (the peer's time)", group, n: 7, warmup: 1 }, async (b) => {
  const text = htmlDocument(1_000_000, freshSeed());
  peer.reset();
  await run(text, createMemoryCache());
  const requests: RecordedRequest[] = [...peer.requests];
  b.start();
  const start = performance.now();
  await replay(ai, requests);
  record(group, "its requests alone (the peer's time)", performance.now() - start);
  b.end();
});

Deno.bench({ name: "processText after one block is edited", group, n: 7, warmup: 1 }, async (b) => {
  const text = htmlDocument(1_000_000, freshSeed());
  const cache = createMemoryCache();
  await run(text, cache);
  const edited = editOneBlock(text);
  b.start();
  const start = performance.now();
  await run(edited, cache);
  record(group, "processText after one block is edited", performance.now() - start);
  b.end();
});

globalThis.addEventListener("unload", () => void peer.close());
