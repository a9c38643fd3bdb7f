import assert from "node:assert/strict";
import {
  BackendFeature,
  createAI,
  ImproperlyConfigured,
  InvalidImageError,
  LLMBackend,
  LLMModel,
  type Model,
  NotFoundError,
  OpenAIChatModel,
  registerPlugin,
  UnknownModelError,
  unregisterPlugin,
  UnsupportedFeatureError,
} from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";
import { runScript, type TempUserDir, tempUserDir } from "./_llm.ts";

// A 1x1 PNG.
const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/** Models of the peer, declared in extra-openai-models.yaml as a user would. */
function peerModels(peer: Peer): string {
  return `
- model_id: customgateway-gpt-3.5-turbo
  model_name: gpt-3.5-turbo
  api_base: "${peer.url}"
  headers:
    apikey: your-api-key
- model_id: gpt-4o-mini
  api_base: "${peer.url}"
  api_key_name: openai
  vision: true
  aliases: [4o-mini]
- model_id: gpt-3.5-turbo
  api_base: "${peer.url}"
  api_key_name: openai
- model_id: o3
  api_base: "${peer.url}"
  api_key_name: openai
  reasoning: true
- model_id: batch-only
  model_name: gpt-4o
  api_base: "${peer.url}"
  can_stream: false
`;
}

