// The backend layer of a request made cheaper by issue 16: the budget decided from the
// prompt's size without a promise, the cap's key kept per model, a request built at once
// when it needs no count, the secrets of a settings object found once (and again when they
// change), and the request id read from the answer the client parsed.
import assert from "node:assert/strict";
import { budgetBySize } from "../_budget.ts";
import {
  answerLimit,
  answerLimitBySize,
  capKeyOf,
  usesMaxCompletionTokens,
} from "../backends/_budget.ts";
import { PreparedRequest } from "../backends/_prepared.ts";
import { scrubText } from "../_openai/errors.ts";
import { BodyTooLargeError, capResponseBody } from "../_http/fetch.ts";
import { chatCompletion, type ClientSettings } from "../_openai/mod.ts";
import type { ChatMessage } from "../chat.ts";
import { APIError, createAI } from "../mod.ts";
import { startPeer } from "./_peer.ts";

const short: ChatMessage[] = [
  { role: "system", content: [{ type: "text", text: "Correct the spelling." }] },
  { role: "user", content: [{ type: "text", text: "Teh quick brown fox." }] },
];

Deno.test("budgetBySize() gives the cap when the prompt's size proves that it fits", () => {
  const options = { modelId: "gpt-4o-mini", tokenLimit: 128_000, maxOutputTokens: 256 };
  assert.equal(budgetBySize(short, options), 256);
  // Without a configured cap, the model's maximum output.
  assert.equal(budgetBySize(short, { modelId: "gpt-4o-mini", tokenLimit: 128_000 }), 16_384);
});

Deno.test("budgetBySize() leaves to the count a prompt near the window, LIMITS, a schema or no cap", () => {
  const base = { modelId: "gpt-4o-mini", tokenLimit: 128_000, maxOutputTokens: 256 };
  assert.equal(budgetBySize(short, { ...base, tokenLimit: 280 }), undefined);
  assert.equal(budgetBySize(short, { ...base, countPrompt: true }), undefined);
  assert.equal(budgetBySize(short, { ...base, schema: { type: "object" } }), undefined);
  assert.equal(budgetBySize(short, { modelId: "in-house-x", tokenLimit: 128_000 }), undefined);
});

Deno.test("answerLimitBySize() agrees with answerLimit() when it answers", async () => {
  for (const modelId of ["gpt-4o-mini", "o3-mini", "gpt-5"]) {
    const options = { modelId, tokenLimit: 100_000, maxOutputTokens: 300 };
    const now = answerLimitBySize(short, options);
    assert.ok(now !== undefined, modelId);
    assert.deepEqual(now, await answerLimit(short, options));
  }
  assert.equal(answerLimitBySize(short, { modelId: "gpt-4o-mini", tokenLimit: 290 }), undefined);
});

Deno.test("capKeyOf() names max_completion_tokens for the models that need it, however many models are asked", () => {
  for (let round = 0; round < 2; round++) {
    // More models than the kept keys: the cache is emptied and filled again.
    for (let i = 0; i < 300; i++) assert.equal(capKeyOf(`house-${i}`), "max_tokens");
    assert.equal(capKeyOf("gpt-4o-mini"), "max_tokens");
    assert.equal(capKeyOf("o3-mini"), "max_completion_tokens");
    assert.equal(capKeyOf("openai/GPT-5-mini"), "max_completion_tokens");
  }
  assert.equal(usesMaxCompletionTokens("o1"), true);
  assert.equal(usesMaxCompletionTokens("gpt-4.1"), false);
});

Deno.test("PreparedRequest takes a request built at once as it is, and a promised one as a promise", async () => {
  const signal = new AbortController().signal;
  const now = new PreparedRequest((_signal, prepared) => ({ prepared }));
  assert.deepEqual(now.take(undefined), { prepared: false });
  const ready = now.prepare(signal);
  assert.ok(ready instanceof Promise);
  assert.deepEqual(await ready, { prepared: true });
  // The prepared request is taken once, by the send with its signal.
  assert.equal(now.take(signal), ready);
  assert.deepEqual(now.take(signal), { prepared: false });
  const later = new PreparedRequest((_signal, prepared) => Promise.resolve({ prepared }));
  assert.deepEqual(await later.take(undefined), { prepared: false });
});

Deno.test("PreparedRequest turns a build that throws into a rejected prepare() and a throwing take()", async () => {
  const failing = new PreparedRequest((): never => {
    throw new RangeError("no request");
  });
  const prepared = failing.prepare(undefined);
  await assert.rejects(prepared, RangeError);
  await assert.rejects(Promise.resolve().then(() => failing.take(undefined)), RangeError);
  assert.throws(() => failing.take(undefined), RangeError);
});

