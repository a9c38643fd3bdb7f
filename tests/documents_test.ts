// ai.processText() against the test peer (real HTTP, the real openai client):
// chunks in place, markup kept, concurrency, the answer cache, append, abort
// and errors.
import assert from "node:assert/strict";
import {
  type AIEvent,
  type AIResponse,
  type AISettings,
  APIError,
  ContextLengthError,
  createAI,
  createMemoryCache,
  type DocumentEvent,
  type DocumentResponse,
  OpenAIBackend,
  type PromptWithContextOptions,
  UnknownPromptError,
} from "../mod.ts";
import { type Peer, type RecordedRequest, startPeer } from "./_peer.ts";

function settingsFor(peer: Peer, tokenLimit = 300, noting = false): AISettings {
  return {
    BACKENDS: {
      default: {
        CLASS: noting ? NotingBackend : "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o",
          TOKEN_LIMIT: tokenLimit,
          OPENAI_API_KEY: "sk-test",
          API_BASE: peer.url,
          MAX_RETRIES: 0,
        },
      },
    },
  };
}

/** The text of the last user message of a chat request (the chunk). */
function chunkOf(request: RecordedRequest): string {
  // deno-lint-ignore no-explicit-any
  const user = request.body.messages.filter((message: any) => message.role === "user").at(-1);
  return typeof user.content === "string" ? user.content : user.content[0].text;
}

/** The correction: "teh" is "the". */
function fix(text: string): string {
  return text.replaceAll(/\b([Tt])eh\b/g, "$1he");
}

/** What the peer's "model" does: correct "teh", and write paragraphs with plain breaks. */
function correct(text: string): string {
  return fix(text).replaceAll(/\n\s*\n/g, "\n\n");
}

/** The signals of every request, from a backend that notes them (real requests all the same). */
const signals: AbortSignal[] = [];
class NotingBackend extends OpenAIBackend {
  override promptWithContext(options: PromptWithContextOptions): AIResponse {
    signals.push(options.signal!);
    return super.promptWithContext(options);
  }
}

function chunkRequests(peer: Peer): RecordedRequest[] {
  return peer.requests.filter((request) => request.path.endsWith("/chat/completions"));
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition(), `not reached: ${what}`);
}

async function eventsOf(response: DocumentResponse): Promise<DocumentEvent[]> {
  const events: DocumentEvent[] = [];
  for await (const event of response) events.push(event);
  return events;
}

const SEPARATORS = ["\n\n", "\n  \n", "\r\n\r\n", "\n\n\n", "\n\t\n\n"];

function paragraphs(count: number, seed = 0): string {
  const words = "content editor page article model window chunk sentence correct words".split(" ");
  let text = "";
  for (let i = 0; i < count; i++) {
    let paragraph = `Paragraph ${i + seed} says teh`;
    for (let w = 0; w < 18 + (i % 7); w++) paragraph += ` ${words[(i * 7 + w * 3) % words.length]}`;
    text += paragraph + ". Teh end, or teh start." + (i + 1 < count ? SEPARATORS[i % 5] : "\n");
  }
  return text;
}

/** Holds each request until `width` are waiting (or every one has come), then answers them all. */
function gate(
  peer: Peer,
  width: number,
  total: number,
  answer: (request: RecordedRequest) => string,
) {
  let arrived = 0;
  let waiting: (() => void)[] = [];
  const state = { timedOut: false };
  peer.setHandler(async (request) => {
    if (!request.path.endsWith("/chat/completions")) return {};
    arrived++;
    const released = new Promise<void>((resolve) => waiting.push(resolve));
    const release = () => {
      const now = waiting;
      waiting = [];
      for (const wake of now) wake();
    };
    if (waiting.length >= width || arrived === total) release();
    // A safety net only: the test fails if the gate ever has to open by time.
    const timer = setTimeout(() => {
      state.timedOut = true;
      release();
    }, 20_000);
    await released;
    clearTimeout(timer);
    return { text: answer(request) };
  });
  return state;
}