async function setup(): Promise<{ peer: Peer; dir: TempUserDir } & AsyncDisposable> {
  const peer = await startPeer();
  const dir = await tempUserDir({
    "extra-openai-models.yaml": peerModels(peer),
    "keys.json": JSON.stringify({ openai: "sk-stored-openai", other: "sk-other-named" }),
  });
  return {
    peer,
    dir,
    async [Symbol.asyncDispose]() {
      await peer.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

function backend(
  dir: TempUserDir,
  config: Record<string, unknown>,
  cls: string = "llm",
): LLMBackend {
  const ai = createAI(
    { BACKENDS: { default: { CLASS: cls, CONFIG: config as { MODEL_ID: string } } } },
    { llmUserPath: dir.path },
  );
  return ai.getAIBackend("default") as LLMBackend;
}

Deno.test("the seed's extra-openai-models.yaml works as written: proxy headers, no key, TOKEN_LIMIT", async () => {
  await using env = await setup();
  const llm = backend(env.dir, {
    MODEL_ID: "customgateway-gpt-3.5-turbo",
    TOKEN_LIMIT: 4096,
  }, "wagtail_ai.ai.llm.LLMBackend");
  assert.equal(llm.config.tokenLimit, 4096);
  const answer = await llm.promptWithContext({ prePrompt: "Correct this:", context: "teh cat" })
    .text();
  assert.equal(answer, "Echo: Correct this:\nteh cat");
  const request = env.peer.lastRequest();
  assert.equal(request.path, "/v1/chat/completions");
  assert.equal(request.headers.apikey, "your-api-key");
  assert.equal(request.headers.authorization, undefined, "no OpenAI key goes to the proxy");
  assert.equal(request.body.model, "gpt-3.5-turbo");
  assert.deepEqual(request.body.messages, [{ role: "user", content: "Correct this:\nteh cat" }]);
  assert.equal(request.body.stream, true);
});

Deno.test("a custom YAML model without TOKEN_LIMIT is an error naming the model and TOKEN_LIMIT", async () => {
  await using env = await setup();
  assert.throws(
    () => backend(env.dir, { MODEL_ID: "customgateway-gpt-3.5-turbo" }),
    (error: Error) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(error.message, /"customgateway-gpt-3\.5-turbo"/);
      assert.match(error.message, /set TOKEN_LIMIT in CONFIG of backend "default"/);
      return true;
    },
  );
});

Deno.test("TOKEN_LIMIT defaults to the context window of the model an alias names", async () => {
  await using dir = await tempUserDir();
  assert.equal(backend(dir, { MODEL_ID: "4o" }).config.tokenLimit, 128_000);
  assert.equal(backend(dir, { MODEL_ID: "3.5" }).config.tokenLimit, 16_385);
  assert.equal(backend(dir, { MODEL_ID: "4.1-mini" }).config.tokenLimit, 1_047_576);
  assert.equal(
    backend(dir, { MODEL_ID: "4.1-mini", TOKEN_LIMIT: 32_768 }).config.tokenLimit,
    32_768,
  );
  assert.throws(
    () => backend(dir, { MODEL_ID: "4o", TOKEN_LIMIT: 0 }),
    /TOKEN_LIMIT in CONFIG of backend "default"/,
  );
});

Deno.test("createAI() without BACKENDS builds the LLM backend with gpt-3.5-turbo", async () => {
  await using dir = await tempUserDir();
  const ai = createAI(undefined, { llmUserPath: dir.path });
  const llm = ai.getBackend(BackendFeature.TEXT_COMPLETION);
  assert.ok(llm instanceof LLMBackend);
  assert.equal(llm.config.modelId, "gpt-3.5-turbo");
  assert.equal(llm.getLLMModel().modelId, "gpt-3.5-turbo");
  assert.equal(llm.config.tokenLimit, 16_385);
});

Deno.test("CLASS accepts llm, LLMBackend, the upstream dotted name and the class", async () => {
  await using dir = await tempUserDir();
  for (const cls of ["llm", "LLMBackend", "wagtail_ai.ai.llm.LLMBackend"]) {
    assert.ok(backend(dir, { MODEL_ID: "4o" }, cls) instanceof LLMBackend);
  }
  const ai = createAI({ BACKENDS: { x: { CLASS: LLMBackend, CONFIG: { MODEL_ID: "4o" } } } }, {
    llmUserPath: dir.path,
  });
  assert.ok(ai.getAIBackend("x") instanceof LLMBackend);
});

Deno.test("an unknown MODEL_ID is UnknownModelError naming the model and the backend", async () => {
  await using dir = await tempUserDir();
  assert.throws(() => backend(dir, { MODEL_ID: "gpt-17" }), (error: Error) => {
    assert.ok(error instanceof UnknownModelError);
    assert.match(
      error.message,
      /Unknown model "gpt-17" in MODEL_ID of CONFIG of backend "default"/,
    );
    assert.match(error.message, /"models" command/);
    return true;
  });
});

Deno.test("bad CONFIG, INIT_KWARGS and PROMPT_KWARGS are errors naming the key and the alias", async () => {
  await using dir = await tempUserDir();
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { MODEL_ID: "4o", API_BASE: "x" },
      /CONFIG of backend "default" has an unknown key "API_BASE"/,
    ],
    [{}, /CONFIG of backend "default" is missing MODEL_ID/],
    [{ MODEL_ID: 4 }, /MODEL_ID in CONFIG of backend "default" must be a string/],
    [
      { MODEL_ID: "4o", INIT_KWARGS: "key" },
      /INIT_KWARGS in CONFIG of backend "default" must be an object/,
    ],
    [
      { MODEL_ID: "4o", INIT_KWARGS: { key: 12 } },
      /INIT_KWARGS\.key in CONFIG of backend "default" must be a non-empty string/,
    ],
    [
      { MODEL_ID: "4o", INIT_KWARGS: { temperature: 5 } },
      /Option "temperature" for model "gpt-4o" in INIT_KWARGS in CONFIG of backend "default" must be a number from 0 to 2, got 5/,
    ],
    [
      { MODEL_ID: "4o", INIT_KWARGS: { api_base: "x" } },
      /Unknown option "api_base" for model "gpt-4o" in INIT_KWARGS in CONFIG of backend "default"/,
    ],
    [
      { MODEL_ID: "4o", PROMPT_KWARGS: [] },
      /PROMPT_KWARGS in CONFIG of backend "default" must be an object/,
    ],
    [
      { MODEL_ID: "4o", PROMPT_KWARGS: { system: 3 } },
      /PROMPT_KWARGS\.system in CONFIG of backend "default"/,
    ],
    [{ MODEL_ID: "4o", PROMPT_KWARGS: { stream: "no" } }, /PROMPT_KWARGS\.stream .* true or false/],
    [
      { MODEL_ID: "4o", PROMPT_KWARGS: { top_p: 2 } },
      /Option "top_p" for model "gpt-4o" in PROMPT_KWARGS in CONFIG of backend "default"/,
    ],
    [
      { MODEL_ID: "4o", PROMPT_KWARGS: { sytem: "x" } },
      /Unknown option "sytem" for model "gpt-4o" in PROMPT_KWARGS/,
    ],
    [
      { MODEL_ID: "4o", INIT_KWARGS: { __proto__: null, constructor: 1 } },
      /forbidden key "constructor"/,
    ],
  ];
  for (const [config, pattern] of cases) {
    assert.throws(
      () => backend(dir, config),
      (error: Error) => error instanceof ImproperlyConfigured && pattern.test(error.message),
      `${JSON.stringify(config)} should fail with ${pattern}`,
    );
  }
});

