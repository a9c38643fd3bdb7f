// The answer budget (issue 16, goal 3): a prompt whose size alone proves it
// fits the window with the answer cap is sent without counting and without
// loading an encoder; a prompt near the window is counted exactly once; one
// over the window is refused as before. Counting is observed at the tokenizer
// (the shared encoding's count(), which every exact counter calls) and, in a
// fresh process, by whether the encoding was loaded at all.
import assert from "node:assert/strict";
import { ContextLengthError, createAI } from "../mod.ts";
import {
  byteCeiling,
  countMessageTokens,
  countSchemaTokens,
  countUnlessUnder,
  FIT_RANGE_CHARS,
  fitsBySize,
  promptBudget,
  tokenCeiling,
  utf8Length,
} from "../_budget.ts";
import { loadEncoding } from "../_tokenizer/mod.ts";
import type { ChatMessage } from "../chat.ts";
import { startPeer } from "./_peer.ts";
import { runScript } from "./_llm.ts";

/** Counts the exact counts of texts that contain `marker`, while `fn` runs. */
async function countsOf(marker: string, fn: () => Promise<unknown>): Promise<number> {
  const encoding = await loadEncoding("o200k_base");
  let calls = 0;
  const own = Object.getOwnPropertyDescriptor(encoding, "count");
  const count = encoding.count;
  encoding.count = function (text: string): number {
    if (text.includes(marker)) calls++;
    return count.call(this, text);
  };
  try {
    await fn();
  } finally {
    if (own) Object.defineProperty(encoding, "count", own);
    else delete (encoding as { count?: unknown }).count;
  }
  return calls;
}

Deno.test("utf8Length() is the UTF-8 length of any text, lone surrogates included", () => {
  const encoder = new TextEncoder();
  for (
    const text of [
      "",
      "plain ASCII",
      "é ü ß",
      "日本語のテキスト",
      "emoji 😀👍🏽",
      "\ud800 lone",
      "end \udc00",
      "\ud83d",
    ]
  ) {
    assert.equal(utf8Length(text), encoder.encode(text).length, JSON.stringify(text));
  }
  // Long texts (the encoder's ASCII check) and ranges.
  const long = "ascii ".repeat(2000) + "é日😀 " + "tail ".repeat(1000);
  for (const [from, to] of [[0, long.length], [0, 12_000], [12_000, long.length], [5, 9000]]) {
    const part = long.slice(from, to);
    assert.equal(utf8Length(long, from, to), encoder.encode(part).length, `${from}-${to}`);
  }
});

Deno.test("tokenCeiling() and byteCeiling() are never below the exact count, for every encoding and the naive estimate", async () => {
  const texts = [
    "Hello, world! ".repeat(40),
    "日本語のテキストと中文和한국어 ".repeat(30),
    "😀👍🏽🎉 ".repeat(50),
    "x".repeat(3000),
    " \n\t ".repeat(200),
    "<|endoftext|> special ".repeat(20),
    Array.from({ length: 2000 }, (_, i) => String.fromCharCode(33 + (i * 7919) % 20000)).join(""),
  ];
  for (const model of ["gpt-4o", "gpt-4", "mistral-large"]) {
    for (const text of texts) {
      const messages: ChatMessage[] = [
        { role: "system", content: "Fix:" },
        {
          role: "user",
          content: [{ type: "text", text }, { type: "image_url", image_url: { url: "" } }],
        },
      ];
      const exact = await countMessageTokens(messages, model);
      assert.ok(
        byteCeiling(messages) >= exact,
        `${model}: bytes ${byteCeiling(messages)} < ${exact}`,
      );
      assert.ok(tokenCeiling(messages) >= byteCeiling(messages));
      // Just over the ceiling fits; the exact count's window does not prove it.
      assert.equal(fitsBySize(messages, byteCeiling(messages) + 11, 10), true);
      assert.equal(fitsBySize(messages, exact + 10, 10), exact + 10 > byteCeiling(messages) + 10);
    }
  }
});

