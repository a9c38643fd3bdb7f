// The parts of document runs: content-defined chunks, the HTML tokenizer and
// blocks, Markdown and text blocks, the memory cache and DocumentResponse.
import assert from "node:assert/strict";
import {
  AIResponse,
  BaseBackend,
  createAI,
  createMemoryCache,
  type DeltaSink,
  type DocumentEvent,
  DocumentResponse,
  type PromptWithContextOptions,
} from "../mod.ts";
import { groupUnits, unitPriorities } from "../documents/_chunker.ts";
import { htmlFormat, parseBoth, tokenize } from "../documents/_html.ts";
import { clearDocumentMemos } from "../documents/process.ts";
import { sharedEnds } from "../documents/_runs.ts";
import { markdownBlocks } from "../documents/_markdown.ts";
import { paragraphs } from "../documents/_text.ts";
import { unfence } from "../documents/_format.ts";
import { prng } from "./_text.ts";

/** A stand-in model: the text in capitals (tags too, which HTML answers must not change). */
class Upper extends BaseBackend {
  promptWithContext({ context }: PromptWithContextOptions): AIResponse {
    const text = context.replaceAll(/>([^<]*)</g, (_, t: string) => `>${t.toUpperCase()}<`)
      .replace(/^[^<]*/, (t) => t.toUpperCase());
    return new AIResponse({
      async *stream() {
        yield { type: "text", text };
      },
    });
  }
}

function chunksOf(ids: readonly string[], cuts: readonly number[]): string[] {
  const out: string[] = [];
  let from = 0;
  for (const last of cuts) {
    out.push(ids.slice(from, last + 1).join(","));
    from = last + 1;
  }
  return out;
}

/** Greedy packing from the start, for comparison: what chunk boundaries must not be. */
function greedy(sizes: readonly number[], max: number): number[] {
  const cuts: number[] = [];
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    if (total > 0 && total + sizes[i] > max) {
      cuts.push(i - 1);
      total = 0;
    }
    total += sizes[i];
  }
  cuts.push(sizes.length - 1);
  return cuts;
}

Deno.test("groupUnits() covers every unit once, in order, in chunks that fit", () => {
  const random = prng(1);
  for (let round = 0; round < 20; round++) {
    const n = 1 + Math.floor(random() * 500);
    const sizes = Array.from({ length: n }, () => 1 + Math.floor(random() * 300));
    const priorities = Float64Array.from({ length: n }, () => random());
    const max = 300 + Math.floor(random() * 3000);
    const cuts = groupUnits(sizes, priorities, max);
    assert.equal(cuts.at(-1), n - 1);
    let from = 0;
    for (const last of cuts) {
      assert.ok(last >= from);
      let total = 0;
      for (let i = from; i <= last; i++) total += sizes[i];
      assert.ok(total <= max || last === from, `a chunk of ${total} over ${max}`);
      from = last + 1;
    }
  }
  assert.deepEqual(groupUnits([], [], 10), []);
  assert.deepEqual(groupUnits([50], [0], 10), [0]); // one unit over max is a chunk alone
});

Deno.test("groupUnits(): a unit that grows or shrinks by a fifth changes at most two chunks (greedy packing changes many)", () => {
  const random = prng(7);
  let ours = 0;
  let theirs = 0;
  let worst = 0;
  let edits = 0;
  for (let document = 0; document < 30; document++) {
    const n = 600;
    const ids = Array.from({ length: n }, (_, i) => `b${i}`);
    const sizes = Array.from({ length: n }, () => Math.round(20 + Math.exp(random() * 3) * 10));
    const priorities = Float64Array.from({ length: n }, () => Math.floor(random() * 2 ** 32));
    const max = 2000;
    const before = new Set(chunksOf(ids, groupUnits(sizes, priorities, max)));
    const greedyBefore = new Set(chunksOf(ids, greedy(sizes, max)));
    for (let edit = 0; edit < 40; edit++) {
      const k = Math.floor(random() * n);
      const grown = sizes.slice();
      grown[k] = Math.round(sizes[k] * (edit % 2 === 0 ? 1.2 : 0.8));
      const editedIds = ids.slice();
      editedIds[k] = `b${k}'`;
      // The edit leaves the unit's first words (its priority) as they were.
      const changed = chunksOf(editedIds, groupUnits(grown, priorities, max))
        .filter((chunk) => !before.has(chunk)).length;
      assert.ok(changed >= 1 && changed <= 2, `${changed} chunks changed`);
      const greedyChanged = chunksOf(editedIds, greedy(grown, max))
        .filter((chunk) => !greedyBefore.has(chunk)).length;
      if (greedyChanged > 2) theirs++;
      worst = Math.max(worst, greedyChanged);
      ours += changed;
      edits++;
    }
  }
  // The same edits under greedy packing: often more than two chunks, up to dozens.
  assert.ok(theirs / edits > 0.05 && worst > 5, `greedy: ${theirs} of ${edits}, worst ${worst}`);
  assert.ok(ours / edits < 1.2);
});