Deno.test("getLLMModel() returns the model with INIT_KWARGS key and options set, secrets hidden", async () => {
  await using dir = await tempUserDir();
  const llm = backend(dir, {
    MODEL_ID: "4o-mini",
    INIT_KWARGS: { key: "sk-init-secret", temperature: 0.3, stop: "END" },
    PROMPT_KWARGS: { system: "Be brief." },
  });
  const model = llm.getLLMModel();
  assert.ok(model instanceof LLMModel);
  assert.equal(model.modelId, "gpt-4o-mini");
  assert.equal(model.key, "sk-init-secret");
  assert.deepEqual(model.options, { temperature: 0.3, stop: "END" });
  assert.equal(model.vision, true);
  assert.equal(model.canStream, true);
  assert.deepEqual(llm.config.initKwargs, { key: "sk-init-secret", temperature: 0.3, stop: "END" });
  assert.deepEqual(llm.config.promptKwargs, { system: "Be brief." });
  for (
    const shown of [
      JSON.stringify(llm),
      Deno.inspect(llm, { depth: 10 }),
      JSON.stringify(model),
      Deno.inspect(model, { depth: 10 }),
      JSON.stringify(llm.config),
      Deno.inspect(llm.config, { depth: 10 }),
    ]
  ) {
    assert.ok(!shown.includes("sk-init-secret"), shown);
  }
});

Deno.test("promptWithContext(): user message joined by newlines, PROMPT_KWARGS system and options, streamed", async () => {
  await using env = await setup();
  const llm = backend(env.dir, {
    MODEL_ID: "4o-mini",
    INIT_KWARGS: { temperature: 0.2, max_tokens: 50 },
    PROMPT_KWARGS: { system: "A custom, global system prompt.", temperature: 0.7, seed: 1 },
  });
  const response = llm.promptWithContext({
    prePrompt: "Correct this:",
    context: "teh cat sat",
    postPrompt: "Answer with the text only.",
  });
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.ok(chunks.length > 1, "streamed in pieces");
  assert.equal(chunks.join(""), "Echo: Correct this:\nteh cat sat\nAnswer with the text only.");
  const usage = await response.usage();
  assert.ok(usage && usage.inputTokens > 0 && usage.outputTokens > 0, "usage from the stream");
  const request = env.peer.lastRequest();
  assert.equal(env.peer.requests.length, 1, "text() after iteration sends nothing more");
  assert.equal(request.body.model, "gpt-4o-mini");
  assert.deepEqual(request.body.messages, [
    { role: "system", content: "A custom, global system prompt." },
    { role: "user", content: "Correct this:\nteh cat sat\nAnswer with the text only." },
  ]);
  assert.equal(request.body.temperature, 0.7, "PROMPT_KWARGS beat INIT_KWARGS");
  assert.equal(request.body.max_tokens, 50);
  assert.equal(request.body.seed, 1);
  assert.equal(request.body.stream, true);
  assert.equal(request.headers.authorization, "Bearer sk-stored-openai");
  // No post prompt: two parts only.
  await llm.promptWithContext({ prePrompt: "A", context: "B" }).text();
  assert.equal(env.peer.lastRequest().body.messages[1].content, "A\nB");
});

Deno.test("a model that cannot stream, or PROMPT_KWARGS stream false, is asked in one request", async () => {
  await using env = await setup();
  const batch = backend(env.dir, { MODEL_ID: "batch-only", TOKEN_LIMIT: 1000 });
  assert.equal(batch.getLLMModel().canStream, false);
  const chunks: string[] = [];
  for await (const chunk of batch.promptWithContext({ prePrompt: "x", context: "y" })) {
    chunks.push(chunk);
  }
  assert.deepEqual(chunks, ["Echo: x\ny"]);
  assert.notEqual(env.peer.lastRequest().body.stream, true);
  const off = backend(env.dir, { MODEL_ID: "4o-mini", PROMPT_KWARGS: { stream: false } });
  assert.equal(await off.promptWithContext({ prePrompt: "p", context: "c" }).text(), "Echo: p\nc");
  assert.notEqual(env.peer.lastRequest().body.stream, true);
});

