// Structured output: Provider.completeObject() on the OpenAI-compatible
// providers (the OpenAI-compatible peer) and on native Anthropic (the
// Anthropic peer): strategies, validation, the one repair, the errors.
import assert from "node:assert/strict";
import { z } from "npm:zod@^4";
import {
  ContextLengthError,
  createProvider,
  type JSONSchema,
  type Provider,
  type ProviderSettings,
  registerProvider,
  registerTokenLimit,
  type StandardSchemaLike,
  StructuredOutputError,
  unregisterProvider,
} from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";
import { type AnthropicPeer, startAnthropicPeer } from "./_anthropic_peer.ts";

const KEY = "sk-structured-secret-0123456789";

// The recipe's shape: a title of at most 60 characters and a description of at most 155.
const SEO: JSONSchema = {
  type: "object",
  properties: {
    title: { type: "string", maxLength: 60, description: "The page title" },
    description: { type: "string", maxLength: 155 },
  },
  required: ["title", "description"],
};
const GOOD = { title: "Spring in the park", description: "What flowers first, and where." };
const LONG = { title: "T".repeat(70), description: "Fine." };
const ask = [{ role: "user" as const, content: "Title and description for: spring in the park" }];

function openai(peer: Peer, settings: Partial<ProviderSettings> = {}): Provider {
  return createProvider({
    provider: "openai",
    model: "gpt-4o-mini",
    api_key: KEY,
    api_base: peer.url,
    max_retries: 0,
    ...settings,
  });
}

function claude(
  peer: AnthropicPeer,
  model: string,
  settings: Partial<ProviderSettings> = {},
): Provider {
  return createProvider({
    provider: "anthropic",
    model,
    api_key: KEY,
    api_base: peer.url,
    max_retries: 0,
    ...settings,
  });
}

Deno.test("completeObject() on openai: response_format json_schema, strict, unsupported keywords moved into descriptions", async () => {
  await using peer = await startPeer();
  peer.enqueue({ text: JSON.stringify(GOOD) });
  const answer = await openai(peer).completeObject<typeof GOOD>({
    messages: ask,
    schema: SEO,
    name: "seo",
    options: { temperature: 0 },
  });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(answer.strategy, "json_schema");
  assert.ok(answer.usage && answer.usage.totalTokens > 0);
  const body = peer.lastRequest().body;
  assert.equal(body.temperature, 0);
  assert.deepEqual(body.messages, ask);
  assert.deepEqual(body.response_format, {
    type: "json_schema",
    json_schema: {
      name: "seo",
      strict: true,
      schema: {
        type: "object",
        properties: {
          title: { type: "string", description: "The page title (maxLength: 60)" },
          description: { type: "string", description: "(maxLength: 155)" },
        },
        required: ["title", "description"],
        additionalProperties: false,
      },
    },
  });
  assert.equal(peer.requests.length, 1);
});

Deno.test("completeObject() repairs an invalid answer once, showing the model its validation errors", async () => {
  await using peer = await startPeer();
  peer.enqueue({ text: JSON.stringify(LONG) }, { text: JSON.stringify(GOOD) });
  const answer = await openai(peer).completeObject({ messages: ask, schema: SEO });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(peer.requests.length, 2);
  const [first, second] = peer.requests.map((request) => request.body);
  const messages = second.messages;
  assert.deepEqual(messages.slice(0, first.messages.length), first.messages);
  assert.deepEqual(messages.at(-2), { role: "assistant", content: JSON.stringify(LONG) });
  assert.equal(messages.at(-1).role, "user");
  assert.match(messages.at(-1).content, /\/title: String is too long \(70 > 60\)/);
  assert.deepEqual(second.response_format, first.response_format);
});

Deno.test("completeObject() sums the usage of the first request and the repair", async () => {
  await using peer = await startPeer();
  peer.enqueue({ text: JSON.stringify(LONG) }, { text: JSON.stringify(GOOD) });
  const provider = openai(peer);
  const repaired = await provider.completeObject({ messages: ask, schema: SEO });
  peer.enqueue({ text: JSON.stringify(LONG) });
  const firstOnly = await provider.completion({ messages: ask });
  const total = repaired.usage!;
  assert.ok(total.inputTokens > firstOnly.usage!.inputTokens, JSON.stringify(total));
  assert.equal(total.totalTokens, total.inputTokens + total.outputTokens);
});