Deno.test("groupUnits() is linear and never deep, even with a million units", () => {
  const n = 1_000_000;
  const sizes = new Float64Array(n).fill(3);
  // Priorities in order are the worst shape for a Cartesian tree (a chain).
  const increasing = Float64Array.from({ length: n }, (_, i) => i);
  const cuts = groupUnits(sizes, increasing, 3000);
  assert.equal(cuts.at(-1), n - 1);
  const random = prng(3);
  const shuffled = Float64Array.from({ length: n }, () => random());
  const balanced = groupUnits(sizes, shuffled, 3000);
  // Random priorities fill chunks to about half the size on average.
  assert.ok(n * 3 / balanced.length > 0.3 * 3000, `${balanced.length} chunks`);
});

Deno.test("unitPriorities(): repeated units get priorities of their own, so their chunks stay full", () => {
  const words = Array.from({ length: 2000 }, () => "Yes");
  const lengths = new Float64Array(2000).fill(12);
  const priorities = unitPriorities(words, lengths);
  assert.ok(new Set(priorities).size > 1990);
  const cuts = groupUnits(new Float64Array(2000).fill(5), priorities, 500);
  assert.ok(cuts.length < 2000 * 5 / 500 * 4, `${cuts.length} chunks`);
  // The first words decide: an edit further in keeps the priority.
  const [a] = unitPriorities(["The same first thirty-two units, then one ending"], [60]);
  const [b] = unitPriorities(["The same first thirty-two units, then another ending"], [60]);
  assert.equal(Math.floor(a / 0x200000), Math.floor(b / 0x200000));
});

Deno.test("tokenize() reads tags, comments, raw text and stray < as HTML does", () => {
  const html = `a < b<!-- <p> --><p title="x>y" data-a='1'>t</p><script>if (a</b) "</p>"</script>` +
    `<pre>1<pre>2</pre>3</pre><br/><code>x</CODE>tail<unclosed attr="`;
  const tokens = tokenize(html).map((token) => [
    ["text", "tag", "opaque"][token.kind],
    html.slice(token.start, token.end),
  ]);
  assert.deepEqual(tokens, [
    ["text", "a < b"],
    ["tag", "<!-- <p> -->"],
    ["tag", "<p title=\"x>y\" data-a='1'>"],
    ["text", "t"],
    ["tag", "</p>"],
    ["tag", "<script>"],
    ["opaque", 'if (a</b) "</p>"'],
    ["tag", "</script>"],
    ["tag", "<pre>"],
    ["opaque", "1<pre>2</pre>3"],
    ["tag", "</pre>"],
    ["tag", "<br/>"],
    ["tag", "<code>"],
    ["opaque", "x"],
    ["tag", "</CODE>"],
    ["text", 'tail<unclosed attr="'],
  ]);
  // Every character is in one token.
  assert.equal(tokenize(html).map((token) => html.slice(token.start, token.end)).join(""), html);
});

Deno.test("HTML blocks: inline runs with their element's tags; content never sent stays out", () => {
  const html =
    `<body>\n  <div class="x">Intro <b>bold</b><ul><li>one</li><li>two<ul><li>sub</li></ul></li></ul>` +
    `tail</div>\n<p>open paragraph\n<p>next</p><select><option>never</option></select>\n` +
    `<blockquote><p>quoted</p></blockquote><hr><p>  spaced  </p></body>`;
  const blocks = htmlFormat().blocks(html).map((block) => html.slice(block.start, block.end));
  assert.deepEqual(blocks, [
    '<div class="x">Intro <b>bold</b>',
    "<li>one</li>",
    "<li>two",
    "<li>sub</li>",
    "tail",
    "<p>open paragraph",
    "<p>next</p>",
    "<p>quoted</p>",
    "<p>  spaced  </p>",
  ]);
});