Deno.test("options map to the request: json_object, stop lists, max_completion_tokens for reasoning models", async () => {
  await using env = await setup();
  const llm = backend(env.dir, {
    MODEL_ID: "4o-mini",
    PROMPT_KWARGS: { json_object: true, stop: ["\n\n", "END"], logit_bias: { "1712": -100 } },
  });
  await llm.promptWithContext({ prePrompt: "JSON please", context: "{}" }).text();
  const body = env.peer.lastRequest().body;
  assert.deepEqual(body.response_format, { type: "json_object" });
  assert.deepEqual(body.stop, ["\n\n", "END"]);
  assert.deepEqual(body.logit_bias, { "1712": -100 });
  assert.equal(body.json_object, undefined);
  // A reasoning model declared with its own api_base keeps max_tokens (compatible servers).
  const o3 = backend(env.dir, {
    MODEL_ID: "o3",
    INIT_KWARGS: { max_tokens: 20, reasoning_effort: "low" },
  });
  await o3.promptWithContext({ prePrompt: "a", context: "b" }).text();
  assert.equal(env.peer.lastRequest().body.max_tokens, 20);
  assert.equal(env.peer.lastRequest().body.reasoning_effort, "low");
});

Deno.test("OpenAI's own reasoning models get max_completion_tokens", () => {
  const model = new OpenAIChatModel("o4-mini", { reasoning: true });
  assert.deepEqual(model.buildOptions({ max_tokens: 10, json_object: false }), {
    max_completion_tokens: 10,
  });
  const chat = new OpenAIChatModel("gpt-4o");
  assert.deepEqual(chat.buildOptions({ max_tokens: 10 }), { max_tokens: 10 });
});

Deno.test("INIT_KWARGS key: an explicit key, or the name of a keys.json entry, is sent", async () => {
  await using env = await setup();
  const explicit = backend(env.dir, { MODEL_ID: "4o-mini", INIT_KWARGS: { key: "sk-explicit-1" } });
  await explicit.promptWithContext({ prePrompt: "a", context: "b" }).text();
  assert.equal(env.peer.lastRequest().headers.authorization, "Bearer sk-explicit-1");
  const named = backend(env.dir, { MODEL_ID: "4o-mini", INIT_KWARGS: { key: "other" } });
  await named.promptWithContext({ prePrompt: "a", context: "b" }).text();
  assert.equal(env.peer.lastRequest().headers.authorization, "Bearer sk-other-named");
  // A proxy model gets only an explicit key.
  const proxy = backend(env.dir, {
    MODEL_ID: "customgateway-gpt-3.5-turbo",
    TOKEN_LIMIT: 4096,
    INIT_KWARGS: { key: "sk-for-proxy" },
  });
  await proxy.promptWithContext({ prePrompt: "a", context: "b" }).text();
  assert.equal(env.peer.lastRequest().headers.authorization, "Bearer sk-for-proxy");
});

Deno.test("a missing key throws MissingAPIKeyError at the call, naming keys.json and OPENAI_API_KEY", async () => {
  const peer = await startPeer();
  try {
    await using dir = await tempUserDir({ "extra-openai-models.yaml": peerModels(peer) });
    const run = await runScript(
      `
      import { createAI } from "MOD";
      const ai = createAI({ BACKENDS: { default: { CLASS: "llm", CONFIG: { MODEL_ID: "4o-mini" } } } },
        { llmUserPath: Deno.env.get("TEST_USER_PATH") });
      const backend = ai.getAIBackend("default");
      try {
        backend.promptWithContext({ prePrompt: "a", context: "b" });
        console.log("no error");
      } catch (error) {
        console.log(error.name + ": " + error.message);
      }
      `,
      { TEST_USER_PATH: dir.path },
    );
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^MissingAPIKeyError: No API key found for model "gpt-4o-mini"/);
    assert.ok(run.stdout.includes(`${dir.path}/keys.json`));
    assert.match(run.stdout, /OPENAI_API_KEY environment variable/);
    assert.equal(peer.requests.length, 0, "nothing was sent");
  } finally {
    await peer.close();
  }
});

Deno.test("OPENAI_API_KEY from the environment reaches OpenAI models and never the proxy", async () => {
  const peer = await startPeer();
  try {
    await using dir = await tempUserDir({ "extra-openai-models.yaml": peerModels(peer) });
    const run = await runScript(
      `
      import { createAI } from "MOD";
      const ai = createAI({ BACKENDS: {
        a: { CLASS: "llm", CONFIG: { MODEL_ID: "4o-mini" } },
        b: { CLASS: "llm", CONFIG: { MODEL_ID: "customgateway-gpt-3.5-turbo", TOKEN_LIMIT: 4096 } },
      } }, { llmUserPath: Deno.env.get("TEST_USER_PATH") });
      for (const alias of ["a", "b"]) {
        console.log(await ai.getAIBackend(alias).promptWithContext({ prePrompt: alias, context: "x" }).text());
      }
      `,
      { TEST_USER_PATH: dir.path, OPENAI_API_KEY: "sk-env-only" },
    );
    assert.equal(run.stdout, "Echo: a\nx\nEcho: b\nx\n", run.stderr);
    assert.equal(peer.requests[0].headers.authorization, "Bearer sk-env-only");
    assert.equal(peer.requests[1].headers.authorization, undefined);
    assert.equal(peer.requests[1].headers.apikey, "your-api-key");
  } finally {
    await peer.close();
  }
});

