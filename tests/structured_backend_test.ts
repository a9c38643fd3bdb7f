// backend.promptForObject(): the OpenAI, provider and LLM backends against
// the test peers; the others say at the call that they cannot.
import assert from "node:assert/strict";
import {
  ContextLengthError,
  createAI,
  type JSONSchema,
  registerPlugin,
  StructuredOutputError,
  unregisterPlugin,
  UnsupportedFeatureError,
} from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { startAnthropicPeer } from "./_anthropic_peer.ts";
import { tempUserDir } from "./_llm.ts";

const SEO: JSONSchema = {
  type: "object",
  properties: {
    title: { type: "string", maxLength: 60 },
    description: { type: "string", maxLength: 155 },
  },
  required: ["title", "description"],
};
const GOOD = { title: "Spring in the park", description: "What flowers first, and where." };
const PAGE = {
  prePrompt: "Write an SEO title and meta description for this page.",
  context: "Our park in spring: the crocuses come first, by the east gate.",
};

Deno.test("OpenAIBackend.promptForObject(): system(prePrompt), user(context), json_schema, the answer capped", async () => {
  await using peer = await startPeer();
  const backend = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: "sk-backend",
          API_BASE: peer.url,
          MAX_RETRIES: 0,
        },
      },
    },
  }).getBackend();
  peer.enqueue({ text: JSON.stringify({ ...GOOD, title: "x".repeat(61) }) }, {
    text: JSON.stringify(GOOD),
  });
  const answer = await backend.promptForObject<typeof GOOD>({
    ...PAGE,
    schema: SEO,
    name: "seo",
    options: { seed: 7 },
  });
  assert.deepEqual(answer.object, GOOD);
  assert.equal(answer.strategy, "json_schema");
  assert.equal(peer.requests.length, 2);
  const body = peer.requests[0].body;
  assert.deepEqual(body.messages, [
    { role: "system", content: [{ type: "text", text: PAGE.prePrompt }] },
    { role: "user", content: [{ type: "text", text: PAGE.context }] },
  ]);
  assert.equal(body.seed, 7);
  assert.equal(body.response_format.json_schema.name, "seo");
  assert.equal(body.response_format.json_schema.strict, true);
  assert.equal(body.max_tokens, 16_384);
  // Wrong arguments throw at the call, before any request.
  for (const schema of [null, "x", [], 1]) {
    assert.throws(() => backend.promptForObject({ ...PAGE, schema: schema as never }), TypeError);
  }
  assert.throws(
    () => backend.promptForObject({ ...PAGE, context: 5 as never, schema: SEO }),
    TypeError,
  );
  assert.throws(
    () => backend.promptForObject({ ...PAGE, context: "  ", schema: SEO }),
    /context must be a non-empty string/,
  );
  assert.throws(
    () =>
      backend.promptForObject({
        ...PAGE,
        schema: SEO,
        options: { response_format: { type: "text" } },
      }),
    /must not set "response_format"/,
  );
  assert.throws(
    () => backend.promptForObject({ ...PAGE, schema: SEO, options: { model: "gpt-4o" } }),
    TypeError,
  );
  assert.equal(peer.requests.length, 2);
});

Deno.test("OpenAIBackend.promptForObject(): the schema's tokens count in the window check; STRUCTURED_OUTPUT picks the strategy", async () => {
  await using peer = await startPeer();
  const big: JSONSchema = {
    type: "object",
    properties: Object.fromEntries(
      Array.from(
        { length: 40 },
        (_, i) => [`field_${i}`, { type: "string", description: "one field of the form" }],
      ),
    ),
  };
  const ai = createAI({
    BACKENDS: {
      small: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          TOKEN_LIMIT: 300,
          OPENAI_API_KEY: "sk-x",
          API_BASE: peer.url,
        },
      },
      prompted: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: "sk-x",
          API_BASE: peer.url,
          STRUCTURED_OUTPUT: "prompt",
        },
      },
    },
  });
  const small = ai.getAIBackend("small");
  // The prompt alone fits; with the schema it does not: refused before any request.
  assert.ok((await small.promptWithContext(PAGE).text()).startsWith("Echo:"));
  await assert.rejects(small.promptForObject({ ...PAGE, schema: big }), (error: unknown) => {
    assert.ok(error instanceof ContextLengthError);
    assert.equal(error.contextWindow, 300);
    assert.match(error.message, /the schema included/);
    return true;
  });
  assert.equal(peer.requests.length, 1);
  peer.enqueue({ text: JSON.stringify(GOOD) });
  const answer = await ai.getAIBackend("prompted").promptForObject({ ...PAGE, schema: SEO });
  assert.equal(answer.strategy, "prompt");
  assert.equal(peer.lastRequest().body.response_format, undefined);
  assert.throws(
    () =>
      createAI({
        BACKENDS: {
          x: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", STRUCTURED_OUTPUT: "tool" } },
        },
      }).getAIBackend("x"),
    /STRUCTURED_OUTPUT .* must be one of/,
  );
});