Deno.test("HTML answers: the tags' quoting and attribute order may change, their content may not", () => {
  const html = `<p>Hello <a href="/x" title="t">world</a>.</p>`;
  const format = htmlFormat();
  const plan = format.chunk(html, format.blocks(html));
  assert.deepEqual(plan.apply(`<p>Hi <a title='t'  href=/x>earth</a>!</p>`), {
    replacement: `<p>Hi <a href="/x" title="t">earth</a>!</p>`,
  });
  assert.deepEqual(plan.apply(`<p>Hi <a href="/y" title="t">earth</a>!</p>`), {
    kept: "markup changed",
  });
  assert.deepEqual(plan.apply(`Sure! <p>Hi <a href="/x" title="t">earth</a>!</p>`), {
    kept: "markup changed",
  });
  assert.deepEqual(plan.apply("```html\n<p>Hi <a href='/x' title='t'>earth</a></p>\n```"), {
    replacement: `<p>Hi <a href="/x" title="t">earth</a></p>`,
  });
  assert.deepEqual(plan.apply("  "), { kept: "empty answer" });
});

Deno.test("Markdown blocks: marks, code, tables, HTML, front matter and definitions stay out", () => {
  const md = [
    "---",
    "title: x",
    "---",
    "# Title #",
    "Text *one*",
    "still one",
    "",
    "    indented code",
    "",
    "1. first",
    "   more first",
    "2. second",
    "",
    "    continued in the list",
    "",
    "~~~",
    "fenced",
    "~~~",
    "* * *",
    "> quote",
    "> > nested",
    "",
    "<div>",
    "html",
    "</div>",
    "",
    "[ref]: https://example.com",
    "a | b",
    "--|--",
    "1 | 2",
    "",
    "Under",
    "-----",
  ].join("\n");
  const blocks = markdownBlocks(md).map((block) => block.sent);
  assert.deepEqual(blocks, [
    "Title",
    "Text *one*\nstill one",
    "first\nmore first",
    "second",
    "continued in the list",
    "quote\nnested",
    "Under",
  ]);
});

Deno.test("text paragraphs: split at blank lines, tight, any line ending", () => {
  const text = "  one\r\n line\r\n\r\n\ttwo  \n \n\n three";
  assert.deepEqual(paragraphs(text).map((unit) => text.slice(unit.start, unit.end)), [
    "one\r\n line",
    "two",
    "three",
  ]);
  assert.deepEqual(paragraphs(" \n\t\n"), []);
});

Deno.test("unfence() takes a fenced answer out of its fence, unless the chunk was fenced too", () => {
  assert.equal(unfence("```\nfixed\n```", "text"), "fixed");
  assert.equal(unfence("```markdown\nfixed\ntwo\n```\n", "text"), "fixed\ntwo");
  assert.equal(unfence("```\nfixed\n```", "```\ncode\n```"), "```\nfixed\n```");
  assert.equal(unfence("plain", "text"), "plain");
});

Deno.test("createMemoryCache() drops the least recently used and checks maxEntries", () => {
  const cache = createMemoryCache({ maxEntries: 3 });
  for (const key of ["a", "b", "c"]) cache.set(key, key.toUpperCase());
  assert.equal(cache.get("a"), "A");
  cache.set("d", "D");
  assert.equal(cache.get("b"), undefined);
  assert.deepEqual(["a", "c", "d"].map((key) => cache.get(key)), ["A", "C", "D"]);
  assert.equal(cache.size, 3);
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(createMemoryCache().maxEntries, 10_000);
  for (const maxEntries of [0, -1, 1.5, Infinity]) {
    assert.throws(() => createMemoryCache({ maxEntries }), RangeError, String(maxEntries));
  }
  // deno-lint-ignore no-explicit-any
  assert.throws(() => cache.set("k", 1 as any), TypeError);
});

function event(index: number): DocumentEvent {
  return {
    index,
    total: 2,
    start: index,
    end: index + 1,
    original: "x",
    replacement: "y",
    cached: false,
  };
}

