import assert from "node:assert/strict";
import { createAI, type EchoBackend, InvalidImageError } from "../mod.ts";

function echoBackend(config: Record<string, unknown> = {}): EchoBackend {
  return createAI({
    BACKENDS: {
      default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100, ...config } },
    },
  }).getAIBackend("default") as EchoBackend;
}

Deno.test("EchoBackend.promptWithContext() answers the echo sentence and the context's words", async () => {
  const backend = echoBackend();
  const response = backend.promptWithContext({
    prePrompt: "Fix:",
    context: " Hello \n big  world ",
    postPrompt: "Thanks",
  });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.deepEqual(chunks, [
    "This",
    " is",
    " an",
    " echo",
    " backend:",
    " Hello",
    " big",
    " world",
  ]);
  assert.equal(await response.text(), "This is an echo backend: Hello big world");
  assert.equal(backend.config.maxWordSleepSeconds, 0);
});

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);

Deno.test("EchoBackend.describeImage() answers with the file's name", async () => {
  const backend = echoBackend();
  const file = new File([JPEG], "cat.png");
  assert.equal(
    await backend.describeImage({ image: file, prompt: "Describe" }).text(),
    "This is an echo backend: cat.png",
  );
  const bytes = JPEG;
  assert.equal(
    await backend.describeImage({ image: bytes, prompt: "Describe", fileName: "dog.jpg" }).text(),
    "This is an echo backend: dog.jpg",
  );
  assert.equal(
    await backend.describeImage({ image: bytes, prompt: "Describe" }).text(),
    "This is an echo backend: image",
  );
});

Deno.test("EchoBackend rejects wrong arguments at the call", () => {
  const backend = echoBackend();
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "x", context: 3 as never }),
    /context must be a string/,
  );
  assert.throws(
    () => backend.promptWithContext({ prePrompt: 1 as never, context: "" }),
    /prePrompt must be a string/,
  );
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "", context: "", postPrompt: 2 as never }),
    /postPrompt/,
  );
  assert.throws(() => backend.promptWithContext(null as never), TypeError);
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "", context: "", signal: {} as never }),
    /signal must be an AbortSignal/,
  );
  assert.throws(
    () => backend.describeImage({ image: new Uint8Array([1]), prompt: "" }),
    /prompt must be a non-empty string/,
  );
  assert.throws(
    () => backend.describeImage({ image: "x" as never, prompt: "p" }),
    InvalidImageError,
  );
  assert.throws(() => backend.describeImage({ image: new Uint8Array(), prompt: "p" }), /empty/);
});

Deno.test("EchoBackend with MAX_WORD_SLEEP_SECONDS pauses between words and stops on abort", async () => {
  const backend = echoBackend({ MAX_WORD_SLEEP_SECONDS: 1 });
  assert.equal(backend.config.maxWordSleepSeconds, 1);
  const controller = new AbortController();
  const response = backend.promptWithContext({
    prePrompt: "",
    context: "a b c d e f g h i j k l",
    signal: controller.signal,
  });
  const chunks: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of response) {
      chunks.push(chunk);
      if (chunks.length === 1) controller.abort(new DOMException("stop", "AbortError"));
    }
  }, (error: Error) => error.name === "AbortError");
  assert.equal(chunks.length, 1);
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
});

Deno.test("EchoBackend honours an already aborted signal", async () => {
  const response = echoBackend().promptWithContext({
    prePrompt: "",
    context: "x",
    signal: AbortSignal.abort(),
  });
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
});

Deno.test("EchoBackend is printed without secrets and with its config", () => {
  const backend = echoBackend();
  const json = JSON.parse(JSON.stringify(backend));
  assert.equal(json.class, "EchoBackend");
  assert.equal(json.config.modelId, "echo");
  assert.match(Deno.inspect(backend), /EchoBackend/);
});

Deno.test("EchoBackend checks per-call options and otherwise ignores them", async () => {
  const backend = echoBackend();
  const answer = await backend.promptWithContext({
    prePrompt: "x",
    context: "hi",
    options: { temperature: 0.2, max_tokens: 1 },
  }).text();
  assert.equal(answer, "This is an echo backend: hi");
  const image = JPEG;
  assert.equal(
    await backend.describeImage({ image, prompt: "p", fileName: "a.png", options: { seed: 1 } })
      .text(),
    "This is an echo backend: a.png",
  );
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "", context: "", options: "hot" as never }),
    (error: Error) => error instanceof TypeError && /must be an object/.test(error.message),
  );
  assert.throws(
    () => backend.promptWithContext({ prePrompt: "", context: "", options: { model: "m" } }),
    (error: Error) => error instanceof TypeError && /must not set "model"/.test(error.message),
  );
  assert.throws(
    () => backend.describeImage({ image, prompt: "p", options: { f: () => 1 } as never }),
    (error: Error) =>
      error instanceof TypeError && /options\.f of describeImage\(\)/.test(error.message),
  );
});

Deno.test("EchoBackend takes any MAX_WORD_SLEEP_SECONDS Wagtail AI takes: a non-negative number a timer can hold", () => {
  for (const seconds of [0, 0.25, 1.5, 60, 61, 3600, 2_147_483.647]) {
    assert.equal(
      echoBackend({ MAX_WORD_SLEEP_SECONDS: seconds }).config.maxWordSleepSeconds,
      seconds,
    );
  }
  for (const seconds of [-1, -0.001, 2_147_483.648, Number.NaN, Infinity, "1", true]) {
    assert.throws(
      () => echoBackend({ MAX_WORD_SLEEP_SECONDS: seconds }),
      /MAX_WORD_SLEEP_SECONDS in CONFIG of backend "default" must be a number from 0 to 2147483\.647/,
      String(seconds),
    );
  }
});
