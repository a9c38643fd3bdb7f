import assert from "node:assert/strict";
import { echoAnswer, startPeer, wordChunks } from "./_peer.ts";

/** Waits (up to about 5 s) until `condition()` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition(), "condition not reached");
}

const PNG_DATA_URL = "data:image/png;base64," + btoa("x".repeat(123));

function chat(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify(body),
    ...init,
  });
}

/** Parses an SSE body into its `data:` payloads. */
function sseData(text: string): string[] {
  return text.split("\n\n").filter((event) => event.startsWith("data: ")).map((event) =>
    event.slice("data: ".length)
  );
}

Deno.test("startPeer() answers a chat completion with an echo and usage", async () => {
  await using peer = await startPeer();
  assert.match(peer.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  const response = await chat(peer.url, {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "Be brief" },
      { role: "user", content: [{ type: "text", text: "Hello" }, { type: "text", text: "world" }] },
    ],
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-request-id"), "req_peer_1");
  const body = await response.json();
  assert.equal(body.object, "chat.completion");
  assert.equal(body.model, "gpt-4o-mini");
  assert.equal(body.choices[0].message.content, "Echo: Hello world");
  assert.equal(body.choices[0].finish_reason, "stop");
  assert.deepEqual(body.usage, { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  assert.equal(peer.active, 0);
});

Deno.test("startPeer() records method, path, query, lowercase headers and JSON body", async () => {
  await using peer = await startPeer();
  const response = await fetch(`${peer.url}/chat/completions?api-version=1`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Custom": "yes" },
    body: JSON.stringify({ model: "m", messages: [] }),
  });
  await response.body?.cancel();
  const request = peer.lastRequest();
  assert.equal(request.method, "POST");
  assert.equal(request.path, "/v1/chat/completions");
  assert.deepEqual(request.query, { "api-version": "1" });
  assert.equal(request.headers["x-custom"], "yes");
  assert.equal(request.headers["content-type"], "application/json");
  assert.deepEqual(request.body, { model: "m", messages: [] });
  assert.equal(peer.requests.length, 1);
});

Deno.test("startPeer() keeps a non-JSON body as raw text", async () => {
  await using peer = await startPeer();
  await (await fetch(`${peer.url}/chat/completions`, { method: "POST", body: "not json" })).text();
  assert.equal(peer.lastRequest().body, "not json");
  assert.equal(peer.lastRequest().text, "not json");
});

Deno.test("startPeer() describes image parts with mime and decoded size", async () => {
  await using peer = await startPeer();
  const response = await chat(peer.url, {
    model: "m",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "Describe" },
        { type: "image_url", image_url: { url: PNG_DATA_URL } },
      ],
    }],
  });
  const body = await response.json();
  assert.equal(body.choices[0].message.content, "Echo: Describe [image image/png 123 bytes]");
});

Deno.test("startPeer() streams one chunk per word with finish, usage and [DONE]", async () => {
  await using peer = await startPeer();
  const response = await chat(peer.url, {
    model: "m",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "one two three" }],
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const events = sseData(await response.text());
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
  assert.equal(chunks[0].choices[0].delta.role, "assistant");
  const texts = chunks.slice(1, -2).map((chunk) => chunk.choices[0].delta.content);
  assert.deepEqual(texts, ["Echo:", " one", " two", " three"]);
  assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
  assert.deepEqual(chunks.at(-1).choices, []);
  assert.deepEqual(chunks.at(-1).usage, {
    prompt_tokens: 3,
    completion_tokens: 4,
    total_tokens: 7,
  });
});