Deno.test("processText() replaces 30 paragraphs in place, separators kept byte for byte, 4 requests at once", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correct(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer));
  const text = paragraphs(30);
  // A first run counts the chunks (the same text gives the same chunks).
  const first = await eventsOf(ai.processText({ prompt: "correction", text }));
  const total = first.length;
  assert.ok(total >= 12, `only ${total} chunks`);
  peer.reset();
  peer.resetMaxActive();
  const held = gate(peer, 4, total, (request) => correct(chunkOf(request)));

  const response = ai.processText({ prompt: "correction", text });
  const events = await eventsOf(response);
  const result = await response.text();
  assert.equal(held.timedOut, false, "the library never had 4 requests in flight");
  assert.equal(peer.maxActive, 4);
  assert.equal(chunkRequests(peer).length, total);
  // Every answer in place, every separator as it was.
  assert.equal(result, fix(text));
  assert.equal(events.length, total);
  let previousEnd = 0;
  for (const [index, event] of events.entries()) {
    assert.equal(event.index, index);
    assert.equal(event.total, total);
    assert.equal(event.cached, false);
    assert.equal(event.kept, undefined);
    assert.equal(event.original, text.slice(event.start, event.end));
    assert.equal(event.replacement, fix(event.original));
    assert.ok(event.start >= previousEnd);
    // Between chunks: only the original whitespace.
    assert.match(text.slice(previousEnd, event.start), /^\s*$/);
    previousEnd = event.end;
  }
  // Each request is one chunk as it is in the text.
  for (const request of chunkRequests(peer)) assert.ok(text.includes(chunkOf(request)));
});

Deno.test("processText() sends at most `concurrency` chunks at once", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correct(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer));
  const text = paragraphs(30);
  const total = (await eventsOf(ai.processText({ prompt: "correction", text }))).length;
  for (const concurrency of [1, 2]) {
    peer.reset();
    peer.resetMaxActive();
    const held = gate(peer, concurrency, total, (request) => correct(chunkOf(request)));
    const result = await ai.processText({ prompt: "correction", text, concurrency }).text();
    assert.equal(held.timedOut, false);
    assert.equal(peer.maxActive, concurrency);
    assert.equal(result, fix(text));
  }
});

const HTML = `<!DOCTYPE html>
<html><head><title>teh page</title><style>p { color: red } /* teh */</style></head>
<body>
  <h1 class="title" id="top">Teh title &amp; its subtitle</h1>
  <p>Teh <strong>bold <em>and teh nested</em></strong> text, with a
     <a href="https://example.com/?a=1&amp;b=teh" title='Teh "link"'>teh link</a> &mdash; and&nbsp;teh entities &#8217;.</p>
  <pre><code class="language-js">const teh = "<p>not a block</p>";
  // teh code</code></pre>
  <ul>
    <li>Teh first item</li>
    <li>Teh second <code>teh()</code> item</li>
  </ul>
  <table>
    <tr><th>Teh head</th><td data-x="teh">teh cell</td></tr>
  </table>
  <script>const teh = 1;</script>
</body></html>
`;

/** The tags of an HTML text, in order. */
function tagsOf(html: string): string[] {
  return html.match(/<[^>]+>/g) ?? [];
}

/** Corrects "teh" in the text between tags only (what a careful model does). */
function correctBetweenTags(html: string): string {
  return html.replaceAll(/>([^<]*)</g, (_, between: string) => `>${correct(between)}<`)
    .replace(/^[^<]*/, (start) => correct(start)).replace(/[^>]*$/, (end) => correct(end));
}

Deno.test("processText() keeps HTML markup: nested inline tags, attributes, entities, pre, a list, a table", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correctBetweenTags(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer, 2000));
  const result = await ai.processText({ prompt: "correction", text: HTML, format: "html" }).text();
  // The structure is identical, tag for tag (attributes included).
  assert.deepEqual(tagsOf(result), tagsOf(HTML));
  const expected = HTML
    .replace("Teh title &amp;", "The title &amp;")
    .replace("<p>Teh <strong>", "<p>The <strong>")
    .replace("and teh nested", "and the nested")
    .replace(">teh link<", ">the link<")
    .replace("and&nbsp;teh entities", "and&nbsp;the entities")
    .replace("Teh first item", "The first item")
    .replace("<li>Teh second", "<li>The second")
    .replace("Teh head", "The head")
    .replace(">teh cell<", ">the cell<");
  assert.equal(result, expected);
  // pre, code, script, style and the head are never sent; attributes stay even when sent.
  const sent = chunkRequests(peer).map(chunkOf).join("\n");
  for (
    const secret of ["not a block", "teh code", "teh()", "const teh = 1", "color: red", "teh page"]
  ) {
    assert.ok(!sent.includes(secret), `"${secret}" was sent`);
  }
  assert.ok(sent.includes('href="https://example.com/?a=1&amp;b=teh"'));
  assert.ok(sent.includes("&mdash;"));
});