Deno.test("describeImage() sends the image as an image_url data URL to a vision model", async () => {
  await using env = await setup();
  const llm = backend(env.dir, {
    MODEL_ID: "4o-mini",
    PROMPT_KWARGS: { system: "Alt text only." },
  });
  const answer = await llm.describeImage({
    image: new File([PNG], "pixel.jpg"),
    prompt: "Describe this image",
  }).text();
  assert.equal(answer, `Echo: Describe this image [image image/png ${PNG.length} bytes]`);
  const messages = env.peer.lastRequest().body.messages;
  assert.deepEqual(messages[0], { role: "system", content: "Alt text only." });
  assert.equal(messages[1].role, "user");
  assert.deepEqual(messages[1].content[0], { type: "text", text: "Describe this image" });
  assert.equal(messages[1].content[1].type, "image_url");
  assert.match(messages[1].content[1].image_url.url, /^data:image\/png;base64,iVBOR/);
  // Bytes with a file name, and a Blob.
  await llm.describeImage({ image: PNG, fileName: "a.png", prompt: "What?" }).text();
  await llm.describeImage({ image: new Blob([PNG]), prompt: "What?" }).text();
  assert.equal(env.peer.requests.length, 3);
});

Deno.test("describeImage() with a model without vision throws UnsupportedFeatureError at the call", async () => {
  await using env = await setup();
  const llm = backend(env.dir, { MODEL_ID: "gpt-3.5-turbo" });
  assert.throws(
    () => llm.describeImage({ image: PNG, prompt: "Describe" }),
    (error: Error) => {
      assert.ok(error instanceof UnsupportedFeatureError);
      assert.match(
        error.message,
        /Backend "default" cannot describe images: model "gpt-3\.5-turbo" has no vision/,
      );
      return true;
    },
  );
  const vision = backend(env.dir, { MODEL_ID: "4o-mini" });
  assert.throws(() => vision.describeImage({ image: PNG, prompt: " " }), TypeError);
  assert.throws(
    () => vision.describeImage({ image: new Uint8Array(), prompt: "x" }),
    InvalidImageError,
  );
  // A type vision APIs do not take is refused before anything is sent: bytes at the call,
  // a Blob when it is read.
  const bmp = new Uint8Array([0x42, 0x4d, 1, 2, 3, 4]);
  assert.throws(
    () => vision.describeImage({ image: bmp, prompt: "x" }),
    /bytes are a BMP image \(image\/bmp\)/,
  );
  await assert.rejects(
    () => vision.describeImage({ image: new Blob([bmp]), prompt: "x" }).text(),
    InvalidImageError,
  );
  assert.equal(env.peer.requests.length, 0);
});

Deno.test("API errors surface when the answer is read, as typed errors", async () => {
  await using env = await setup();
  env.peer.enqueue({ status: 404, error: "The model does not exist" });
  const llm = backend(env.dir, { MODEL_ID: "4o-mini" });
  const response = llm.promptWithContext({ prePrompt: "a", context: "b" });
  await assert.rejects(() => response.text(), (error: Error) => {
    assert.ok(error instanceof NotFoundError);
    assert.ok(!error.message.includes("sk-stored-openai"));
    return true;
  });
});

Deno.test("an AbortSignal stops a streaming answer", async () => {
  await using env = await setup();
  env.peer.enqueue({ stream: ["one", " two", " three", " four"], chunkDelayMs: 200 });
  const controller = new AbortController();
  const llm = backend(env.dir, { MODEL_ID: "4o-mini" });
  const response = llm.promptWithContext({
    prePrompt: "a",
    context: "b",
    signal: controller.signal,
  });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of response) {
      seen.push(chunk);
      controller.abort();
    }
  }, (error: Error) => error.name === "AbortError");
  assert.deepEqual(seen, ["one"]);
});