Deno.test("startPeer() sends no usage chunk unless include_usage is set", async () => {
  await using peer = await startPeer();
  const response = await chat(peer.url, {
    model: "m",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const events = sseData(await response.text());
  assert.equal(events.at(-1), "[DONE]");
  assert.equal(JSON.parse(events.at(-2)!).choices[0].finish_reason, "stop");
  assert.ok(events.every((event) => !event.includes('"usage"')));
});

Deno.test("startPeer() plays scripted replies in order, then the default handler", async () => {
  await using peer = await startPeer();
  peer.enqueue({ json: { hello: 1 } }, { text: "Scripted answer" });
  assert.equal(peer.queued, 2);
  const body = { model: "m", messages: [{ role: "user", content: "x" }] };
  assert.deepEqual(await (await chat(peer.url, body)).json(), { hello: 1 });
  const second = await (await chat(peer.url, body)).json();
  assert.equal(second.choices[0].message.content, "Scripted answer");
  const third = await (await chat(peer.url, body)).json();
  assert.equal(third.choices[0].message.content, "Echo: x");
  assert.equal(peer.queued, 0);
});

Deno.test("startPeer() streams scripted chunks", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["Hel", "lo"], chunkDelayMs: 1 });
  const response = await chat(peer.url, { model: "m", stream: true, messages: [] });
  const events = sseData(await response.text());
  const texts = events.slice(1, -2).map((event) => JSON.parse(event).choices[0].delta.content);
  assert.deepEqual(texts, ["Hel", "lo"]);
  assert.equal(events.at(-1), "[DONE]");
});

Deno.test("startPeer({chunkDelayMs}) waits between the words of every streamed answer, unless a reply sets its own", async () => {
  await using peer = await startPeer({ chunkDelayMs: 60_000 });
  const body = { model: "m", stream: true, messages: [{ role: "user", content: "one two" }] };
  const response = await chat(peer.url, body);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  while (!received.includes('"content":"Echo:"')) received += (await reader.read()).value;
  await reader.cancel();
  // The first word came at once; the next waits out the delay, so the cancel came first.
  assert.ok(!received.includes("one"), received);
  await waitFor(() => peer.active === 0);

  peer.enqueue({ chunkDelayMs: 0 });
  const texts = sseData(await (await chat(peer.url, body)).text()).slice(1, -2)
    .map((event) => JSON.parse(event).choices[0].delta.content);
  assert.deepEqual(texts, ["Echo:", " one", " two"]);
  // Plain answers are not delayed.
  const plain = await chat(peer.url, { ...body, stream: false });
  assert.equal((await plain.json()).choices[0].message.content, "Echo: one two");
});

Deno.test("startPeer() answers status, error body and headers", async () => {
  await using peer = await startPeer();
  peer.enqueue({
    status: 429,
    error: { message: "Slow down", type: "rate_limit_error", code: "rate_limit_exceeded" },
    headers: { "retry-after": "1", "x-request-id": "req_123" },
  });
  const response = await chat(peer.url, { model: "m", messages: [] });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), "1");
  assert.equal(response.headers.get("x-request-id"), "req_123");
  const body = await response.json();
  assert.equal(body.error.message, "Slow down");
  assert.equal(body.error.code, "rate_limit_exceeded");
  assert.equal(body.error.type, "rate_limit_error");
});

Deno.test("startPeer() sends a default error body for a bare error status", async () => {
  await using peer = await startPeer();
  peer.enqueue({ status: 503 }, { error: "boom" });
  const first = await chat(peer.url, { model: "m", messages: [] });
  assert.equal(first.status, 503);
  assert.equal((await first.json()).error.message, "HTTP 503");
  const second = await chat(peer.url, { model: "m", messages: [] });
  assert.equal(second.status, 500);
  assert.equal((await second.json()).error.message, "boom");
});

Deno.test("startPeer() answers 404 in OpenAI's error shape for unknown paths", async () => {
  await using peer = await startPeer();
  const response = await fetch(`${peer.url}/nope`);
  assert.equal(response.status, 404);
  const body = await response.json();
  assert.equal(typeof body.error.message, "string");
  assert.equal(body.error.type, "invalid_request_error");
  assert.ok("code" in body.error);
});

Deno.test("startPeer() lists models", async () => {
  await using peer = await startPeer({ models: ["a", "b"] });
  const body = await (await fetch(`${peer.url}/models`)).json();
  assert.equal(body.object, "list");
  assert.deepEqual(body.data.map((model: { id: string }) => model.id), ["a", "b"]);
});