Deno.test("ProviderBackend.promptForObject() goes through provider.completeObject(): openai and anthropic, both prompt styles", async () => {
  await using peer = await startPeer();
  await using claude = await startAnthropicPeer();
  const ai = createAI({
    PROVIDERS: {
      default: { provider: "openai", model: "gpt-4o-mini", api_key: "sk-x", api_base: peer.url },
      claude: {
        provider: "anthropic",
        model: "claude-3-5-haiku-latest",
        api_key: "sk-ant-x",
        api_base: claude.url,
      },
    },
    BACKENDS: {
      default: {
        CLASS: "provider",
        CONFIG: {
          SYSTEM_PROMPT: "You write SEO copy.",
          OPTIONS: { temperature: 0.1, response_format: { type: "json_object" } },
        },
      },
      claude: { CLASS: "provider", CONFIG: { PROVIDER: "claude", PROMPT_STYLE: "llm" } },
    },
  });
  peer.enqueue({ text: JSON.stringify(GOOD) });
  const openai = await ai.getAIBackend("default").promptForObject({ ...PAGE, schema: SEO });
  assert.deepEqual(openai.object, GOOD);
  assert.equal(openai.strategy, "json_schema");
  const body = peer.lastRequest().body;
  assert.equal(body.temperature, 0.1);
  assert.equal(body.response_format.type, "json_schema"); // the schema's, not OPTIONS'
  assert.deepEqual(body.messages.map((message: { role: string }) => message.role), [
    "system",
    "system",
    "user",
  ]);
  assert.equal(body.max_tokens, 16_384);

  claude.enqueue({ object: GOOD });
  const anthropic = await ai.getAIBackend("claude").promptForObject({
    ...PAGE,
    schema: SEO,
    name: "seo",
  });
  assert.deepEqual(anthropic.object, GOOD);
  assert.equal(anthropic.strategy, "tool");
  const sent = claude.lastRequest().body;
  assert.deepEqual(sent.messages, [{
    role: "user",
    content: `${PAGE.prePrompt}\n${PAGE.context}`,
  }]);
  assert.equal(sent.tool_choice.name, "seo");
  // PROMPT_STYLE "llm" sends no cap of its own: the provider's default for the model.
  assert.ok(sent.max_tokens > 0 && sent.max_tokens <= 8192);

  claude.enqueue({ object: { title: 5 } }, { object: { title: 6 } });
  await assert.rejects(
    ai.getAIBackend("claude").promptForObject({ ...PAGE, schema: SEO }),
    StructuredOutputError,
  );
});

Deno.test("LLMBackend.promptForObject(): OpenAI-style models only; json_schema when the model supports_schema", async () => {
  await using peer = await startPeer();
  await using dir = await tempUserDir({
    "extra-openai-models.yaml": `
- model_id: schema-gateway
  model_name: gpt-4o-mini
  api_base: "${peer.url}"
  supports_schema: true
- model_id: plain-gateway
  model_name: gpt-4o-mini
  api_base: "${peer.url}"
`,
  });
  registerPlugin({
    name: "structured-words",
    registerModels(register) {
      register({
        modelId: "word-model",
        contextWindow: 1000,
        async *execute() {
          yield { type: "text", text: "words" };
        },
      });
    },
  });
  try {
    const ai = createAI({
      BACKENDS: {
        schema: {
          CLASS: "llm",
          CONFIG: {
            MODEL_ID: "schema-gateway",
            TOKEN_LIMIT: 8000,
            PROMPT_KWARGS: { system: "You write SEO copy.", temperature: 0 },
          },
        },
        plain: { CLASS: "llm", CONFIG: { MODEL_ID: "plain-gateway", TOKEN_LIMIT: 8000 } },
        words: { CLASS: "llm", CONFIG: { MODEL_ID: "word-model" } },
      },
    }, { llmUserPath: dir.path });
    peer.enqueue({ text: JSON.stringify(GOOD) });
    const answer = await ai.getAIBackend("schema").promptForObject({ ...PAGE, schema: SEO });
    assert.deepEqual(answer.object, GOOD);
    assert.equal(answer.strategy, "json_schema");
    const body = peer.lastRequest().body;
    assert.equal(body.model, "gpt-4o-mini");
    assert.equal(body.temperature, 0);
    assert.deepEqual(body.messages, [
      { role: "system", content: "You write SEO copy." },
      { role: "user", content: `${PAGE.prePrompt}\n${PAGE.context}` },
    ]);
    peer.enqueue({ text: JSON.stringify(GOOD) });
    const plain = await ai.getAIBackend("plain").promptForObject({ ...PAGE, schema: SEO });
    assert.equal(plain.strategy, "prompt");
    assert.equal(peer.lastRequest().body.response_format, undefined);
    assert.throws(
      () => ai.getAIBackend("words").promptForObject({ ...PAGE, schema: SEO }),
      (error: unknown) =>
        error instanceof UnsupportedFeatureError && /not an OpenAI-style model/.test(error.message),
    );
    assert.throws(
      () => ai.getAIBackend("schema").promptForObject({ ...PAGE, schema: [] as never }),
      TypeError,
    );
  } finally {
    unregisterPlugin("structured-words");
  }
});

Deno.test("backends without structured output say so at the call; an aborted signal rejects with its reason", async () => {
  await using peer = await startPeer();
  const ai = createAI({
    BACKENDS: {
      echo: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } },
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-x", API_BASE: peer.url },
      },
    },
  });
  assert.throws(
    () => ai.getAIBackend("echo").promptForObject({ ...PAGE, schema: SEO }),
    (error: unknown) =>
      error instanceof UnsupportedFeatureError && /cannot answer with JSON/.test(error.message),
  );
  // Arguments are checked first.
  assert.throws(
    () => ai.getAIBackend("echo").promptForObject({ ...PAGE, schema: null as never }),
    TypeError,
  );
  const reason = new Error("closed");
  await assert.rejects(
    ai.getAIBackend("openai").promptForObject({
      ...PAGE,
      schema: SEO,
      signal: AbortSignal.abort(reason),
    }),
    (error: unknown) => error === reason,
  );
  assert.equal(peer.requests.length, 0);
});