Deno.test("DocumentResponse keeps an error for every reader, after the events before it", async () => {
  let runs = 0;
  const failure = new Error("chunk 2 failed");
  const response = new DocumentResponse({
    run(emit) {
      runs++;
      emit(event(0));
      return Promise.reject(failure);
    },
  });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const item of response) seen.push(item.index);
  }, failure);
  assert.deepEqual(seen, [0]);
  await assert.rejects(response.text(), failure);
  assert.equal(runs, 1);
});

Deno.test("DocumentResponse: an aborted signal reaches the run, which rejects with its reason", async () => {
  const reason = new Error("the editor closed");
  const controller = new AbortController();
  controller.abort(reason);
  const response = new DocumentResponse({
    run(_emit, signal) {
      return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve("done");
    },
  }, { signal: controller.signal });
  await assert.rejects(response.text(), reason);
});

Deno.test("DocumentResponse: events come in order as emitted, and a late reader sees them all", async () => {
  let finish!: (text: string) => void;
  let emitNext!: (event: DocumentEvent) => void;
  const response = new DocumentResponse({
    run(emit) {
      emitNext = emit;
      return new Promise((resolve) => (finish = resolve));
    },
  });
  const iterator = response[Symbol.asyncIterator]();
  const first = iterator.next();
  emitNext(event(0));
  assert.equal((await first).value?.index, 0);
  emitNext(event(1));
  finish("yy");
  assert.equal((await iterator.next()).value?.index, 1);
  assert.equal((await iterator.next()).done, true);
  assert.equal(await response.text(), "yy");
  const replay: number[] = [];
  for await (const item of response) replay.push(item.index);
  assert.deepEqual(replay, [0, 1]);
  assert.ok(Object.isFrozen(replay.length ? (await Array.fromAsync(response))[0] : {}));
});

Deno.test("DocumentResponse.stream(): deltas between events; a late reader gets the answer so far", async () => {
  let emitNext!: (event: DocumentEvent) => void;
  let sink!: DeltaSink;
  let finish!: (text: string) => void;
  const response = new DocumentResponse({
    text: "xx",
    run(emit, _signal, deltas) {
      emitNext = emit;
      sink = deltas!;
      return new Promise((resolve) => (finish = resolve));
    },
  });
  assert.equal(response.input, "xx");
  const at = (index: number) => ({ index, total: 2, start: index, end: index + 1 });
  const early = response.stream();
  const first = early.next();
  assert.equal(sink.wanted, true, "a stream() reader wants the text as it arrives");
  sink.send({ ...at(0), delta: "y" });
  assert.deepEqual((await first).value, { ...at(0), delta: "y" });
  sink.send({ ...at(1), delta: "Y" });
  sink.send({ ...at(0), delta: "" }); // nothing arrived: no delta
  sink.send({ ...at(1), delta: "y" });
  emitNext(event(0));
  sink.send({ ...at(0), delta: "late" }); // chunk 0 is done: stale, dropped
  // A reader that joins now: the event so far, then chunk 1's answer so far in one delta.
  const late = response.stream();
  const lateFirst = await late.next();
  assert.equal((lateFirst.value as DocumentEvent).replacement, "y");
  assert.deepEqual((await late.next()).value, { ...at(1), delta: "Yy" });
  emitNext(event(1));
  finish("yy");
  assert.deepEqual(
    (await Array.fromAsync(early)).map((item) => "delta" in item ? item.delta : item.index),
    ["Y", "y", 0, 1],
  );
  assert.deepEqual((await Array.fromAsync(late)).map((item) => "delta" in item ? 0 : item.index), [
    1,
  ]);
  assert.equal(await response.text(), "yy");
  // Once the run is over, a stream() replays the events without deltas.
  assert.deepEqual((await Array.fromAsync(response.stream())).map((item) => "delta" in item), [
    false,
    false,
  ]);
});

Deno.test("DocumentResponse.stream(): deltas only while a stream() reads; leaving early cancels", async () => {
  let sink!: DeltaSink;
  let signal!: AbortSignal;
  const response = new DocumentResponse({
    run(_emit, runSignal, deltas) {
      sink = deltas!;
      signal = runSignal;
      return new Promise((_, reject) =>
        runSignal.addEventListener("abort", () => reject(runSignal.reason))
      );
    },
  });
  const plain = response[Symbol.asyncIterator]();
  const waiting = plain.next();
  assert.equal(sink.wanted, false, "no stream() reader: answers are read whole");
  const live = response.stream();
  const delta = live.next();
  assert.equal(sink.wanted, true);
  sink.send({ index: 0, total: 1, start: 0, end: 1, delta: "a" });
  assert.equal(((await delta).value as { delta: string }).delta, "a");
  await live.return();
  assert.equal(sink.wanted, false);
  assert.equal(signal.aborted, false, "the plain reader still wants the run");
  await plain.return();
  await waiting;
  assert.equal(signal.aborted, true, "the last reader left: the run is cancelled");
  await assert.rejects(Array.fromAsync(response.stream()), { name: "AbortError" });
});