Deno.test("completeObject() invalid twice is StructuredOutputError with the validation errors and the raw text, no secret", async () => {
  await using peer = await startPeer();
  const bad = { title: `Leaked ${KEY} ${"x".repeat(60)}`, description: 5 };
  peer.enqueue({ text: JSON.stringify(bad) }, { text: JSON.stringify(bad) });
  await assert.rejects(
    openai(peer).completeObject({ messages: ask, schema: SEO, name: "seo" }),
    (error: unknown) => {
      assert.ok(error instanceof StructuredOutputError);
      assert.equal(error.strategy, "json_schema");
      assert.equal(error.retryable, false);
      assert.equal(error.provider, "openai");
      assert.equal(error.model, "gpt-4o-mini");
      assert.deepEqual(error.validationErrors.map((issue) => issue.path).sort(), [
        "/description",
        "/title",
      ]);
      assert.match(error.message, /JSON Schema "seo"/);
      assert.match(error.message, /\/title: String is too long/);
      assert.ok(error.rawText.includes('"description":5'));
      assert.ok(error.rawText.includes("***"));
      const shown = `${error.message} ${error.rawText} ${JSON.stringify(error.validationErrors)} ${
        Deno.inspect(error)
      }`;
      assert.ok(!shown.includes(KEY), shown);
      return true;
    },
  );
  assert.equal(peer.requests.length, 2);
});

Deno.test("completeObject() with an answer that is not JSON: a repair, then StructuredOutputError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ text: "Sure! Here is a title: Spring" }, { text: "Spring, I said." });
  await assert.rejects(
    openai(peer).completeObject({ messages: ask, schema: SEO }),
    (error: unknown) => {
      assert.ok(error instanceof StructuredOutputError);
      assert.deepEqual(error.validationErrors, [{
        path: "",
        message: "The answer is not valid JSON",
      }]);
      assert.equal(error.rawText, "Spring, I said.");
      return true;
    },
  );
  assert.match(peer.requests[1].body.messages.at(-1).content, /not valid JSON/);
  // Not JSON, then good: repaired.
  peer.enqueue({ text: "no json here" }, { text: JSON.stringify(GOOD) });
  assert.deepEqual(
    (await openai(peer).completeObject({ messages: ask, schema: SEO })).object,
    GOOD,
  );
});

Deno.test("completeObject() rejects a schema that is not an object (or a bad name) with a TypeError, before any request", async () => {
  await using peer = await startPeer();
  await using anthropic = await startAnthropicPeer();
  registerProvider("structured-canned", (settings) => ({
    provider: "structured-canned",
    model: settings.model,
    completion: () => Promise.reject(new Error("must not be called")),
    async *stream() {},
  }));
  try {
    const providers = [
      openai(peer),
      openai(peer, { provider: "openai_compatible" }),
      claude(anthropic, "claude-3-5-haiku-latest"),
      createProvider("structured-canned:m"),
    ];
    for (const provider of providers) {
      for (
        const schema of ["{}", ["type", "object"], null, true, 42, undefined, new Map(), {
          type: 5,
        }]
      ) {
        await assert.rejects(
          provider.completeObject({ messages: ask, schema: schema as never }),
          TypeError,
          `${provider.provider}: ${Deno.inspect(schema)}`,
        );
      }
      await assert.rejects(
        provider.completeObject({ messages: ask, schema: SEO, name: "has space" }),
        TypeError,
      );
      await assert.rejects(provider.completeObject({ messages: [], schema: SEO }), TypeError);
      await assert.rejects(
        provider.completeObject({
          messages: ask,
          schema: SEO,
          options: { response_format: { type: "text" } },
        }),
        /must not set "response_format"/,
      );
      await assert.rejects(
        provider.completeObject({ messages: ask, schema: { type: "object", default: () => 1 } }),
        /schema\.default must be JSON data/,
      );
    }
    assert.equal(peer.requests.length, 0);
    assert.equal(anthropic.requests.length, 0);
  } finally {
    unregisterProvider("structured-canned");
  }
});