Deno.test("a plugin model that is not OpenAI-based works end to end through createAI and LLMBackend", async () => {
  const calls: {
    prompt: string;
    system?: string;
    options: unknown;
    key: unknown;
    stream: boolean;
  }[] = [];
  const reverse: Model = {
    modelId: "reverse",
    label: "Reverse",
    contextWindow: 2048,
    needsKey: "reverse",
    optionSchema: { upper: { type: "boolean", description: "Answer in capitals." } },
    async *execute(prompt, context) {
      calls.push({
        prompt: prompt.prompt,
        ...(prompt.system ? { system: prompt.system } : {}),
        options: prompt.options,
        key: context.key,
        stream: context.stream,
      });
      const text = [...prompt.prompt].reverse().join("");
      for (const word of text.split(/(?= )/)) {
        yield { type: "text", text: prompt.options.upper ? word.toUpperCase() : word };
      }
      yield { type: "usage", usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } };
    },
  };
  registerPlugin({
    name: "reverse",
    registerModels(register) {
      register(reverse, { aliases: ["rev"] });
    },
  });
  try {
    await using dir = await tempUserDir({ "keys.json": JSON.stringify({ reverse: "rk-1" }) });
    const ai = createAI({
      BACKENDS: {
        default: {
          CLASS: "wagtail_ai.ai.llm.LLMBackend",
          CONFIG: { MODEL_ID: "rev", PROMPT_KWARGS: { system: "sys", upper: true } },
        },
      },
    }, { llmUserPath: dir.path });
    const llm = ai.getBackend() as LLMBackend;
    assert.equal(llm.config.tokenLimit, 2048);
    const response = llm.promptWithContext({ prePrompt: "ab", context: "cd ef" });
    const chunks: string[] = [];
    for await (const chunk of response) chunks.push(chunk);
    assert.deepEqual(chunks, ["FE", " DC\nBA"]);
    assert.deepEqual(await response.usage(), {
      inputTokens: 1,
      outputTokens: 2,
      totalTokens: 3,
      alias: "default",
      provider: "llm",
      model: "reverse",
      backend: "default",
      fallbackFrom: [],
    });
    assert.deepEqual(calls, [{
      prompt: "ab\ncd ef",
      system: "sys",
      options: { upper: true },
      key: "rk-1",
      stream: true,
    }]);
    assert.throws(() => llm.describeImage({ image: PNG, prompt: "x" }), UnsupportedFeatureError);
    const splitter = await llm.getTextSplitter();
    assert.ok(splitter.splitText("word ".repeat(10)).length >= 1);
    // Its own option schema is enforced.
    assert.throws(
      () =>
        createAI({
          BACKENDS: {
            default: { CLASS: "llm", CONFIG: { MODEL_ID: "rev", INIT_KWARGS: { upper: "yes" } } },
          },
        }, { llmUserPath: dir.path }).getAIBackend("default"),
      /Option "upper" for model "reverse" in INIT_KWARGS/,
    );
  } finally {
    unregisterPlugin("reverse");
  }
});

Deno.test("LLMModel.prompt() checks its arguments at the call", async () => {
  await using dir = await tempUserDir();
  const noSystem: Model = {
    modelId: "no-system",
    supportsSystemPrompt: false,
    attachmentTypes: ["image/png"],
    async *execute() {},
  };
  const model = new LLMModel(noSystem, { userPath: dir.path });
  assert.throws(() => model.prompt(3 as never), TypeError);
  assert.throws(() => model.prompt("x", { system: "s" }), UnsupportedFeatureError);
  assert.throws(
    () => model.prompt("x", { options: { temperature: 1 } }),
    /Unknown option "temperature" for model "no-system"/,
  );
  assert.throws(
    () =>
      model.prompt("x", { attachments: [{ mimeType: "image/gif", bytes: new Uint8Array([1]) }] }),
    /cannot take image\/gif attachments/,
  );
  assert.throws(() => model.prompt("x", { attachments: ["nope" as never] }), TypeError);
  assert.equal(
    await model.prompt("x", { attachments: [{ mimeType: "image/png", bytes: PNG }] }).text(),
    "",
  );
  const textOnly = new LLMModel({ modelId: "t", async *execute() {} });
  assert.throws(() => textOnly.prompt("x", { attachments: [PNG] }), /takes no attachments/);
});

Deno.test("without read permission for the user directory the backend says so in one clear error", async () => {
  await using dir = await tempUserDir();
  const run = await runScript(
    `
    import { createAI } from "MOD";
    try {
      createAI({}, { llmUserPath: Deno.env.get("TEST_USER_PATH") }).getAIBackend("default");
      console.log("no error");
    } catch (error) {
      console.log(error.name + ": " + error.message);
    }
    `,
    { TEST_USER_PATH: dir.path },
    ["--allow-env"],
  );
  assert.match(
    run.stdout,
    /^ImproperlyConfigured: Cannot access ".*llm-user-.*": read permission denied \(run with --allow-read\)/,
  );
});