Deno.test("sharedEnds() finds the longest shared start and end, not overlapping", () => {
  const random = prng(11);
  const naive = (a: string, b: string) => {
    const n = Math.min(a.length, b.length);
    let prefix = 0;
    while (prefix < n && a[prefix] === b[prefix]) prefix++;
    let suffix = 0;
    while (suffix < n - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
    return { prefix, suffix };
  };
  for (let i = 0; i < 500; i++) {
    const length = Math.floor(random() * (i % 10 === 0 ? 300_000 : 3_000));
    let a = "";
    while (a.length < length) a += "ab cd\n"[Math.floor(random() * 6)];
    const at = Math.floor(random() * (a.length + 1));
    const b = a.slice(0, at) + "xy ".slice(0, Math.floor(random() * 4)) +
      a.slice(at + Math.floor(random() * 5));
    assert.deepEqual(sharedEnds(a, b), naive(a, b));
  }
});

Deno.test("HTML read again after an edit gives the tokens and blocks of a whole reading", () => {
  const random = prng(5);
  const pieces = [
    "x",
    " ",
    "<p>",
    "</p>",
    "<b>",
    "</b>",
    "<pre>",
    "</pre>",
    "<!-- c -->",
    "<",
    ">",
    "\n",
    "<li>",
    "</li>",
    "<br>",
    "&amp;",
    "<code>",
    "</code>",
    '"',
    "<p class='a>b'>",
    "<script>",
    "</script>",
    "some words ",
    "<!--",
    "-->",
    "<pre/>",
    "</",
    "<div>",
  ];
  const pick = () => pieces[Math.floor(random() * pieces.length)];
  const shape = (parsed: { tokens: unknown[]; blocks: unknown[] }) => JSON.stringify(parsed);
  for (let i = 0; i < 1500; i++) {
    const old = Array.from({ length: 10 + Math.floor(random() * 60) }, pick).join("");
    const at = Math.floor(random() * (old.length + 1));
    const inserted = Array.from({ length: Math.floor(random() * 3) }, pick).join("");
    const text = old.slice(0, at) + inserted + old.slice(at + Math.floor(random() * 8));
    const { whole, edited } = parseBoth(old, text);
    assert.equal(shape(edited), shape(whole), JSON.stringify({ old, text }));
  }
});

Deno.test("processText() after an edit gives what a first run over the edited text gives", async () => {
  const random = prng(9);
  const ai = createAI({
    BACKENDS: { default: { CLASS: Upper, CONFIG: { MODEL_ID: "upper", TOKEN_LIMIT: 400 } } },
  });
  for (const format of ["html", "text", "markdown"] as const) {
    const blocks = Array.from({ length: 60 }, (_, i) => `Block ${i} has some words ${random()}`);
    const render = (list: string[]) =>
      format === "html"
        ? list.map((b, i) => (i % 7 === 0 ? `<h2>${b}</h2>` : `<p>${b} <b>x</b></p>`)).join("\n")
        : format === "markdown"
        ? list.map((b, i) => (i % 7 === 0 ? `## ${b}` : `- ${b}`)).join("\n\n")
        : list.join("\n\n");
    const cache = createMemoryCache();
    await ai.processText({ prompt: "correction", text: render(blocks), format, cache }).text();
    blocks[30] = "An edited block, longer than it was before the edit";
    blocks.splice(45, 1);
    const edited = render(blocks);
    const again = await Array.fromAsync(
      ai.processText({ prompt: "correction", text: edited, format, cache }),
    );
    clearDocumentMemos();
    const fresh = await Array.fromAsync(
      ai.processText({ prompt: "correction", text: edited, format, cache }),
    );
    const strip = (events: DocumentEvent[]) => events.map(({ cached: _, ...event }) => event);
    assert.deepEqual(strip(again), strip(fresh), format);
  }
});