Deno.test("a small prompt is sent without counting and without loading an encoder: OpenAI backend, provider backend, provider chain", async () => {
  await using peer = await startPeer();
  const run = await runScript(
    `
    import { createAI } from "MOD";
    import { loadedEncoding } from ${
      JSON.stringify(new URL("../_tokenizer/mod.ts", import.meta.url).href)
    };
    const base = Deno.env.get("TEST_BASE");
    const ai = createAI({
      BACKENDS: {
        default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x", API_BASE: base } },
        provider: { CLASS: "provider", CONFIG: { PROVIDER: "chain", MAX_OUTPUT_TOKENS: 500 } },
      },
      PROVIDERS: {
        chain: { provider: "openai_compatible", model: "gpt-4o-mini", api_base: base, api_key: "sk-x", fallbacks: ["spare"] },
        spare: { provider: "openai_compatible", model: "gpt-4o", api_base: base, api_key: "sk-x" },
      },
    });
    const args = { prePrompt: "Correct this paragraph:", context: "Teh cat sat on teh mat." };
    await ai.getBackend().promptWithContext(args).text();
    await ai.getAIBackend("provider").promptWithContext(args).text();
    await ai.getProvider("chain").completion({ messages: [{ role: "user", content: "Hello" }] });
    console.log(JSON.stringify({ o200k: loadedEncoding("o200k_base") !== undefined, cl100k: loadedEncoding("cl100k_base") !== undefined }));
    `,
    { TEST_BASE: peer.url },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout.trim().split("\n").at(-1)!), {
    o200k: false,
    cl100k: false,
  });
  assert.equal(peer.requests.length, 3);
  // The caps are as an exact count would make them: the model's maximum output, then MAX_OUTPUT_TOKENS.
  assert.equal(peer.requests[0].body.max_tokens, 16_384);
  assert.equal(peer.requests[1].body.max_tokens, 500);
});

Deno.test("a prompt near the window is counted exactly once: plain, with LIMITS, through a provider chain with LIMITS", async () => {
  await using peer = await startPeer();
  const context = "near-window " + "word ".repeat(3000);
  const settings = {
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: "sk-x",
          API_BASE: peer.url,
          TOKEN_LIMIT: 5000,
        },
      },
      provider: { CLASS: "provider", CONFIG: { PROVIDER: "chain", TOKEN_LIMIT: 5000 } },
    },
    PROVIDERS: {
      chain: {
        provider: "openai_compatible",
        model: "gpt-4o-mini",
        api_base: peer.url,
        api_key: "sk-x",
        context_window: 5000,
        fallbacks: ["spare"],
      },
      spare: {
        provider: "openai_compatible",
        model: "gpt-4o",
        api_base: peer.url,
        api_key: "sk-x",
      },
    },
  };
  const limits = { LIMITS: [{ key: "site", tokens_per_minute: 1e9 }] };
  const args = { prePrompt: "Correct:", context };
  for (
    const [name, ai] of [["plain", createAI(settings)], [
      "LIMITS",
      createAI({ ...settings, ...limits }),
    ]] as const
  ) {
    for (const alias of ["default", "provider"]) {
      const calls = await countsOf(
        "near-window",
        () => ai.getAIBackend(alias).promptWithContext(args).text(),
      );
      assert.equal(calls, 1, `${name}, ${alias}`);
    }
    const calls = await countsOf(
      "near-window",
      () => ai.getProvider("chain").completion({ messages: [{ role: "user", content: context }] }),
    );
    assert.equal(calls, 1, `${name}, provider chain`);
  }
  // Exact: what the window leaves after the counted prompt.
  const sent = peer.requests[0].body;
  const exact = await countMessageTokens(sent.messages, "gpt-4o-mini");
  assert.equal(sent.max_tokens, 5000 - exact);
});