Deno.test("an AbortSignal stops the answer of a plugin model that ignores it", async () => {
  let release: () => void = () => {};
  const hang = new Promise<void>((resolve) => release = resolve);
  let pieces = 0;
  let closed = false;
  registerPlugin({
    name: "deaf",
    registerModels(register) {
      register({
        modelId: "deaf",
        contextWindow: 100,
        async *execute() {
          try {
            pieces++;
            yield { type: "text", text: "one" };
            pieces++;
            yield { type: "text", text: " two" };
            await hang; // never checks context.signal
            pieces++;
            yield { type: "text", text: " three" };
          } finally {
            closed = true;
          }
        },
      });
    },
  });
  try {
    await using dir = await tempUserDir();
    const llm = backend(dir, { MODEL_ID: "deaf" });
    // Aborted between pieces: no further piece is read.
    const first = new AbortController();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (
        const chunk of llm.promptWithContext({ prePrompt: "a", context: "b", signal: first.signal })
      ) {
        seen.push(chunk);
        first.abort();
      }
    }, (error: Error) => error.name === "AbortError");
    assert.deepEqual(seen, ["one"]);
    assert.equal(pieces, 1);
    // Aborted while the model waits: text() rejects at once.
    const second = new AbortController();
    const response = llm.promptWithContext({ prePrompt: "a", context: "b", signal: second.signal });
    const text = response.text();
    while (pieces < 3) await new Promise((resolve) => setTimeout(resolve, 0));
    second.abort();
    await assert.rejects(text, (error: Error) => error.name === "AbortError");
  } finally {
    release();
    unregisterPlugin("deaf");
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(closed, true, "the model's generator is closed");
});

Deno.test("promptWithContext() and describeImage() send per-call options over PROMPT_KWARGS and INIT_KWARGS", async () => {
  await using env = await setup();
  const llm = backend(env.dir, {
    MODEL_ID: "4o-mini",
    INIT_KWARGS: { max_tokens: 50 },
    PROMPT_KWARGS: { temperature: 0.7, seed: 1 },
  });
  await llm.promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { temperature: 0.1, json_object: true },
  }).text();
  let body = env.peer.lastRequest().body;
  assert.equal(body.temperature, 0.1);
  assert.equal(body.seed, 1);
  assert.equal(body.max_tokens, 50);
  assert.deepEqual(body.response_format, { type: "json_object" });
  assert.equal(body.json_object, undefined);
  await llm.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 5 } }).text();
  body = env.peer.lastRequest().body;
  assert.equal(body.max_tokens, 5);
  assert.equal(body.temperature, 0.7);
  await llm.describeImage({ image: PNG, prompt: "Alt", options: { stop: ["END"] } }).text();
  body = env.peer.lastRequest().body;
  assert.deepEqual(body.stop, ["END"]);
  assert.equal(body.temperature, 0.7);
  // No options, or empty ones: the configured request.
  await llm.promptWithContext({ prePrompt: "p", context: "c" }).text();
  const without = env.peer.lastRequest().body;
  await llm.promptWithContext({ prePrompt: "p", context: "c", options: {} }).text();
  assert.deepEqual(env.peer.lastRequest().body, without);
  assert.equal(without.temperature, 0.7);
  assert.equal(without.response_format, undefined);
});

