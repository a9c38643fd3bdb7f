// Measuring a chunk only as far as its fit needs (documents/process.ts,
// text_splitters/_within.ts, the tokenizer's countWithin): the decision is
// always the exact count's, and every chunk fits.
import assert from "node:assert/strict";
import { createAI, NaiveTextSplitterCalculator, TiktokenLengthCalculator } from "../mod.ts";
import { type EncodingName, loadEncoding } from "../_tokenizer/mod.ts";
import { planChunks } from "../documents/process.ts";
import { htmlFormat } from "../documents/_html.ts";
import { markdownFormat } from "../documents/_markdown.ts";
import { textFormat } from "../documents/_text.ts";
import { measureWithin } from "../text_splitters/_within.ts";
import { adversarial, prose, rng, variety } from "../bench/corpus.ts";
import { htmlDocument } from "../bench/_documents.ts";
import { type RecordedRequest, startPeer } from "./_peer.ts";

const NAMES: EncodingName[] = ["cl100k_base", "o200k_base"];

/** Checks what countWithin promises of `text` against `limit`. */
function checkWithin(
  encoding: { count(text: string): number; countWithin(text: string, limit: number): number },
  text: string,
  limit: number,
): void {
  const exact = encoding.count(text);
  const within = encoding.countWithin(text, limit);
  const label = `limit ${limit}, exact ${exact}, within ${within}, text ${
    JSON.stringify(text.slice(0, 40))
  }`;
  assert.equal(within <= limit, exact <= limit, label);
  if (within <= limit) assert.ok(within >= exact, label);
  else assert.ok(within <= exact, label);
}

Deno.test("countWithin() tells fit exactly as count() does, at and around the limit", async () => {
  const random = rng(7);
  const texts = [
    "",
    "a",
    "Hello, world!",
    prose(5_000, 1),
    variety(5_000, 2),
    ...adversarial(),
    "é".repeat(300),
    "😀".repeat(200),
    "\ud800 lone \udc00 surrogates \ud83d",
    "日本語のテキストです。".repeat(50),
  ];
  for (const name of NAMES) {
    const encoding = await loadEncoding(name);
    for (const text of texts) {
      const exact = encoding.count(text);
      // Right at the limit, one under and one over: where the count must be exact.
      for (
        const limit of [0, 1, exact - 1, exact, exact + 1, 2 * exact, text.length, 3 * text.length]
      ) {
        if (limit >= 0) checkWithin(encoding, text, limit);
      }
      for (let k = 0; k < 10; k++) {
        checkWithin(encoding, text, Math.floor(random() * (exact * 2 + 2)));
      }
    }
  }
});

Deno.test("countWithin() of a text counted to its end is its exact count", async () => {
  const encoding = await loadEncoding("o200k_base");
  const text = prose(20_000, 3);
  const exact = encoding.count(text);
  // A limit the bytes of any part could not prove: counted to the end.
  assert.equal(encoding.countWithin(text, exact), exact);
  // Over the limit by one token: never taken to fit.
  assert.ok(encoding.countWithin(text, exact - 1) > exact - 1);
  // Short enough that its bytes prove it: not counted at all, an upper bound.
  assert.equal(encoding.countWithin("hello world", 100), 11);
});

Deno.test("measureWithin() uses countWithin only for the built-in exact calculator", async () => {
  const tiktoken = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  await tiktoken.load();
  const text = prose(8_000, 4);
  const exact = tiktoken.getSplitterLength(text);
  // Its bytes prove a generous limit: not counted to the end.
  assert.equal(
    measureWithin(tiktoken)(text, 10 * text.length),
    new TextEncoder().encode(text).length,
  );
  assert.equal(measureWithin(tiktoken)(text, exact), exact);

  // A subclass may measure otherwise: its own measure, exactly.
  class Doubled extends TiktokenLengthCalculator {
    override getSplitterLength(piece: string): number {
      return 2 * super.getSplitterLength(piece);
    }
  }
  const doubled = new Doubled({ modelId: "gpt-4o" });
  await doubled.load();
  assert.equal(measureWithin(doubled)(text, 10 * text.length), 2 * exact);
  const naive = new NaiveTextSplitterCalculator();
  assert.equal(measureWithin(naive)(text, 10 * text.length), naive.getSplitterLength(text));
  // A model without an encoding: the calculator's own (naive) measure.
  const unknown = new TiktokenLengthCalculator({ modelId: "some-local-model" });
  await unknown.load();
  assert.equal(measureWithin(unknown)(text, 1), unknown.getSplitterLength(text));
  // Not loaded: the same error as its exact measure.
  const unloaded = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  assert.throws(() => measureWithin(unloaded)(text, 1), /not loaded/);
});