Deno.test("startPeer() cuts a stream without finish_reason or [DONE]", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], cutAfter: 2 });
  const response = await chat(peer.url, { model: "m", stream: true, messages: [] });
  const events = sseData(await response.text());
  assert.equal(events.length, 3);
  assert.ok(events.every((event) => event !== "[DONE]" && !event.includes('"finish_reason":"s')));
});

Deno.test("startPeer() can break the connection when it cuts a stream", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], cutAfter: 1, cutWithError: true });
  const response = await chat(peer.url, { model: "m", stream: true, messages: [] });
  await assert.rejects(response.text());
});

Deno.test("startPeer() sends malformed JSON and raw bodies", async () => {
  await using peer = await startPeer();
  peer.enqueue({ malformed: true }, { raw: "<html>", contentType: "text/html", status: 502 });
  const first = await chat(peer.url, { model: "m", messages: [] });
  assert.equal(first.status, 200);
  await assert.rejects(first.json(), SyntaxError);
  const second = await chat(peer.url, { model: "m", messages: [] });
  assert.equal(second.status, 502);
  assert.equal(second.headers.get("content-type"), "text/html");
  assert.equal(await second.text(), "<html>");
});

Deno.test("startPeer() delays a reply", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 20, text: "late" });
  const body = await (await chat(peer.url, { model: "m", messages: [] })).json();
  assert.equal(body.choices[0].message.content, "late");
});

Deno.test("startPeer() cancels a delay when the client aborts (no leaked timer)", async () => {
  await using peer = await startPeer();
  peer.enqueue({ delayMs: 60_000 });
  const controller = new AbortController();
  const pending = chat(peer.url, { model: "m", messages: [] }, { signal: controller.signal });
  await waitFor(() => peer.active === 1);
  controller.abort();
  await assert.rejects(pending, (error: Error) => error.name === "AbortError");
  // The peer noticed the disconnect and cleared its timer before close().
  await waitFor(() => peer.active === 0);
});

Deno.test("startPeer() cancels a slow stream when the client stops reading", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b", "c"], chunkDelayMs: 60_000 });
  const response = await chat(peer.url, { model: "m", stream: true, messages: [] });
  const reader = response.body!.getReader();
  await reader.read();
  assert.equal(peer.active, 1);
  await reader.cancel();
  await waitFor(() => peer.active === 0);
});

Deno.test("startPeer() close() ends pending delayed requests", async () => {
  const peer = await startPeer();
  peer.enqueue({ delayMs: 60_000 });
  const pending = chat(peer.url, { model: "m", messages: [] }).then(
    async (response) => {
      await response.body?.cancel();
      return response.status;
    },
    () => "failed",
  );
  await waitFor(() => peer.requests.length === 1);
  await peer.close();
  await peer.close();
  assert.ok([499, "failed"].includes(await pending));
});

Deno.test("startPeer() uses a custom handler and reset() forgets requests", async () => {
  await using peer = await startPeer({ handler: () => ({ text: "custom" }) });
  const body = { model: "m", messages: [] };
  assert.equal((await (await chat(peer.url, body)).json()).choices[0].message.content, "custom");
  peer.setHandler((request) => ({ json: { path: request.path } }));
  peer.enqueue({ delayMs: 1 });
  assert.deepEqual(await (await chat(peer.url, body)).json(), { path: "/v1/chat/completions" });
  peer.reset();
  assert.equal(peer.requests.length, 0);
  assert.throws(() => peer.lastRequest(), /no request/);
});

Deno.test("echoAnswer() and wordChunks() build the default answer", () => {
  assert.equal(echoAnswer({ messages: [{ role: "user", content: "a  b" }] }), "Echo: a  b");
  assert.equal(echoAnswer({}), "Echo: ");
  assert.deepEqual(wordChunks("Echo: a b"), ["Echo:", " a", " b"]);
  assert.equal(wordChunks("x  y\nz").join(""), "x  y\nz");
});
