// Defects found in review of ai.processText(): answers that inject markup,
// truncated answers, chunk bounds, Markdown blocks, cache keys, a slow cache.
import assert from "node:assert/strict";
import { type AISettings, createAI, createMemoryCache, type DocumentEvent } from "../mod.ts";
import { type Peer, type RecordedRequest, startPeer } from "./_peer.ts";
import { tempUserDir } from "./_llm.ts";

/** A user directory declaring the peer's gpt-4o, for LLM backends. */
function peerModelDir(peer: Peer) {
  return tempUserDir({
    "extra-openai-models.yaml": `- model_id: gpt-4o\n  api_base: "${peer.url}"\n`,
  });
}

function settingsFor(peer: Peer, config: Record<string, unknown> = {}): AISettings {
  return {
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o",
          TOKEN_LIMIT: 2000,
          OPENAI_API_KEY: "sk-test",
          API_BASE: peer.url,
          MAX_RETRIES: 0,
          ...config,
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

function chunkRequests(peer: Peer): RecordedRequest[] {
  return peer.requests.filter((request) => request.path.endsWith("/chat/completions"));
}

async function eventsOf(response: AsyncIterable<DocumentEvent>): Promise<DocumentEvent[]> {
  const events: DocumentEvent[] = [];
  for await (const event of response) events.push(event);
  return events;
}

/** The tags of an HTML text, in order. */
function tagsOf(html: string): string[] {
  return html.match(/<[^>]+>/g) ?? [];
}

const INJECTIONS = [
  "Fixed text <img src=x onerror=alert(1)",
  "Fixed <img src=x onerror=alert(1)//",
  "Fixed <!-- swallow",
  "Fixed </ p>text",
  "Fixed <scr<script>ipt>",
];

Deno.test("processText() never lets an HTML answer's text become markup (replace)", async () => {
  for (const injection of INJECTIONS) {
    await using peer = await startPeer({
      handler: (request) => ({ text: chunkOf(request).replace("Teh text.", injection) }),
    });
    const ai = createAI(settingsFor(peer));
    const text = "<div><p>Teh text.</p>\n<p>More.</p></div>";
    const result = await ai.processText({ prompt: "correction", text, format: "html" }).text();
    // However the browser reads it, the answer added no tag: every "<" of it is text.
    assert.deepEqual(tagsOf(result), tagsOf(text), `${injection} -> ${result}`);
    assert.ok(!result.includes("<img"), result);
    assert.ok(!result.includes("<!--"), result);
  }
});

Deno.test("processText() keeps the answer's '<' as text in a piece of a long HTML block", async () => {
  await using peer = await startPeer({
    handler: (request) => ({
      text: chunkOf(request).replace("alpha", "alpha </ p"),
    }),
  });
  const ai = createAI(settingsFor(peer));
  const sentence = "Word alpha <b>bold</b> then more words here. ";
  const text = `<p>${sentence.repeat(40)}</p>`;
  const result = await ai.processText({ prompt: "correction", text, format: "html", chunkSize: 60 })
    .text();
  assert.ok(chunkRequests(peer).length > 1, "the block was not cut");
  assert.deepEqual(tagsOf(result), tagsOf(text));
  assert.ok(result.includes("alpha &lt;/ p"), result);
  assert.ok(!result.includes("alpha </"), result);
});

Deno.test("processText() appends HTML without elements or attributes the document does not have", async () => {
  const answers = [
    '<p>Next.</p><img src=x onerror="alert(1)">',
    "<p>Next.</p><script>alert(1)</script>",
    '<p onclick="alert(1)">Next.</p>',
    '<a href="javascript:alert(1)">x</a>',
    "Next <img src=x onerror=alert(1)",
    "<p>Next.</p><iframe src=//evil></iframe>",
  ];
  for (const answer of answers) {
    await using peer = await startPeer({ handler: () => ({ text: answer }) });
    const ai = createAI(settingsFor(peer));
    const text = '<p>Teh <a href="https://example.com">text</a>.</p>';
    const result = await ai.processText({ prompt: "completion", text, format: "html" }).text();
    for (const bad of ["<img", "<script", "onclick", "javascript:", "<iframe"]) {
      assert.ok(!result.includes(bad), `${answer} -> ${result}`);
    }
    assert.ok(result.startsWith(text.slice(0, -4)));
  }
  // The document's own inline tags and plain blocks come through.
  await using peer = await startPeer({
    handler: () => ({ text: "<p>Next <strong>bold</strong> one.</p>" }),
  });
  const ai = createAI(settingsFor(peer));
  const text = "<p>Teh <strong>text</strong>.</p>";
  const result = await ai.processText({ prompt: "completion", text, format: "html" }).text();
  assert.equal(result, text + "\n<p>Next <strong>bold</strong> one.</p>");
});

Deno.test("processText() keeps the original of a chunk whose answer was cut by the output cap", async () => {
  for (const stream of [false, true]) {
    await using peer = await startPeer({
      handler: (request) => ({
        text: chunkOf(request).replace("Teh", "The").slice(0, 10),
        finishReason: "length",
      }),
    });
    const ai = createAI(settingsFor(peer));
    const text = "Teh first paragraph is here.\n\nTeh second one.";
    const response = ai.processText({ prompt: "correction", text });
    const events = stream
      ? (await Array.fromAsync(response.stream())).filter((e): e is DocumentEvent =>
        "original" in e
      )
      : await eventsOf(response);
    assert.equal(await response.text(), text);
    assert.ok(events.length > 0);
    for (const event of events) {
      assert.equal(event.kept, "answer truncated");
      assert.equal(event.replacement, event.original);
    }
  }
});

Deno.test("processText() refuses a truncated append answer", async () => {
  await using peer = await startPeer({
    handler: () => ({ text: "And then it", finishReason: "length" }),
  });
  const ai = createAI(settingsFor(peer));
  const text = "Once upon a time.";
  const response = ai.processText({ prompt: "completion", text });
  const events = await eventsOf(response);
  assert.equal(await response.text(), text);
  assert.equal(events[0].kept, "answer truncated");
});

Deno.test("processText() sizes chunks so that prompt, chunk and answer fit TOKEN_LIMIT and max_tokens", async () => {
  await using peer = await startPeer({ handler: (request) => ({ text: chunkOf(request) }) });
  await using dir = await peerModelDir(peer);
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "llm",
        CONFIG: {
          MODEL_ID: "gpt-4o",
          TOKEN_LIMIT: 4000,
          INIT_KWARGS: { key: "sk-test" },
          PROMPT_KWARGS: { max_tokens: 50 },
        },
      },
    },
  }, { llmUserPath: dir.path });
  const text = Array.from(
    { length: 20 },
    (_, i) => `Paragraph ${i} has some words in it. `.repeat(4),
  )
    .join("\n\n");
  await ai.processText({ prompt: "correction", text }).text();
  const counter = await (await import("../tokens.ts")).getTokenCounter("gpt-4o");
  // The LLM backend sends the prompt and the chunk in one message, joined by "\n".
  const prompt = ai.getPrompt("correction").prompt;
  const requests = chunkRequests(peer);
  assert.ok(requests.length >= 20);
  for (const request of requests) {
    const chunk = chunkOf(request).slice(prompt.length + 1);
    assert.ok(text.includes(chunk));
    assert.ok(counter(chunk) <= 50, `a chunk of ${counter(chunk)} tokens cannot be answered in 50`);
  }
});

