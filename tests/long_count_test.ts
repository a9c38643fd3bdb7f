// A very long prompt is counted in slices, so that an abort takes effect
// during the count; the slices' counts add up to the whole text's count.
import assert from "node:assert/strict";
import { countInSlices, countMessageTokens, countRanges, safeSplit, slicesOf } from "../_budget.ts";
import { loadEncoding } from "../_tokenizer/mod.ts";
import { createAI } from "../mod.ts";
import { rng } from "../bench/corpus.ts";
import { startPeer } from "./_peer.ts";

const PARTS = [
  "word",
  "Word",
  "WORD",
  "a",
  " ",
  "  ",
  "\n",
  "\n\n",
  "\r\n",
  "\t",
  "!",
  "?!",
  "/",
  "//",
  "'s",
  "'ll",
  "123",
  "4567",
  ".",
  ",",
  "-",
  "é",
  "中文",
  "🙂",
  "\u00a0",
  "\u3000",
  "\u0085",
  "\ufeff",
  " /",
  "\n/",
  "x/",
  "(",
  ")",
  "$",
  "_",
  "e\u0301",
];

function randomText(seed: number, length: number): string {
  const rand = rng(seed);
  let text = "";
  while (text.length < length) text += PARTS[Math.floor(rand() * PARTS.length)];
  return text;
}

for (const name of ["cl100k_base", "o200k_base"] as const) {
  Deno.test(`${name}: counting in slices at safeSplit() points gives the whole text's count`, async () => {
    const encoding = await loadEncoding(name);
    const count = (text: string) => encoding.count(text);
    for (let seed = 1; seed <= 400; seed++) {
      const text = randomText(seed, 50 + (seed % 7) * 40);
      for (const sliceChars of [1, 5, 17]) {
        let sliced = 0;
        const slices = [...slicesOf(text, sliceChars)];
        for (const slice of slices) sliced += count(slice);
        assert.equal(slices.join(""), text);
        if (sliced !== encoding.count(text)) {
          assert.equal(sliced, encoding.count(text), `${JSON.stringify(text)} in ${sliceChars}s`);
        }
      }
    }
  });
}

for (const name of ["cl100k_base", "o200k_base"] as const) {
  Deno.test(`${name}: counting the safeSplit() ranges in place (countRanges) gives the whole text's count`, async () => {
    const encoding = await loadEncoding(name);
    for (let seed = 1; seed <= 400; seed++) {
      // A concatenated (unflattened) text too, as a caller may pass.
      const text = randomText(seed, 50 + (seed % 7) * 40) + randomText(seed + 1000, 30);
      for (const sliceChars of [1, 5, 17]) {
        // countRanges()'s ranges, without its turns of the event loop between them.
        let ranged = 0;
        for (let start = 0, end = 0; start < text.length; start = end) {
          end = safeSplit(text, start + sliceChars);
          ranged += encoding.countRange(text, start, end);
        }
        if (seed % 100 === 0) {
          assert.equal(await countRanges(encoding, text, { sliceChars }), ranged);
        }
        if (ranged !== encoding.count(text)) {
          assert.equal(ranged, encoding.count(text), `${JSON.stringify(text)} in ${sliceChars}s`);
        }
      }
    }
  });
}

Deno.test("safeSplit() finds a letter-space or newline boundary, else the end", () => {
  assert.equal(safeSplit("ab cd", 0), 2);
  assert.equal(safeSplit("ab\ncd", 0), 3);
  assert.equal(safeSplit("ab\n/cd", 0), 6);
  assert.equal(safeSplit("1 2 3", 0), 5);
  assert.equal(safeSplit("中文中文", 0), 4);
});

Deno.test("countMessageTokens() of a 40 MB prompt stops at an abort within a slice", async () => {
  const encoding = await loadEncoding("o200k_base");
  const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n".repeat(720_000);
  assert.ok(text.length > 40_000_000);
  const controller = new AbortController();
  const reason = new Error("the user left");
  let counted = 0;
  const spy = (slice: string) => (counted += slice.length, encoding.count(slice));
  setTimeout(() => controller.abort(reason), 0);
  await assert.rejects(
    countInSlices(spy, text, { signal: controller.signal }),
    (error) => error === reason,
  );
  assert.ok(counted < text.length / 4, `${counted} of ${text.length} characters were counted`);
  // Through countMessageTokens too.
  const again = new AbortController();
  setTimeout(() => again.abort(reason), 0);
  await assert.rejects(
    countMessageTokens([{ role: "user", content: text }], "gpt-4o", again.signal),
    (error) => error === reason,
  );
});

Deno.test("a backend aborted while it counts a 40 MB prompt rejects with the reason and sends nothing", async () => {
  await using peer = await startPeer();
  await loadEncoding("o200k_base");
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk-x", API_BASE: peer.url, MAX_RETRIES: 0 },
      },
    },
  });
  const controller = new AbortController();
  const reason = new Error("closed the tab");
  const response = ai.getBackend().promptWithContext({
    prePrompt: "Summarise:",
    context: "The quick brown fox jumps over the lazy dog.\n".repeat(1_000_000),
    signal: controller.signal,
  });
  const pending = response.text();
  setTimeout(() => controller.abort(reason), 0);
  await assert.rejects(pending, (error) => error === reason);
  assert.equal(peer.requests.length, 0);
});