Deno.test("a prompt over the window is still refused before any request, counted once, with the same error", async () => {
  await using peer = await startPeer();
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: "sk-x",
          API_BASE: peer.url,
          TOKEN_LIMIT: 100,
        },
      },
    },
  });
  const context = "over-window " + "word ".repeat(200);
  let refused: unknown;
  const calls = await countsOf("over-window", async () => {
    refused = await ai.getBackend().promptWithContext({ prePrompt: "Fix:", context }).text().then(
      () => undefined,
      (error) => error,
    );
  });
  assert.equal(calls, 1);
  assert.ok(refused instanceof ContextLengthError);
  const exact = await countMessageTokens([
    { role: "system", content: [{ type: "text", text: "Fix:" }] },
    { role: "user", content: [{ type: "text", text: context }] },
  ], "gpt-4o-mini");
  assert.equal(
    refused.message,
    `The prompt is ${exact} tokens, over the context window of model "gpt-4o-mini" (100 tokens) by ${
      exact - 100
    } tokens: split the content or raise TOKEN_LIMIT`,
  );
  assert.equal(refused.promptTokens, exact);
  assert.equal(peer.requests.length, 0);
});

Deno.test("a structured-output schema beside a small prompt is not counted; beside a near-window prompt, once", async () => {
  const schema = {
    type: "object",
    description: "schema-marker",
    properties: { title: { type: "string" } },
  };
  const small: ChatMessage[] = [{ role: "user", content: "A page about cats." }];
  let result: { promptTokens: number | undefined; budget: number } | undefined;
  const none = await countsOf("schema-marker", async () => {
    result = await promptBudget(small, { modelId: "gpt-4o-mini", tokenLimit: 128_000, schema });
  });
  assert.equal(none, 0);
  assert.deepEqual(result, { promptTokens: undefined, budget: 16_384 });
  const near: ChatMessage[] = [{ role: "user", content: "word ".repeat(3000) }];
  const once = await countsOf("schema-marker", async () => {
    result = await promptBudget(near, { modelId: "gpt-4o-mini", tokenLimit: 5000, schema });
  });
  assert.equal(once, 1);
  const exact = await countMessageTokens(near, "gpt-4o-mini") +
    await countSchemaTokens(schema, "gpt-4o-mini");
  assert.deepEqual(result, { promptTokens: exact, budget: 5000 - exact });
});

Deno.test("countUnlessUnder() stops counting once the counted part and the rest's size prove the fit, else gives the exact count", async () => {
  const encoding = await loadEncoding("o200k_base");
  const text = "word ".repeat(240_000); // 1.2 MB: ranges of FIT_RANGE_CHARS
  const messages: ChatMessage[] = [
    { role: "system", content: "Fix:" },
    { role: "user", content: [{ type: "text", text }] },
  ];
  const exact = await countMessageTokens(messages, "gpt-4o");
  let countedChars = 0;
  const countRange = encoding.countRange;
  encoding.countRange = function (t: string, from: number, to: number): number {
    countedChars += to - from;
    return countRange.call(this, t, from, to);
  };
  try {
    // Under a limit that the size alone does not prove, but the first range and the rest do.
    assert.ok(byteCeiling(messages) >= 1_000_000 && exact < 1_000_000);
    assert.equal(await countUnlessUnder(messages, "gpt-4o", 1_000_000), undefined);
    assert.ok(countedChars > 0 && countedChars <= FIT_RANGE_CHARS + 10, `${countedChars} counted`);
    // Just above the exact count: counted to the end, once.
    countedChars = 0;
    assert.equal(await countUnlessUnder(messages, "gpt-4o", exact), exact);
    assert.equal(countedChars, text.length);
    // Models without an encoding: the naive estimate, whole.
    assert.equal(
      await countUnlessUnder(messages, "mistral-large", 10),
      await countMessageTokens(messages, "mistral-large"),
    );
  } finally {
    delete (encoding as { countRange?: unknown }).countRange;
  }
  // Whatever the limit: undefined only when the exact count is under it, else the exact count.
  for (const limit of [1, exact - 1, exact, exact + 1, 400_000, 2_000_000]) {
    const result = await countUnlessUnder(messages, "gpt-4o", limit);
    if (result === undefined) assert.ok(exact < limit, `limit ${limit}`);
    else assert.equal(result, exact, `limit ${limit}`);
  }
});