Deno.test("processText() never sends Markdown HTML blocks or indented code", async () => {
  await using peer = await startPeer({ handler: (request) => ({ text: chunkOf(request) }) });
  const ai = createAI(settingsFor(peer));
  const text = [
    "Teh intro.",
    '<div class="note">\nteh html block\n</div>',
    "    teh indented code",
    "Teh end.",
    "<!-- teh comment -->",
    "* item one\n\n      teh indented code in a list",
  ].join("\n\n");
  const result = await ai.processText({ prompt: "correction", text, format: "markdown" }).text();
  assert.equal(result, text);
  const sent = chunkRequests(peer).map(chunkOf).join("\n");
  for (const secret of ["teh html block", "teh indented code", "teh comment", "<div"]) {
    assert.ok(!sent.includes(secret), `"${secret}" was sent: ${sent}`);
  }
});

Deno.test("processText() refuses a Markdown answer that changes its block structure", async () => {
  // (An answer wrapped whole in a code fence is unwrapped: models do that.)
  const answers = [
    "# The intro.",
    "- The intro.",
    "The intro.\n```",
    "The\n\nintro.",
    "> The intro.",
    "1. The intro.",
    "The intro.\n===",
    "<div>The intro.",
    // One-column table delimiter rows: GFM renderers make the line above a table header.
    "The intro.\n---|",
    "The intro.\n|---",
    "The intro.\n:-:",
    "The intro.\n| :--- |",
  ];
  for (const answer of answers) {
    await using peer = await startPeer({ handler: () => ({ text: answer }) });
    const ai = createAI(settingsFor(peer));
    const text = "Teh intro.";
    const response = ai.processText({ prompt: "correction", text, format: "markdown" });
    const events = await eventsOf(response);
    assert.equal(await response.text(), text, `${JSON.stringify(answer)} accepted`);
    assert.equal(events[0].kept, "markup changed");
  }
});