Deno.test("per-call options of the LLM backend are checked against the model at the call (a TypeError)", async () => {
  await using env = await setup();
  const llm = backend(env.dir, { MODEL_ID: "4o-mini" });
  const modelErrors: [Record<string, unknown>, RegExp][] = [
    [
      { max_completion_tokens: 5 },
      /^Unknown option "max_completion_tokens" for model "gpt-4o-mini" in options of promptWithContext\(\) on backend "default" \(options: temperature, max_tokens,/,
    ],
    [
      { temperature: 3 },
      /^Option "temperature" for model "gpt-4o-mini" in options of promptWithContext\(\) on backend "default" must be a number from 0 to 2, got 3$/,
    ],
    [{ reasoning_effort: "low" }, /Unknown option "reasoning_effort"/],
    [{ key: "sk-per-call" }, /Unknown option "key"/],
  ];
  for (const [options, pattern] of modelErrors) {
    assert.throws(
      () => llm.promptWithContext({ prePrompt: "p", context: "c", options }),
      (error: Error) => {
        // A wrong argument of the call (TypeError), not wrong settings.
        assert.ok(error instanceof TypeError, `${error.name}: ${error.message}`);
        assert.ok(!(error instanceof ImproperlyConfigured));
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes("sk-per-call"));
        return true;
      },
    );
  }
  assert.throws(
    () => llm.describeImage({ image: PNG, prompt: "p", options: { temperature: "hot" } as never }),
    (error: Error) =>
      error instanceof TypeError &&
      /"temperature" .* in options of describeImage\(\) on backend "default"/.test(error.message),
  );
  const argumentErrors: [Record<string, unknown>, RegExp][] = [
    [
      { system: "Be terse." },
      /options of promptWithContext\(\) must not set "system".*PROMPT_KWARGS/,
    ],
    [{ stream: false }, /options of promptWithContext\(\) must not set "stream"/],
    [{ messages: [] }, /must not set "messages"/],
    [{ f: () => 1 }, /options\.f of promptWithContext\(\) must be JSON data/],
  ];
  for (const [options, pattern] of argumentErrors) {
    assert.throws(
      () => llm.promptWithContext({ prePrompt: "p", context: "c", options }),
      (error: Error) => error instanceof TypeError && pattern.test(error.message),
    );
  }
  assert.throws(
    () => llm.describeImage({ image: PNG, prompt: "p", options: { system: "x" } }),
    (error: Error) =>
      error instanceof TypeError && /describeImage\(\).*"system"/.test(error.message),
  );
  assert.equal(env.peer.requests.length, 0);
});

Deno.test("a per-call max_tokens of the LLM backend stays within PROMPT_KWARGS' or INIT_KWARGS'", async () => {
  await using env = await setup();
  for (
    const config of [{ PROMPT_KWARGS: { max_tokens: 50 } }, { INIT_KWARGS: { max_tokens: 50 } }]
  ) {
    const llm = backend(env.dir, { MODEL_ID: "4o-mini", ...config });
    await llm.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 5000 } })
      .text();
    assert.equal(env.peer.lastRequest().body.max_tokens, 50, JSON.stringify(config));
    await llm.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 20 } })
      .text();
    assert.equal(env.peer.lastRequest().body.max_tokens, 20);
  }
  // Without a configured cap the call's is sent as it is; null leaves the configured value.
  const free = backend(env.dir, { MODEL_ID: "4o-mini", PROMPT_KWARGS: { temperature: 0.5 } });
  await free.promptWithContext({ prePrompt: "p", context: "c", options: { max_tokens: 777 } })
    .text();
  assert.equal(env.peer.lastRequest().body.max_tokens, 777);
  await free.promptWithContext({
    prePrompt: "p",
    context: "c",
    options: { temperature: null } as never,
  })
    .text();
  assert.equal(env.peer.lastRequest().body.temperature, 0.5);
});

Deno.test("the LLM backend's errors and printed model name its api_base without user info or query credentials", async () => {
  await using peer = await startPeer();
  const port = new URL(peer.url).port;
  // The peer answers at any path; the URL carries a user, a password and a key in its query.
  const apiBase = `http://gwuser:pw-in-url@127.0.0.1:${port}/v1?api-key=sk-in-query&region=eu`;
  const refused = `http://gwuser:pw-in-url@127.0.0.1:9/v1?token=sk-in-query`;
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `- model_id: gw\n  model_name: gpt-4o\n  api_base: "${apiBase}"\n` +
      `- model_id: gone\n  model_name: gpt-4o\n  api_base: "${refused}"\n`,
  });
  const secrets = ["pw-in-url", "gwuser", "sk-in-query"];
  const clean = (text: string, what: string) => {
    for (const secret of secrets) assert.ok(!text.includes(secret), `${what}: ${text}`);
  };
  peer.enqueue({ status: 400, error: `bad request for ${apiBase}` });
  const gw = backend(dir, { MODEL_ID: "gw", TOKEN_LIMIT: 1000 });
  await assert.rejects(gw.promptWithContext({ prePrompt: "a", context: "b" }).text(), (error) => {
    clean(`${(error as Error).message} ${String(error)} ${JSON.stringify(error)}`, "400");
    return true;
  });
  const gone = backend(dir, { MODEL_ID: "gone", TOKEN_LIMIT: 1000 });
  await assert.rejects(gone.promptWithContext({ prePrompt: "a", context: "b" }).text(), (error) => {
    clean(`${(error as Error).message} ${String(error)}`, "refused");
    return true;
  });
  clean(Deno.inspect(gw.getLLMModel(), { depth: 10 }), "inspect");
  clean(JSON.stringify(gw.getLLMModel()), "JSON");
  clean(Deno.inspect(gw, { depth: 10 }), "backend");
});