Deno.test("processText() keeps the original of an HTML chunk whose answer drops a tag, and reports it", async () => {
  await using peer = await startPeer({
    handler: (request) => {
      const chunk = chunkOf(request);
      // This "model" loses the <em> tags (and corrects the rest).
      return { text: correctBetweenTags(chunk).replaceAll(/<\/?em>/g, "") };
    },
  });
  const ai = createAI(settingsFor(peer, 300));
  const response = ai.processText({ prompt: "correction", text: HTML, format: "html" });
  const events = await eventsOf(response);
  const result = await response.text();
  assert.deepEqual(tagsOf(result), tagsOf(HTML));
  const kept = events.filter((event) => event.kept !== undefined);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].kept, "markup changed");
  assert.ok(kept[0].original.includes("<em>and teh nested</em>"));
  assert.equal(kept[0].replacement, kept[0].original);
  assert.ok(result.includes("<em>and teh nested</em>"));
  // The other chunks were corrected.
  const others = events.filter((event) => event.kept === undefined);
  assert.ok(others.length >= 1);
  const withoutCode = (html: string) => html.replaceAll(/<code>[^<]*<\/code>/g, "<code></code>");
  for (const event of others) {
    assert.equal(withoutCode(event.replacement), correctBetweenTags(withoutCode(event.original)));
    assert.deepEqual(tagsOf(event.replacement), tagsOf(event.original));
  }
  assert.ok(result.includes(">the cell<"));
});

Deno.test("processText() cuts an HTML block too long for one chunk at sentences, closing and reopening its inline tags", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correctBetweenTags(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer, 300));
  const sentences = Array.from(
    { length: 24 },
    (_, i) => `Sentence ${i} has teh words of a long paragraph in it.`,
  );
  const text = `<p class="long">${sentences.slice(0, 10).join(" ")} <strong>${
    sentences.slice(10, 20).join(" ")
  }</strong> ${sentences.slice(20).join(" ")}</p>\n<p>Teh next.</p>`;
  const result = await ai.processText({ prompt: "correction", text, format: "html" }).text();
  assert.equal(result, fix(text));
  const sent = chunkRequests(peer).map(chunkOf);
  assert.ok(sent.length >= 3, `only ${sent.length} requests`);
  for (const chunk of sent) {
    // Each request is balanced HTML: every tag opened is closed.
    const stack: string[] = [];
    for (const tag of tagsOf(chunk)) {
      const name = /^<\/?([a-z]+)/.exec(tag)![1];
      if (!tag.startsWith("</")) stack.push(name);
      else assert.equal(stack.pop(), name, chunk);
    }
    assert.deepEqual(stack, [], chunk);
  }
  assert.ok(sent.some((chunk) => chunk.startsWith('<p class="long"><strong>')));
});

const MARKDOWN = `---
title: teh front matter
---

# Teh heading

Teh paragraph with \`teh code\`, a [teh link](https://example.com/teh) and **teh bold**.
It goes on a second line.

- Teh item one
- Teh item two
  continued teh

> Teh quote

\`\`\`js
const teh = "fenced";
\`\`\`

| teh | table |
| --- | ----- |
| teh | cell  |
`;