Deno.test("processText() cache keys differ by method, prompt, format and backend settings", async () => {
  await using peer = await startPeer({
    handler: (request) => ({ text: `A${chunkRequests(peer).length}: ` + chunkOf(request) }),
  });
  const cache = createMemoryCache();
  const text = "Teh text.";
  await using dir = await peerModelDir(peer);
  const config = { MODEL_ID: "gpt-4o", TOKEN_LIMIT: 4000, INIT_KWARGS: { key: "sk-test" } };
  const ai = createAI({
    BACKENDS: {
      default: { CLASS: "llm", CONFIG: config },
      hot: { CLASS: "llm", CONFIG: { ...config, PROMPT_KWARGS: { temperature: 1.5 } } },
    },
  }, { llmUserPath: dir.path });
  await ai.processText({ prompt: "correction", text, cache }).text();
  await ai.processText({ prompt: "correction", text, cache, format: "markdown" }).text();
  await ai.processText({
    prompt: { PROMPT: ai.getPrompt("correction").prompt, METHOD: "append" },
    text,
    cache,
  }).text();
  await ai.processText({
    prompt: { PROMPT: ai.getPrompt("correction").prompt, METHOD: "replace", BACKEND: "hot" },
    text,
    cache,
  }).text();
  assert.equal(chunkRequests(peer).length, 4);
  // The same again: all from the cache.
  await ai.processText({ prompt: "correction", text, cache }).text();
  assert.equal(chunkRequests(peer).length, 4);
});

Deno.test("processText() stops waiting for a cache get or set that never settles when the signal aborts", async () => {
  await using peer = await startPeer({ handler: (request) => ({ text: chunkOf(request) }) });
  const ai = createAI(settingsFor(peer));
  for (const stuck of ["get", "set"] as const) {
    const never = new Promise<never>(() => {});
    const map = new Map<string, string>();
    let called: () => void = () => {};
    const reached = new Promise<void>((resolve) => called = resolve);
    const cache = {
      get: (key: string) => {
        if (stuck === "get") {
          called();
          return never;
        }
        return map.get(key);
      },
      set: (key: string, answer: string): Promise<void> | undefined => {
        if (stuck === "set") {
          called();
          return never;
        }
        map.set(key, answer);
        return undefined;
      },
    };
    const controller = new AbortController();
    const run = ai.processText({
      prompt: "correction",
      text: "Teh text.",
      cache,
      signal: controller.signal,
    }).text();
    await reached;
    controller.abort(new Error("stop " + stuck));
    await assert.rejects(run, new RegExp("stop " + stuck));
  }
});

Deno.test("processText() re-sends only the first chunk after an edit of the document's first word", async () => {
  await using peer = await startPeer({ handler: (request) => ({ text: chunkOf(request) }) });
  const ai = createAI(settingsFor(peer, { TOKEN_LIMIT: 1000 }));
  const words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split(" ");
  const block = (i: number) =>
    `Block ${i} ` + Array.from({ length: 25 + (i % 9) }, (_, w) => words[(i + w) % 10]).join(" ");
  for (const format of ["text", "html", "markdown"] as const) {
    const blocks = Array.from({ length: 80 }, (_, i) => block(i));
    const wrap = (list: string[]) =>
      format === "html" ? list.map((b) => `<p>${b}.</p>`).join("\n") : list.join(".\n\n") + ".";
    const cache = createMemoryCache();
    peer.reset();
    const first = await eventsOf(
      ai.processText({ prompt: "correction", text: wrap(blocks), cache, format }),
    );
    assert.ok(first.length >= 8, `${format}: only ${first.length} chunks`);
    assert.equal(chunkRequests(peer).length, first.length);
    for (const edit of ["Chapter", "A much longer first word than before, by far"]) {
      peer.reset();
      const edited = [blocks[0].replace("Block", edit), ...blocks.slice(1)];
      const events = await eventsOf(
        ai.processText({ prompt: "correction", text: wrap(edited), cache, format }),
      );
      const sent = chunkRequests(peer).length;
      assert.ok(
        sent >= 1 && sent <= 2,
        `${format}, "${edit}": ${sent} of ${events.length} re-sent`,
      );
      assert.equal(events.filter((event) => !event.cached).length, sent);
    }
  }
});

Deno.test("check() reports a PROMPTS entry whose BACKEND is not a backend, naming the prompt and the alias", () => {
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
    PROMPTS: {
      shorten: { LABEL: "Shorten", PROMPT: "Make it shorter.", METHOD: "replace", BACKEND: "nope" },
      tidy: { LABEL: "Tidy", PROMPT: "Tidy it.", METHOD: "replace", BACKEND: "default" },
    },
  });
  const problems = ai.check();
  assert.equal(problems.length, 1);
  assert.equal(problems[0].name, "InvalidAIBackendError");
  assert.match(
    problems[0].message,
    /^PROMPTS\["shorten"\] has BACKEND "nope", which is not a backend/,
  );
});
