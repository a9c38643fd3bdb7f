// The cost of answers from PRICES: from the usage the service reports (cached prompt tokens
// at their own price), or estimated from the exact prompt count and the answer's text.
import assert from "node:assert/strict";
import { type AIEvent, countTokens, createAI, ImproperlyConfigured } from "../mod.ts";
import { countMessageTokens } from "../_budget.ts";
import { startPeer } from "./_peer.ts";
import { chainSettings } from "./_operations.ts";

const PRICES = {
  "gpt-4o-mini": { input: 0.15, output: 0.6, cached_input: 0.075 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
};

Deno.test("cost: computed from the reported usage, cached prompt tokens at cached_input", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    json: {
      id: "c1",
      object: "chat.completion",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 1000,
        completion_tokens: 500,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 400 },
      },
    },
  });
  const events: AIEvent[] = [];
  const ai = createAI({ ...chainSettings(peer, peer), PRICES }, {
    onEvent: (event) => events.push(event),
  });
  await ai.getProvider("primary").completion({ messages: [{ role: "user", content: "Hi" }] });
  const answer = events.find((event) => event.type === "answer")!;
  assert.deepEqual(answer.usage, {
    inputTokens: 1000,
    outputTokens: 500,
    totalTokens: 1500,
    cachedInputTokens: 400,
  });
  // (600 × 0.15 + 400 × 0.075) / 1e6 and 500 × 0.6 / 1e6, without float noise.
  assert.deepEqual(answer.cost, {
    input: 0.00012,
    output: 0.0003,
    total: 0.00042,
    currency: "USD",
  });

  // Streamed, through a backend: the usage chunk's counts.
  peer.enqueue({ text: "one two three", cachedTokens: 2 });
  const response = ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "a b c d" });
  for await (const _ of response) { /* streamed */ }
  const streamed = events.filter((event) => event.type === "answer").at(-1)!;
  const usage = await response.usage();
  assert.equal(streamed.usage?.inputTokens, usage?.inputTokens);
  assert.equal(streamed.usage?.outputTokens, 3);
  assert.equal(streamed.usage?.cachedInputTokens, 2);
  const input = usage!.inputTokens;
  const expected = Math.round(((input - 2) * 0.15 + 2 * 0.075) / 1e6 * 1e12) / 1e12;
  assert.equal(streamed.cost?.input, expected);
  assert.equal(streamed.cost?.output, Math.round(3 * 0.6 / 1e6 * 1e12) / 1e12);
  assert.equal(streamed.cost?.estimated, undefined);
});

Deno.test("cost: estimated (and marked so) when the service reports no usage", async () => {
  await using peer = await startPeer({
    handler: () => ({ text: "The fixed text.", noUsage: true }),
  });
  const events: AIEvent[] = [];
  const ai = createAI({ ...chainSettings(peer, peer), PRICES }, {
    onEvent: (event) => events.push(event),
  });
  const response = ai.getBackend().promptWithContext({ prePrompt: "Fix:", context: "teh text" });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  const answer = events.find((event) => event.type === "answer")!;
  // The prompt as counted before sending (exact), the answer's text counted for the model.
  const promptTokens = await countMessageTokens([
    { role: "system", content: [{ type: "text", text: "Fix:" }] },
    { role: "user", content: [{ type: "text", text: "teh text" }] },
  ], "gpt-4o-mini");
  const outputTokens = await countTokens(chunks.join(""), "gpt-4o-mini");
  assert.deepEqual(answer.usage, {
    inputTokens: promptTokens,
    outputTokens,
    totalTokens: promptTokens + outputTokens,
    estimated: true,
  });
  assert.equal(answer.cost?.estimated, true);
  assert.equal(answer.cost?.input, Math.round(promptTokens * 0.15 / 1e6 * 1e12) / 1e12);
  assert.equal(answer.cost?.output, Math.round(outputTokens * 0.6 / 1e6 * 1e12) / 1e12);
  assert.equal((await response.usage())?.estimated, true);

  // A provider's answer without usage: the messages counted for its model.
  const messages = [{ role: "user" as const, content: "Please fix this text" }];
  await ai.getProvider("primary").completion({ messages });
  const direct = events.filter((event) => event.type === "answer").at(-1)!;
  assert.equal(direct.usage?.inputTokens, await countMessageTokens(messages, "gpt-4o-mini"));
  assert.equal(direct.usage?.outputTokens, await countTokens("The fixed text.", "gpt-4o-mini"));
  assert.equal(direct.cost?.estimated, true);
});

Deno.test("cost: a model without a price has none, and one warning says so", async () => {
  await using peer = await startPeer();
  const events: AIEvent[] = [];
  const warnings: Error[] = [];
  const ai = createAI({
    ...chainSettings(peer, peer),
    PRICES: { "gpt-4.1-mini": PRICES["gpt-4.1-mini"] },
  }, {
    onEvent: (event) => events.push(event),
    onWarning: (warning) => warnings.push(warning),
  });
  for (let i = 0; i < 3; i++) {
    await ai.getProvider("primary").completion({ messages: [{ role: "user", content: "Hi" }] });
  }
  assert.ok(events.every((event) => event.cost === undefined));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /PRICES has no entry for model "gpt-4o-mini"/);
  // Without PRICES at all: no cost and no warning.
  const quiet: Error[] = [];
  const plain = createAI(chainSettings(peer, peer), {
    onEvent: () => {},
    onWarning: (warning) => quiet.push(warning),
  });
  await plain.getProvider("primary").completion({ messages: [{ role: "user", content: "Hi" }] });
  assert.deepEqual(quiet, []);
});

Deno.test("cost: bad PRICES are ImproperlyConfigured naming the model and the key, at createAI()", () => {
  const bad: [unknown, RegExp][] = [
    [[], /PRICES must be an object, got an array/],
    [{ "gpt-4o": 1 }, /PRICES\["gpt-4o"\] must be an object, got a number/],
    [{ "gpt-4o": { input: 1 } }, /PRICES\["gpt-4o"\] is missing output/],
    [{ "gpt-4o": { output: 1 } }, /PRICES\["gpt-4o"\] is missing input/],
    [{ "gpt-4o": { input: -1, output: 1 } }, /input in PRICES\["gpt-4o"\] must be a number from 0/],
    [{ "gpt-4o": { input: 1, output: "2" } }, /output in PRICES\["gpt-4o"\] must be a number/],
    [
      { "gpt-4o": { input: 1, output: 2, cache: 1 } },
      /PRICES\["gpt-4o"\] has an unknown key "cache"/,
    ],
    [
      { "gpt-4o": { input: 1, output: 2, cached_input: NaN } },
      /cached_input in PRICES\["gpt-4o"\]/,
    ],
  ];
  for (const [prices, pattern] of bad) {
    assert.throws(() => createAI({ PRICES: prices as never }), (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.doesNotThrow(() => createAI({ PRICES: { "gpt-4o": { input: 2.5, output: 10 } } }));
});
