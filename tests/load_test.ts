// Load: 500 prompts at concurrency 50 against the test peer, 20% of first
// attempts failing with 429 or 500 (some with Retry-After): every prompt gets
// exactly its own answer, none lost or duplicated, retries as configured.
import assert from "node:assert/strict";
import { createAI, type OpenAIBackend } from "../mod.ts";
import { echoAnswer, type PeerReply, type RecordedRequest, startPeer } from "./_peer.ts";
import { prng } from "./_text.ts";

Deno.test("load: 500 prompts at concurrency 50 with 20% failures all get their own answer", async () => {
  await using peer = await startPeer();
  const random = prng(7);
  const attempts = new Map<string, number>();
  const failedOnce = new Set<string>();
  peer.setHandler((request: RecordedRequest): PeerReply => {
    const id = echoAnswer(request.body);
    attempts.set(id, (attempts.get(id) ?? 0) + 1);
    if (!failedOnce.has(id) && random() < 0.2) {
      failedOnce.add(id);
      const status = random() < 0.5 ? 429 : 500;
      const headers: Record<string, string> = random() < 0.5
        ? { "retry-after-ms": "5" }
        : { "retry-after": "0" };
      return { status, error: `transient failure ${status}`, headers };
    }
    const streaming = request.body.stream === true;
    return streaming ? { stream: [id.slice(0, 6), id.slice(6)] } : { text: id };
  });
  const backend = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          API_BASE: peer.url,
          OPENAI_API_KEY: "sk-load",
          MAX_RETRIES: 2,
        },
      },
    },
  }).getAIBackend("default") as OpenAIBackend;

  const total = 500;
  const answers: string[] = new Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const index = next++;
      const response = backend.promptWithContext({ prePrompt: "Echo", context: `prompt-${index}` });
      if (index % 2 === 0) answers[index] = await response.text();
      else {
        let text = "";
        for await (const chunk of response) text += chunk;
        answers[index] = text;
      }
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));

  for (let i = 0; i < total; i++) assert.equal(answers[i], `Echo: prompt-${i}`);
  assert.equal(new Set(answers).size, total);
  assert.ok(failedOnce.size > 50, `only ${failedOnce.size} failures injected`);
  for (const [id, count] of attempts) {
    assert.equal(count, failedOnce.has(id) ? 2 : 1, `${id} took ${count} attempts`);
  }
  assert.equal(peer.requests.length, total + failedOnce.size);
});

Deno.test("load: concurrent requests each get their own request id and completion id from the peer", async () => {
  await using peer = await startPeer();
  // A handler that takes a moment, so the requests overlap.
  peer.setHandler(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { text: echoAnswer(request.body) };
  });
  const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const response = await fetch(`${peer.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `n${i}` }] }),
    });
    const body = await response.json();
    return `${response.headers.get("x-request-id")} ${body.id}`;
  }));
  assert.equal(new Set(answers).size, 20, answers.join(", "));
});