Deno.test("processText() keeps Markdown structure: marks, code and tables never sent; marks checked", async () => {
  // A careless "model": it corrects inside code spans too.
  await using peer = await startPeer({
    handler: (request) => ({ text: fix(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer, 2000));
  const result = await ai.processText({ prompt: "correction", text: MARKDOWN, format: "markdown" })
    .text();
  // The model also "corrected" inside the code span: that chunk keeps its original.
  assert.equal(result, MARKDOWN);
  const sent = chunkRequests(peer).map(chunkOf).join("\n");
  for (const secret of ["front matter", "fenced", "| teh |", "# Teh", "- Teh", "> Teh"]) {
    assert.ok(!sent.includes(secret), `"${secret}" was sent`);
  }
  // A careful one leaves code spans and link targets alone.
  peer.setHandler((request) => ({
    text: chunkOf(request).replaceAll(
      /(`[^`]*`|\]\([^)]*\))|\b([Tt])eh\b/g,
      (_, keep: string | undefined, t: string) => keep ?? `${t}he`,
    ),
  }));
  const fixed = await ai.processText({ prompt: "correction", text: MARKDOWN, format: "markdown" })
    .text();
  assert.equal(
    fixed,
    MARKDOWN.replace("# Teh heading", "# The heading")
      .replace("Teh paragraph", "The paragraph")
      .replace("[teh link]", "[the link]")
      .replace("**teh bold**", "**the bold**")
      .replace("- Teh item one", "- The item one")
      .replace("- Teh item two", "- The item two")
      .replace("continued teh", "continued the")
      .replace("> Teh quote", "> The quote"),
  );
});

Deno.test("processText() with a cache: an edited paragraph re-sends at most two chunks; the same run sends none", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correct(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer, 300));
  const cache = createMemoryCache();
  const text = paragraphs(40);
  const first = await eventsOf(ai.processText({ prompt: "correction", text, cache }));
  assert.ok(first.length >= 15, `only ${first.length} chunks`);
  assert.equal(chunkRequests(peer).length, first.length);

  peer.reset();
  const again = ai.processText({ prompt: "correction", text, cache });
  const events = await eventsOf(again);
  assert.equal(chunkRequests(peer).length, 0);
  assert.ok(events.every((event) => event.cached));
  assert.equal(await again.text(), fix(text));

  const paragraphsOf = text.split(/(?<=\n)(?=Paragraph)/);
  const edits: [string, (paragraph: string) => string][] = [
    ["a word changed", (p) => p.replace("editor", "author")],
    [
      "grown by a fifth",
      (p) => p.replace(/\.\s*$/, (end) => ` ${p.slice(20, 20 + p.length / 5)}${end}`),
    ],
    ["shrunk by a fifth", (p) => p.replace(/ \w+ \w+ \w+ \w+/, "")],
  ];
  for (const [index, [what, edit]] of edits.entries()) {
    for (const at of [5 + index, 17 + index, 30 + index]) {
      const edited = paragraphsOf.map((p, i) => (i === at ? edit(p) : p)).join("");
      if (what === "grown by a fifth") {
        assert.ok(edited.length - text.length >= paragraphsOf[at].length / 5 - 2);
      }
      peer.reset();
      const result = await ai.processText({ prompt: "correction", text: edited, cache }).text();
      assert.equal(result, fix(edited), what);
      const sent = chunkRequests(peer).length;
      assert.ok(sent >= 1 && sent <= 2, `${what} in paragraph ${at}: ${sent} requests`);
    }
  }
});

Deno.test("processText() with a cache re-sends little of an edited HTML page", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correctBetweenTags(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer, 300));
  const cache = createMemoryCache();
  const blocks = paragraphs(40).trim().split(/\s*\n\s*\n\s*/);
  const html = blocks.map((block, i) => (i % 5 === 0 ? `<h2>${block}</h2>` : `<p>${block}</p>`))
    .join("\n");
  await ai.processText({ prompt: "correction", text: html, format: "html", cache }).text();
  const edited = html.replace("Paragraph 21 says", "Paragraph 21 now says, after an edit,");
  peer.reset();
  const result = await ai.processText({ prompt: "correction", text: edited, format: "html", cache })
    .text();
  assert.equal(result, correctBetweenTags(edited));
  assert.ok(chunkRequests(peer).length <= 2, `${chunkRequests(peer).length} requests`);
});

Deno.test("processText() with an append prompt adds the answer after the text", async () => {
  await using peer = await startPeer({ handler: () => ({ text: "And then it ended." }) });
  const ai = createAI(settingsFor(peer, 2000));
  const text = "It was a dark night.\n";
  const response = ai.processText({ prompt: "completion", text });
  const events = await eventsOf(response);
  assert.equal(await response.text(), "It was a dark night. And then it ended.\n");
  assert.equal(events.length, 1);
  assert.equal(events[0].start, text.indexOf("\n"));
  assert.equal(events[0].end, events[0].start);
  assert.equal(events[0].original, "");
  assert.equal(events[0].replacement, " And then it ended.");
  // The whole text went with the prompt.
  assert.equal(chunkOf(peer.lastRequest()), text);
  const html = await ai.processText({
    prompt: "completion",
    text: "<p>It was a <em>dark</em> night.</p>\n",
    format: "html",
  }).text();
  assert.equal(html, "<p>It was a <em>dark</em> night. And then it ended.</p>\n");
});

Deno.test("processText() refuses append text over the window with ContextLengthError, sending nothing", async () => {
  await using peer = await startPeer();
  const ai = createAI(settingsFor(peer, 300));
  const response = ai.processText({ prompt: "completion", text: paragraphs(30) });
  await assert.rejects(response.text(), (error: unknown) => {
    assert.ok(error instanceof ContextLengthError);
    assert.match(error.message, /^Cannot run completion on text this long/);
    assert.match(error.message, /"gpt-4o"/);
    assert.equal(error.contextWindow, 300);
    assert.ok(error.promptTokens! > 300);
    return true;
  });
  // Reading again gives the same error, still without a request.
  await assert.rejects(eventsOf(response), ContextLengthError);
  assert.equal(peer.requests.length, 0);
});

/** Every request's signal has aborted (the client ends its request: the peer may not notice). */
function assertAllAborted(count: number): void {
  assert.equal(signals.length, count);
  for (const signal of signals) assert.ok(signal.aborted, "a request was left in flight");
  signals.length = 0;
}

Deno.test("processText(): an abort mid-document ends every request in flight", async () => {
  await using peer = await startPeer({ handler: () => ({ delayMs: 60_000, text: "late" }) });
  const ai = createAI(settingsFor(peer, 300, true));
  signals.length = 0;
  const controller = new AbortController();
  const response = ai.processText({
    prompt: "correction",
    text: paragraphs(30),
    signal: controller.signal,
  });
  const reading = eventsOf(response);
  await waitFor(() => peer.active === 4, "4 requests in flight");
  controller.abort();
  await assert.rejects(reading, { name: "AbortError" });
  await assert.rejects(response.text(), { name: "AbortError" });
  assert.equal(chunkRequests(peer).length, 4);
  assertAllAborted(4);
});

Deno.test("processText(): the first failing chunk aborts the others and rejects with its typed error", async () => {
  await using peer = await startPeer({
    handler: (request) =>
      chunkOf(request).includes("Paragraph 2 ")
        ? {
          status: 400,
          error: { message: "This chunk is refused", type: "invalid_request_error" },
        }
        : { delayMs: 60_000, text: "late" },
  });
  const ai = createAI(settingsFor(peer, 300, true));
  signals.length = 0;
  const response = ai.processText({ prompt: "correction", text: paragraphs(30) });
  await assert.rejects(response.text(), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 400);
    assert.match(error.message, /This chunk is refused/);
    return true;
  });
  // At most the first four chunks were asked for (some may have been aborted before they left).
  const asked = signals.length;
  assert.ok(asked >= 1 && asked <= 4, `${asked} chunks asked for`);
  assert.ok(chunkRequests(peer).length <= asked);
  assertAllAborted(asked);
});

Deno.test("processText() checks its arguments at the call, naming them", async () => {
  await using peer = await startPeer();
  const ai = createAI(settingsFor(peer));
  assert.throws(
    () => ai.processText({ prompt: "translate", text: "x" }),
    (error: unknown) =>
      error instanceof UnknownPromptError && /"translate"/.test(error.message) &&
      /correction, completion/.test(error.message),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => ai.processText({ prompt: "correction", text: "x", format: "xml" as any }),
    (error: unknown) => error instanceof TypeError && /^format must be/.test(error.message),
  );
  for (const concurrency of [0, 10_000, 1.5, -1]) {
    assert.throws(
      () => ai.processText({ prompt: "correction", text: "x", concurrency }),
      (error: unknown) => error instanceof RangeError && /^concurrency must be/.test(error.message),
      String(concurrency),
    );
  }
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => ai.processText({ prompt: "correction", text: 42 as any }),
    (error: unknown) => error instanceof TypeError && /^text must be a string/.test(error.message),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => ai.processText({ prompt: "correction", text: "x", cache: {} as any }),
    (error: unknown) => error instanceof TypeError && /^cache must/.test(error.message),
  );
  assert.throws(
    () => ai.processText({ prompt: "correction", text: "x", chunkSize: 0 }),
    (error: unknown) => error instanceof RangeError && /^chunkSize/.test(error.message),
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => ai.processText({ prompt: { PROMPT: "Fix it", METHOD: "rewrite" } as any, text: "x" }),
    (error: unknown) => error instanceof TypeError && /METHOD/.test(error.message),
  );
  assert.throws(
    () => ai.processText({ prompt: { LABEL: "x", PROMPT: " ", METHOD: "replace" }, text: "x" }),
    (error: unknown) => error instanceof TypeError && /PROMPT/.test(error.message),
  );
  assert.equal(peer.requests.length, 0);
});

Deno.test("processText() of an empty text sends nothing and gives an empty text", async () => {
  await using peer = await startPeer();
  const ai = createAI(settingsFor(peer));
  for (const format of ["text", "html", "markdown"] as const) {
    for (const prompt of ["correction", "completion"]) {
      const response = ai.processText({ prompt, text: "", format });
      assert.deepEqual(await eventsOf(response), []);
      assert.equal(await response.text(), "");
    }
  }
  // Nothing to send: whitespace, or content never sent, comes back as it is.
  const kept = "<pre>code</pre>\n<script>x()</script>";
  assert.equal(
    await ai.processText({ prompt: "correction", text: kept, format: "html" }).text(),
    kept,
  );
  assert.equal(await ai.processText({ prompt: "correction", text: " \n\n " }).text(), " \n\n ");
  assert.equal(peer.requests.length, 0);
});

Deno.test("processText() uses a prompt object and its BACKEND alias", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: chunkOf(request).toUpperCase() }),
  });
  const settings = settingsFor(peer, 2000);
  settings.BACKENDS!.loud = structuredClone(settings.BACKENDS!.default);
  settings.BACKENDS!.loud.CONFIG.MODEL_ID = "gpt-4o-mini";
  settings.PROMPTS = {
    shout: { LABEL: "Shout", PROMPT: "Shout the text.", METHOD: "replace", BACKEND: "loud" },
  };
  const ai = createAI(settings);
  assert.equal(await ai.processText({ prompt: "shout", text: "hello" }).text(), "HELLO");
  assert.equal(peer.lastRequest().body.model, "gpt-4o-mini");
  // deno-lint-ignore no-explicit-any
  assert.equal((peer.lastRequest().body.messages as any)[0].content[0].text, "Shout the text.");
  const custom = await ai.processText({
    prompt: { PROMPT: "Whisper.", METHOD: "replace" },
    text: "hi",
  }).text();
  assert.equal(custom, "HI");
  assert.equal(peer.lastRequest().body.model, "gpt-4o");
  const viaPrompt = await ai.processText({ prompt: ai.getPrompt("shout"), text: "yo" }).text();
  assert.equal(viaPrompt, "YO");
  assert.equal(peer.lastRequest().body.model, "gpt-4o-mini");
});

Deno.test("DocumentResponse: one run however it is read; an early break cancels the run", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correct(chunkOf(request)) }),
  });
  const ai = createAI(settingsFor(peer));
  const text = paragraphs(12);
  const response = ai.processText({ prompt: "correction", text });
  const [a, b] = await Promise.all([response.text(), response.text()]);
  assert.equal(a, b);
  const replay = await eventsOf(response);
  const requests = chunkRequests(peer).length;
  assert.equal(replay.length, requests);
  assert.equal(await response.text(), a);
  assert.equal(chunkRequests(peer).length, requests);

  peer.reset();
  peer.setHandler(() => ({ delayMs: 60_000, text: "late" }));
  signals.length = 0;
  const noting = createAI(settingsFor(peer, 300, true));
  const cancelled = noting.processText({ prompt: "correction", text });
  const iterator = cancelled[Symbol.asyncIterator]();
  const pending = iterator.next();
  await waitFor(() => peer.active === 4, "requests in flight");
  await iterator.return!(undefined);
  assert.deepEqual(await pending, { done: true, value: undefined });
  await assert.rejects(cancelled.text(), { name: "AbortError" });
  assertAllAborted(4);
});

Deno.test("processText() sends its metadata with every chunk, so every usage event carries it", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: correct(chunkOf(request)) }),
  });
  const events: AIEvent[] = [];
  const ai = createAI(settingsFor(peer), { onEvent: (event) => events.push(event) });
  const response = ai.processText({
    prompt: "correction",
    text: paragraphs(8),
    metadata: { user: "42", action: "correction" },
  });
  const chunks = await eventsOf(response);
  const answers = events.filter((event) => event.type === "answer");
  assert.equal(answers.length, chunks.length);
  for (const event of answers) {
    assert.deepEqual(event.metadata, { user: "42", action: "correction" });
  }
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => ai.processText({ prompt: "correction", text: "x", metadata: "user 42" as any }),
    (error: unknown) => error instanceof TypeError && /^metadata must be/.test(error.message),
  );
});
