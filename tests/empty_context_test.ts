// An empty context is refused at the call on every backend, like an empty image prompt: no
// request is sent for nothing to complete.
import assert from "node:assert/strict";
import { createAI } from "../mod.ts";
import { tempUserDir } from "./_llm.ts";
import { startPeer } from "./_peer.ts";

Deno.test("promptWithContext() refuses an empty or blank context at the call on every backend, sending nothing", async () => {
  await using peer = await startPeer();
  await using dir = await tempUserDir({
    "extra-openai-models.yaml":
      `- model_id: peer-model\n  model_name: gpt-4o-mini\n  api_base: "${peer.url}"\n`,
  });
  const ai = createAI({
    PROVIDERS: {
      text: { provider: "openai", model: "gpt-4o-mini", api_key: "k", api_base: peer.url },
    },
    BACKENDS: {
      echo: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "k", API_BASE: peer.url },
      },
      provider: { CLASS: "provider", CONFIG: { PROVIDER: "text" } },
      llm: { CLASS: "llm", CONFIG: { MODEL_ID: "peer-model", TOKEN_LIMIT: 1000 } },
    },
  }, { llmUserPath: dir.path });
  for (const alias of ["echo", "openai", "provider", "llm"]) {
    const backend = ai.getAIBackend(alias);
    for (const context of ["", "   ", "\n\t "]) {
      assert.throws(
        () => backend.promptWithContext({ prePrompt: "Correct this text:", context }),
        (error: Error) => {
          assert.ok(error instanceof TypeError, `${alias}: ${error}`);
          assert.equal(error.message, "context must be a non-empty string");
          return true;
        },
        alias,
      );
    }
    // A context with text is sent as before.
    assert.ok((await backend.promptWithContext({ prePrompt: "p", context: "ok" }).text()).length);
  }
  assert.equal(peer.requests.length, 3);
});