Deno.test("scrubText() masks the secrets of a settings object, and the new ones after they change", () => {
  const headers: Record<string, string> = { "x-api-key": "header-secret-1" };
  const settings: ClientSettings = {
    apiKey: "sk-first-key",
    baseURL: "http://127.0.0.1:9/v1?api-key=query-secret-1",
    timeoutMs: 1000,
    maxRetries: 0,
    headers,
  };
  const text = (s: string) => `id ${s} end`;
  assert.equal(scrubText(text("sk-first-key"), settings), "id *** end");
  assert.equal(scrubText(text("header-secret-1"), settings), "id *** end");
  assert.equal(scrubText(text("query-secret-1"), settings), "id *** end");
  assert.equal(scrubText("req_123", settings), "req_123");
  // The same object changed: its new secrets are found.
  headers["x-api-key"] = "header-secret-2";
  settings.apiKey = "sk-second-key";
  settings.baseURL = "http://127.0.0.1:9/v1?token=query-secret-2";
  assert.equal(scrubText(text("header-secret-2"), settings), "id *** end");
  assert.equal(scrubText(text("sk-second-key"), settings), "id *** end");
  assert.equal(scrubText(text("query-secret-2"), settings), "id *** end");
  headers["x-other-key"] = "header-secret-3";
  assert.equal(scrubText(text("header-secret-3"), settings), "id *** end");
});

Deno.test("chatCompletion() keeps the request id of an answer that is not a JSON object, masked", async () => {
  await using peer = await startPeer();
  const settings: ClientSettings = {
    apiKey: "sk-echoed-key",
    baseURL: peer.url,
    timeoutMs: 10_000,
    maxRetries: 0,
  };
  peer.enqueue(
    { raw: "just text", headers: { "x-request-id": "req_raw" } },
    { json: { id: "x" }, headers: { "x-request-id": "req-sk-echoed-key" } },
  );
  const ask = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "x" }] };
  await assert.rejects(chatCompletion(settings, ask), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.match(error.message, /not a JSON object/);
    assert.equal(error.requestId, "req_raw");
    return true;
  });
  await assert.rejects(chatCompletion(settings, ask), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.equal(error.requestId, "req-***");
    return true;
  });
});

Deno.test("the OpenAI backend sends the cap at once for a short prompt and counts one near the window", async () => {
  await using peer = await startPeer();
  const backendOf = (tokenLimit: number) =>
    createAI({
      BACKENDS: {
        default: {
          CLASS: "openai",
          CONFIG: {
            MODEL_ID: "gpt-4o-mini",
            OPENAI_API_KEY: "sk-x",
            API_BASE: peer.url,
            MAX_OUTPUT_TOKENS: 100,
            TOKEN_LIMIT: tokenLimit,
          },
        },
      },
    }).getBackend();
  peer.enqueue({ json: completionOf("one") }, { json: completionOf("two") });
  const far = backendOf(100_000).promptWithContext({ prePrompt: "Fix:", context: "Helo" });
  assert.equal(await far.text(), "one");
  assert.equal((peer.requests[0].body as { max_tokens: number }).max_tokens, 100);
  // 112 tokens of window: the size alone cannot prove the fit; the count leaves less than the cap.
  const near = backendOf(112).promptWithContext({ prePrompt: "Fix:", context: "Helo" });
  assert.equal(await near.text(), "two");
  const sent = (peer.requests[1].body as { max_tokens: number }).max_tokens;
  assert.ok(sent > 0 && sent < 100, `max_tokens ${sent}`);
  // A prompt over the window is refused before anything is sent.
  const over = backendOf(12).promptWithContext({ prePrompt: "Fix:", context: "Helo there" });
  await assert.rejects(over.text(), /context window/);
  assert.equal(peer.requests.length, 2);
});

Deno.test("the OpenAI backend's aborted signal wins before anything is sent, streaming or not", async () => {
  await using peer = await startPeer();
  const backend = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x", API_BASE: peer.url },
      },
    },
  }).getBackend();
  const controller = new AbortController();
  const reason = new RangeError("stopped by the caller");
  controller.abort(reason);
  const whole = backend.promptWithContext({
    prePrompt: "",
    context: "x",
    signal: controller.signal,
  });
  await assert.rejects(whole.text(), (error) => error === reason);
  const streamed = backend.promptWithContext({
    prePrompt: "",
    context: "x",
    signal: controller.signal,
  });
  await assert.rejects(
    (async () => {
      for await (const _ of streamed) { /* nothing arrives */ }
    })(),
    (error) => error === reason,
  );
  assert.equal(peer.requests.length, 0);
});

function completionOf(text: string) {
  return {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  };
}

Deno.test("capResponseBody() hands on an unencoded body of a known length within the limit, and bounds the others", async () => {
  const body = "0123456789";
  const known = new Response(body, { headers: { "content-length": "10" } });
  assert.equal(capResponseBody(known, 64), known);
  assert.equal(await known.text(), body);
  // Declared over the limit, encoded, or of no declared length: read through the bound.
  const over = capResponseBody(new Response(body, { headers: { "content-length": "10" } }), 5);
  await assert.rejects(over.text(), BodyTooLargeError);
  const gzip = new Response(body, {
    headers: { "content-length": "10", "content-encoding": "gzip" },
  });
  const bounded = capResponseBody(gzip, 5);
  assert.notEqual(bounded, gzip);
  await assert.rejects(bounded.text(), BodyTooLargeError);
  const unknown = capResponseBody(new Response(body), 5);
  await assert.rejects(unknown.text(), BodyTooLargeError);
  const within = capResponseBody(new Response(body), 64);
  assert.equal(await within.text(), body);
  const empty = new Response(null, { status: 204 });
  assert.equal(capResponseBody(empty, 5), empty);
});