Deno.test("completeObject() on openai_compatible: the schema in the prompt, no response_format; a fenced answer is taken", async () => {
  await using peer = await startPeer();
  const provider = openai(peer, { provider: "openai_compatible" });
  peer.enqueue({ text: "```json\n" + JSON.stringify(GOOD) + "\n```" });
  const answer = await provider.completeObject({ messages: ask, schema: SEO });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(answer.strategy, "prompt");
  const body = peer.lastRequest().body;
  assert.equal(body.response_format, undefined);
  assert.equal(body.messages[0].role, "system");
  assert.match(body.messages[0].content, /JSON Schema:\n\{"type":"object"/);
  assert.match(body.messages[0].content, /"maxLength":60/); // the whole schema, constraints included
  assert.deepEqual(body.messages.slice(1), ask);
  // The fallback repairs too.
  peer.enqueue({ text: JSON.stringify(LONG) }, { text: JSON.stringify(GOOD) });
  assert.deepEqual((await provider.completeObject({ messages: ask, schema: SEO })).object, GOOD);
  assert.match(peer.lastRequest().body.messages.at(-1).content, /String is too long/);
});

Deno.test("completeObject() strategies per provider: JSON mode for ollama and llamacpp, json_schema for gemini, structured_output overrides", async () => {
  await using peer = await startPeer();
  for (
    const [provider, strategy] of [
      ["ollama", "json_object"],
      ["llamacpp", "json_object"],
      ["gemini", "json_schema"],
      ["mistral", "json_schema"],
      ["anthropic_openai", "prompt"],
    ]
  ) {
    peer.enqueue({ text: JSON.stringify(GOOD) });
    const answer = await openai(peer, { provider }).completeObject({ messages: ask, schema: SEO });
    assert.equal(answer.strategy, strategy, provider);
    const body = peer.lastRequest().body;
    if (strategy === "json_object") {
      assert.deepEqual(body.response_format, { type: "json_object" });
      assert.match(body.messages[0].content, /JSON Schema/);
    } else if (strategy === "json_schema") {
      assert.equal(body.response_format.type, "json_schema");
    } else {
      assert.equal(body.response_format, undefined);
    }
  }
  peer.enqueue({ text: JSON.stringify(GOOD) });
  const forced = await openai(peer, { structured_output: "json_object" }).completeObject({
    messages: ask,
    schema: SEO,
  });
  assert.equal(forced.strategy, "json_object");
  assert.throws(
    () => openai(peer, { structured_output: "tool" }),
    /must be one of "json_schema", "json_object", "prompt"/,
  );
});

Deno.test("completeObject(): a schema OpenAI's strict mode cannot hold is sent as it is, not strict; a non-object root is wrapped", async () => {
  await using peer = await startPeer();
  const provider = openai(peer);
  const optional: JSONSchema = {
    type: "object",
    properties: { title: { type: "string" }, subtitle: { type: "string" } },
    required: ["title"],
  };
  peer.enqueue({ text: JSON.stringify({ title: "A" }) });
  assert.deepEqual((await provider.completeObject({ messages: ask, schema: optional })).object, {
    title: "A",
  });
  assert.deepEqual(peer.lastRequest().body.response_format.json_schema, {
    name: "response",
    strict: false,
    schema: optional,
  });
  const tags: JSONSchema = { type: "array", items: { type: "string" }, maxItems: 3 };
  peer.enqueue({ text: JSON.stringify({ value: ["spring", "park"] }) });
  const answer = await provider.completeObject<string[]>({
    messages: ask,
    schema: tags,
    name: "tags",
  });
  assert.deepEqual(answer.object, ["spring", "park"]);
  const sent = peer.lastRequest().body.response_format.json_schema.schema;
  assert.deepEqual(sent, {
    type: "object",
    properties: { value: { type: "array", items: { type: "string" }, maxItems: 3 } },
    required: ["value"],
    additionalProperties: false,
  });
  // The unwrapped answer is checked against the caller's schema.
  peer.enqueue(
    { text: JSON.stringify({ value: ["a", "b", "c", "d"] }) },
    { text: JSON.stringify(["not", "wrapped"]) },
  );
  await assert.rejects(
    provider.completeObject({ messages: ask, schema: tags }),
    (error: unknown) => {
      assert.ok(error instanceof StructuredOutputError);
      assert.match(error.validationErrors[0].message, /object with the key "value"/);
      return true;
    },
  );
  assert.match(
    peer.lastRequest().body.messages.at(-1).content,
    /\(the answer\): Array has too many items \(4 > 3\)/,
  );
});

Deno.test("completeObject() on anthropic: a forced tool whose input_schema is the schema; the repair is a tool_result with is_error", async () => {
  await using peer = await startAnthropicPeer({ key: KEY });
  const provider = claude(peer, "claude-3-5-haiku-latest");
  peer.enqueue({ object: GOOD });
  const answer = await provider.completeObject({ messages: ask, schema: SEO, name: "seo" });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(answer.strategy, "tool");
  assert.ok(answer.usage && answer.usage.inputTokens > 0);
  const body = peer.lastRequest().body;
  assert.deepEqual(body.tool_choice, { type: "tool", name: "seo" });
  assert.equal(body.tools.length, 1);
  assert.equal(body.tools[0].name, "seo");
  assert.deepEqual(body.tools[0].input_schema, SEO);
  assert.ok(body.max_tokens > 0);

  peer.enqueue({ object: LONG }, { object: GOOD });
  assert.deepEqual(
    (await provider.completeObject({ messages: ask, schema: SEO, name: "seo" })).object,
    GOOD,
  );
  const repair = peer.lastRequest().body.messages;
  assert.deepEqual(repair.at(-2), {
    role: "assistant",
    content: [{ type: "tool_use", id: "toolu_msg_peer_2", name: "seo", input: LONG }],
  });
  assert.equal(repair.at(-1).content[0].type, "tool_result");
  assert.equal(repair.at(-1).content[0].tool_use_id, "toolu_msg_peer_2");
  assert.equal(repair.at(-1).content[0].is_error, true);
  assert.match(repair.at(-1).content[0].content, /\/title: String is too long \(70 > 60\)/);

  peer.enqueue({ object: LONG }, { object: LONG });
  await assert.rejects(
    provider.completeObject({ messages: ask, schema: SEO }),
    (error: unknown) => {
      assert.ok(error instanceof StructuredOutputError);
      assert.equal(error.strategy, "tool");
      assert.equal(error.provider, "anthropic");
      assert.deepEqual(error.validationErrors, [{
        path: "/title",
        message: "String is too long (70 > 60).",
      }]);
      assert.deepEqual(JSON.parse(error.rawText), LONG);
      return true;
    },
  );
  // Text instead of a tool call (and not JSON): repaired with plain turns, then an error.
  peer.enqueue({ text: "I would call it Spring." }, { text: "Still no tool." });
  await assert.rejects(
    provider.completeObject({ messages: ask, schema: SEO }),
    (error: unknown) => {
      assert.ok(error instanceof StructuredOutputError);
      assert.deepEqual(error.validationErrors, [{
        path: "",
        message: "The answer is not valid JSON",
      }]);
      assert.equal(error.rawText, "Still no tool.");
      return true;
    },
  );
  const turns = peer.lastRequest().body.messages;
  assert.deepEqual(turns.at(-2), { role: "assistant", content: "I would call it Spring." });
  assert.equal(turns.at(-1).role, "user");
});

Deno.test("completeObject() on anthropic models with structured outputs: output_config.format with the subset schema", async () => {
  await using peer = await startAnthropicPeer();
  const provider = claude(peer, "claude-sonnet-4-5-20250929");
  peer.enqueue({ object: GOOD });
  const answer = await provider.completeObject({ messages: ask, schema: SEO });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(answer.strategy, "json_schema");
  const body = peer.lastRequest().body;
  assert.equal(body.tools, undefined);
  assert.deepEqual(body.output_config, {
    format: {
      type: "json_schema",
      schema: {
        type: "object",
        properties: {
          title: { type: "string", description: "The page title (maxLength: 60)" },
          description: { type: "string", description: "(maxLength: 155)" },
        },
        required: ["title", "description"],
        additionalProperties: false,
      },
    },
  });
  // Repaired with plain turns; the full schema is still checked here.
  peer.enqueue({ object: LONG }, { object: GOOD });
  assert.deepEqual((await provider.completeObject({ messages: ask, schema: SEO })).object, GOOD);
  assert.match(peer.lastRequest().body.messages.at(-1).content, /String is too long/);
  // A schema outside the subset (an open object) goes the tool way; so does structured_output: "tool".
  const open: JSONSchema = {
    type: "object",
    properties: { a: { type: "string" } },
    additionalProperties: true,
  };
  peer.enqueue({ object: { a: "x", b: 1 } });
  assert.equal((await provider.completeObject({ messages: ask, schema: open })).strategy, "tool");
  peer.enqueue({ object: GOOD });
  const tool = claude(peer, "claude-sonnet-4-5", { structured_output: "tool" });
  assert.equal((await tool.completeObject({ messages: ask, schema: SEO })).strategy, "tool");
  // structured_output: "prompt": the schema in the system prompt.
  peer.enqueue({ text: JSON.stringify(GOOD) });
  const prompt = claude(peer, "claude-sonnet-4-5", { structured_output: "prompt" });
  const prompted = await prompt.completeObject({
    messages: [{ role: "system", content: "You write SEO copy." }, ...ask],
    schema: SEO,
  });
  assert.equal(prompted.strategy, "prompt");
  assert.match(
    peer.lastRequest().body.system,
    /^Answer with one JSON value[\s\S]*\n\nYou write SEO copy\.$/,
  );
});

Deno.test("completeObject(): the schema's tokens count in the window check before sending", async () => {
  await using peer = await startAnthropicPeer();
  // A 400-token window whose output limit is larger: what the prompt leaves decides.
  registerTokenLimit("claude-small-structured", 400, { maxOutputTokens: 1000 });
  const provider = claude(peer, "claude-small-structured");
  const big: JSONSchema = {
    type: "object",
    properties: Object.fromEntries(
      Array.from(
        { length: 30 },
        (_, i) => [`field_${i}`, { type: "string", description: "a field of the form" }],
      ),
    ),
  };
  // Without the schema the prompt fits; with it, it does not: refused before any request.
  await provider.completion({ messages: ask });
  const plain = peer.lastRequest().body.max_tokens;
  assert.ok(plain > 350 && plain < 400, String(plain));
  await assert.rejects(
    provider.completeObject({ messages: ask, schema: big }),
    (error: unknown) => {
      assert.ok(error instanceof ContextLengthError);
      assert.match(error.message, /the schema included/);
      return true;
    },
  );
  assert.equal(peer.requests.length, 1);
  // A smaller schema fits, and leaves less room for the answer than no schema does.
  peer.enqueue({ object: GOOD });
  await provider.completeObject({ messages: ask, schema: SEO });
  assert.ok(peer.lastRequest().body.max_tokens < plain, String(peer.lastRequest().body.max_tokens));
});

Deno.test("completeObject() takes a Standard Schema that gives JSON Schema (zod 4): its schema is sent, its output returned", async () => {
  await using peer = await startPeer();
  const Seo = z.object({
    title: z.string().max(60),
    description: z.string().max(155).transform((text) => text.trim()),
  });
  peer.enqueue({ text: JSON.stringify({ title: "Spring", description: "  Padded.  " }) });
  const answer = await openai(peer).completeObject({ messages: ask, schema: Seo });
  const object: { title: string; description: string } = answer.object; // inferred from the schema
  assert.deepEqual(object, { title: "Spring", description: "Padded." });
  const sent = peer.lastRequest().body.response_format.json_schema;
  assert.equal(sent.strict, true);
  assert.deepEqual(Object.keys(sent.schema.properties), ["title", "description"]);
  // A refinement JSON Schema cannot express is checked by the schema's own validate().
  const NoSpam = z.object({
    title: z.string().refine((title) => !title.includes("!"), "No exclamation marks"),
  });
  peer.enqueue({ text: JSON.stringify({ title: "Buy now!" }) }, {
    text: JSON.stringify({ title: "Buy now" }),
  });
  assert.deepEqual((await openai(peer).completeObject({ messages: ask, schema: NoSpam })).object, {
    title: "Buy now",
  });
  assert.match(peer.lastRequest().body.messages.at(-1).content, /\/title: No exclamation marks/);
  // A Standard Schema that cannot give JSON Schema is a TypeError at the call.
  const opaque: StandardSchemaLike<string> = {
    "~standard": { version: 1, vendor: "opaque", validate: (value) => ({ value: String(value) }) },
  };
  await assert.rejects(
    openai(peer).completeObject({ messages: ask, schema: opaque }),
    (error: unknown) =>
      error instanceof TypeError && /Standard Schema of "opaque"/.test(error.message),
  );
});

Deno.test("a registered provider without completeObject() gets one built on completion(), the schema in the prompt", async () => {
  const seen: unknown[] = [];
  const answers = [JSON.stringify(LONG), JSON.stringify(GOOD)];
  // The first answer's usage is in our shape, the second in the OpenAI wire shape that a
  // provider written before completions carried ours returns: both are counted.
  const usages = [
    { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } as never,
  ];
  registerProvider("structured-legacy", (settings) => ({
    provider: "structured-legacy",
    model: settings.model,
    completion: (options) => {
      seen.push(options);
      return Promise.resolve({
        id: "1",
        object: "chat.completion",
        created: 0,
        model: settings.model,
        choices: [{
          index: 0,
          message: { role: "assistant", content: answers.shift()! },
          finish_reason: "stop",
        }],
        usage: usages.shift(),
      });
    },
    async *stream() {},
  }));
  try {
    const provider = createProvider("structured-legacy:m1");
    const answer = await provider.completeObject({
      messages: ask,
      schema: SEO,
      options: { temperature: 0 },
    });
    assert.deepEqual(answer, {
      object: GOOD,
      usage: { inputTokens: 20, outputTokens: 10, totalTokens: 30 },
      strategy: "prompt",
    });
    assert.equal(seen.length, 2);
    const first = seen[0] as { messages: { role: string; content: string }[]; temperature: number };
    assert.equal(first.temperature, 0);
    assert.equal(first.messages[0].role, "system");
    assert.match(first.messages[0].content, /JSON Schema/);
  } finally {
    unregisterProvider("structured-legacy");
  }
});

Deno.test("completeObject() aborts with the signal's reason, the repair included", async () => {
  await using peer = await startPeer();
  const reason = new Error("the editor closed");
  await assert.rejects(
    openai(peer).completeObject({ messages: ask, schema: SEO, signal: AbortSignal.abort(reason) }),
    (error: unknown) => error === reason,
  );
  assert.equal(peer.requests.length, 0);
  await using anthropic = await startAnthropicPeer();
  const controller = new AbortController();
  anthropic.enqueue({ object: LONG }, { delayMs: 30_000 });
  const pending = claude(anthropic, "claude-3-5-haiku-latest").completeObject({
    messages: ask,
    schema: SEO,
    signal: controller.signal,
  });
  while (anthropic.requests.length < 2) await anthropic.nextActive();
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
});

Deno.test("completeObject(): a free-form object is never closed for strict decoding, and answers are checked against the caller's schema", async () => {
  // tags is a map of anything: closing it (additionalProperties: false, no properties) would
  // allow only {}, so the schema is sent as it is, not strict.
  const withMap: JSONSchema = {
    type: "object",
    properties: { title: { type: "string" }, tags: { type: "object" } },
    required: ["title", "tags"],
  };
  const answer = { title: "Spring", tags: { season: "spring", year: 2026 } };
  await using peer = await startPeer();
  peer.enqueue({ text: JSON.stringify(answer) });
  const result = await openai(peer).completeObject({ messages: ask, schema: withMap });
  assert.deepEqual(result.object, answer);
  const format = peer.lastRequest().body.response_format;
  assert.equal(format.json_schema.strict, false);
  assert.deepEqual(format.json_schema.schema, withMap);
  await using anthropic = await startAnthropicPeer({ key: KEY });
  anthropic.enqueue({ object: answer });
  const claudeResult = await claude(anthropic, "claude-sonnet-4-5").completeObject({
    messages: ask,
    schema: withMap,
  });
  assert.equal(claudeResult.strategy, "tool");
  assert.deepEqual(anthropic.lastRequest().body.tools[0].input_schema, withMap);
  assert.equal(anthropic.lastRequest().body.output_config, undefined);
  // A schema with declared properties is closed on the wire for strict decoding only; an
  // answer with a property the caller's schema allows is still accepted as it is.
  peer.enqueue({ text: JSON.stringify({ ...GOOD, extra: "allowed by SEO" }) });
  const strict = await openai(peer).completeObject({ messages: ask, schema: SEO });
  assert.equal(peer.lastRequest().body.response_format.json_schema.strict, true);
  assert.deepEqual(strict.object, { ...GOOD, extra: "allowed by SEO" });
  assert.equal(peer.requests.length, 2); // no repair: the caller's schema allows it
});
