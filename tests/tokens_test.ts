import assert from "node:assert/strict";
import {
  countTokens,
  getDefaultTokenLimit,
  getEncodingName,
  getMaxOutputTokens,
  getTokenCounter,
  NoTokenLimitFound,
  registerTokenLimit,
} from "../mod.ts";

Deno.test("getDefaultTokenLimit() knows the context windows of current models", () => {
  const expected: Record<string, number> = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "gpt-5": 400_000,
    "gpt-5-mini": 400_000,
    "claude-3-haiku": 200_000,
    "claude-sonnet-4-5": 200_000,
    "mistral-large-latest": 131_072,
    "llama3.1": 131_072,
    "gemini-2.5-pro": 1_048_576,
  };
  for (const [model, limit] of Object.entries(expected)) {
    assert.equal(getDefaultTokenLimit(model), limit, model);
  }
});

Deno.test("getDefaultTokenLimit() resolves dated snapshots, tags and vendor prefixes to the family", () => {
  assert.equal(getDefaultTokenLimit("gpt-4o-2024-08-06"), 128_000);
  assert.equal(getDefaultTokenLimit("gpt-4o-mini-2024-07-18"), 128_000);
  assert.equal(getDefaultTokenLimit("gpt-4-0613"), 8_192);
  assert.equal(getDefaultTokenLimit("gpt-3.5-turbo-0125"), 16_385);
  assert.equal(getDefaultTokenLimit("claude-3-5-sonnet-20241022"), 200_000);
  assert.equal(getDefaultTokenLimit("llama3.1:8b"), 131_072);
  assert.equal(getDefaultTokenLimit("openai/gpt-4.1-mini"), 1_047_576);
  assert.equal(getDefaultTokenLimit("GPT-4O"), 128_000);
});

Deno.test("getDefaultTokenLimit() raises NoTokenLimitFound naming the model", () => {
  assert.throws(() => getDefaultTokenLimit("my-model"), (error: Error) => {
    assert.ok(error instanceof NoTokenLimitFound);
    assert.equal(error.modelId, "my-model");
    assert.match(error.message, /"my-model".*TOKEN_LIMIT/);
    return true;
  });
});

Deno.test("getMaxOutputTokens() is separate from the context window", () => {
  assert.equal(getMaxOutputTokens("gpt-4o"), 16_384);
  assert.equal(getMaxOutputTokens("gpt-4"), 8_192);
  assert.equal(getMaxOutputTokens("o3-mini"), 100_000);
  assert.equal(getMaxOutputTokens("unknown-x"), undefined);
});

Deno.test("registerTokenLimit() adds a model and validates its numbers", () => {
  registerTokenLimit("tests-private-model", 9_000, { maxOutputTokens: 900 });
  assert.equal(getDefaultTokenLimit("tests-private-model"), 9_000);
  assert.equal(getMaxOutputTokens("tests-private-model"), 900);
  assert.throws(() => registerTokenLimit("x", 0), RangeError);
  assert.throws(() => registerTokenLimit("x", 10, { maxOutputTokens: -1 }), RangeError);
  assert.throws(() => registerTokenLimit("", 10), TypeError);
});

Deno.test("getEncodingName() maps models to cl100k_base and o200k_base", () => {
  for (const model of ["gpt-3.5-turbo", "gpt-4", "gpt-4-32k", "gpt-4-turbo", "gpt-4-0613"]) {
    assert.equal(getEncodingName(model), "cl100k_base", model);
  }
  for (
    const model of [
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4.1",
      "gpt-4.1-mini",
      "o1",
      "o3-mini",
      "o4-mini",
      "gpt-5",
      "gpt-5-nano",
      "gpt-4o-2024-08-06",
    ]
  ) {
    assert.equal(getEncodingName(model), "o200k_base", model);
  }
  assert.equal(getEncodingName("claude-3-haiku"), undefined);
});

Deno.test("countTokens() gives known counts for both encodings", async () => {
  // Counts checked against the published tokenizer (tiktoken).
  assert.equal(await countTokens("hello world", "gpt-4"), 2);
  assert.equal(await countTokens("Hello, world!", "gpt-4"), 4);
  assert.equal(await countTokens("Hello, world!", "gpt-4o"), 4);
  assert.equal(await countTokens("", "gpt-4o"), 0);
  assert.equal(await countTokens("tiktoken is great!", "gpt-3.5-turbo"), 6);
  assert.equal(await countTokens("antidisestablishmentarianism", "gpt-4"), 6);
  assert.equal(await countTokens("antidisestablishmentarianism", "gpt-4o"), 6);
  assert.equal(await countTokens("<|endoftext|>", "gpt-4o"), 7);
});

Deno.test("countTokens() counts special-token strings as plain text", async () => {
  assert.equal(await countTokens("<|endoftext|>", "gpt-4"), 7);
  assert.equal(await countTokens("a <|endofprompt|> b <|fim_prefix|>", "gpt-4o"), 15);
  assert.equal(await countTokens("a <|endofprompt|> b <|fim_prefix|>", "gpt-4"), 14);
});

Deno.test("countTokens() falls back to the naive estimate for models without an encoding", async () => {
  assert.equal(await countTokens("Hello, world!", "claude-3-haiku"), 4);
  const count = await getTokenCounter("mistral-small");
  assert.equal(count("one two three four"), 5);
});

Deno.test("countTokens() rejects a non-string text", async () => {
  await assert.rejects(countTokens(3 as never, "gpt-4"), TypeError);
});

Deno.test("getDefaultTokenLimit() knows GPT-4 Turbo's MMDD-preview snapshots", () => {
  // "-preview" snapshots are GPT-4 Turbo (128K), not gpt-4 (8K).
  for (const model of ["gpt-4-1106-preview", "gpt-4-0125-preview", "gpt-4-1106-vision-preview"]) {
    assert.equal(getDefaultTokenLimit(model), 128_000, model);
    assert.equal(getMaxOutputTokens(model), 4_096, model);
  }
  assert.equal(getDefaultTokenLimit("gpt-3.5-turbo-16k-0613"), 16_385);
  assert.equal(getDefaultTokenLimit("gpt-3.5-turbo-1106"), 16_385);
  // The first two snapshots had 4K.
  assert.equal(getDefaultTokenLimit("gpt-3.5-turbo-0301"), 4_096);
  assert.equal(getDefaultTokenLimit("gpt-3.5-turbo-0613"), 4_096);
  assert.equal(getDefaultTokenLimit("ft:gpt-3.5-turbo-0613:org::x1"), 4_096);
});

Deno.test("getDefaultTokenLimit() and getEncodingName() resolve fine-tuned ids and numbered versions", () => {
  const tuned = "ft:gpt-4o-mini-2024-07-18:my-org:custom:9abcDEF";
  assert.equal(getDefaultTokenLimit(tuned), 128_000);
  assert.equal(getEncodingName(tuned), "o200k_base");
  assert.equal(getEncodingName("ft:gpt-3.5-turbo-0125:personal::8abc"), "cl100k_base");
  assert.equal(getDefaultTokenLimit("gemini-1.5-pro-002"), 2_097_152);
  assert.equal(getDefaultTokenLimit("gemini-2.0-flash-001"), 1_048_576);
  assert.throws(() => getDefaultTokenLimit("ft:my-model:org::1"), NoTokenLimitFound);
});