/** Random HTML: paragraphs, headings, lists, inline markup, some non-ASCII, some long blocks. */
function randomHtml(seed: number): string {
  const random = rng(seed);
  const words = prose(40_000, seed).split(" ");
  let at = 0;
  const take = (n: number) => {
    const out = words.slice(at, at + n).join(" ");
    at = (at + n) % (words.length - n - 1);
    return out;
  };
  let html = "";
  const blocks = 20 + Math.floor(random() * 40);
  for (let i = 0; i < blocks; i++) {
    const pick = random();
    const n = 1 + Math.floor(random() * (pick < 0.1 ? 900 : 120));
    if (pick < 0.15) html += `<h2>${take(1 + (n % 12))}</h2>\n`;
    else if (pick < 0.25) html += `<ul><li>${take(n)}</li><li>${take(3)} — é😀</li></ul>\n`;
    else if (pick < 0.3) html += `<pre><code>${take(n)}</code></pre>\n`;
    else {html += `<p>${take(n)} <strong>${take(4)}</strong> <a href="/x">${take(3)}</a> ${
        take(9)
      }.</p>\n`;}
  }
  return html;
}

Deno.test("planChunks() makes the same chunks measuring within the limit as measuring exactly, each fitting", async () => {
  const calculator = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  await calculator.load();
  const exact = (text: string) => calculator.getSplitterLength(text);
  const within = measureWithin(calculator);
  let proved = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const formats = [
      { handler: htmlFormat, text: randomHtml(seed) },
      { handler: markdownFormat, text: prose(6_000 + seed * 400, seed).replace(/\. /g, ".\n\n") },
      { handler: textFormat, text: prose(6_000 + seed * 400, seed + 100) },
    ];
    for (const { handler, text } of formats) {
      for (const max of [40, 150, 600, 2_000]) {
        const a = handler();
        const b = handler();
        const byExact = planChunks(a, text, a.blocks(text), max, exact);
        const byWithin = planChunks(b, text, b.blocks(text), max, exact, undefined, within);
        assert.deepEqual(
          byWithin.plans.map((plan) => [plan.start, plan.end, plan.sent]),
          byExact.plans.map((plan) => [plan.start, plan.end, plan.sent]),
          `seed ${seed}, max ${max}`,
        );
        for (const [range, length] of byWithin.lengths) {
          const counted = byExact.lengths.get(range)!;
          // The same decision; a length that fits is at least the exact one.
          assert.equal(length <= max, counted <= max, `seed ${seed}, range ${range}`);
          if (length <= max) assert.ok(length >= counted);
          if (length !== counted) proved++;
        }
        // Every chunk of whole blocks fits, by its exact count.
        byWithin.plans.forEach((plan, i) => {
          if (byWithin.ranges[i] !== undefined) {
            assert.ok(exact(plan.sent) <= max, `seed ${seed}, max ${max}: ${exact(plan.sent)}`);
          }
        });
      }
    }
  }
  // The shortcut is taken (chunks not counted to their end).
  assert.ok(proved > 0);
});

Deno.test("planChunks() cuts a single block whose estimate fits but whose count does not", async () => {
  const calculator = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  await calculator.load();
  const exact = (text: string) => calculator.getSplitterLength(text);
  // Digits and punctuation: far more tokens per character than the estimate's 1 in 3.6.
  const dense = Array.from({ length: 120 }, (_, i) => `${i * 7919}.`).join(" ");
  const text = `Intro words here.\n\n${dense}\n\nOutro words here.`;
  const handler = textFormat();
  const blocks = handler.blocks(text);
  const max = Math.ceil(dense.length / 3.6) + 5; // the estimate of the dense block fits
  assert.ok(exact(dense) > max, `the block is ${exact(dense)} tokens, max ${max}`);
  const planned = planChunks(
    handler,
    text,
    blocks,
    max,
    exact,
    undefined,
    measureWithin(calculator),
  );
  for (const plan of planned.plans) assert.ok(exact(plan.sent) <= max, plan.sent);
  assert.equal(
    planned.plans.map((plan) => text.slice(plan.start, plan.end)).join("").length > 0,
    true,
  );
  assert.ok(
    planned.plans.some((plan) => plan.start > blocks[1].start && plan.end <= blocks[1].end),
  );
});

Deno.test("processText() sends chunks that fit the answer cap by their exact count, near the cap too", async () => {
  const chunks: string[] = [];
  await using peer = await startPeer({
    handler: (request: RecordedRequest) => {
      // deno-lint-ignore no-explicit-any
      const user = request.body.messages.filter((m: any) => m.role === "user").at(-1);
      const chunk = typeof user.content === "string" ? user.content : user.content[0].text;
      chunks.push(chunk);
      return { text: chunk };
    },
  });
  const cap = 200;
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o",
          OPENAI_API_KEY: "sk-test",
          API_BASE: peer.url,
          MAX_RETRIES: 0,
          MAX_OUTPUT_TOKENS: cap,
        },
        TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: "tiktoken" },
      },
    },
  });
  const calculator = new TiktokenLengthCalculator({ modelId: "gpt-4o" });
  await calculator.load();
  const limit = Math.floor(cap * 3 / 4);
  const text = htmlDocument(30_000, 5);
  const result = await ai.processText({ prompt: "correction", text, format: "html" }).text();
  assert.equal(result, text);
  assert.ok(chunks.length > 10);
  const counts = chunks.map((chunk) => calculator.getSplitterLength(chunk));
  for (const count of counts) {
    assert.ok(count <= limit, `a chunk of ${count} tokens, limit ${limit}`);
  }
  // Chunks near the limit, whose bytes alone do not prove it, were counted and still sent.
  assert.ok(
    chunks.some((chunk, i) =>
      new TextEncoder().encode(chunk).length > limit && counts[i] > limit / 2
    ),
  );
});
