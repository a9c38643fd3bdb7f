// One backend of each built-in kind (echo, openai, provider, llm), all but echo sending to the
// test peer, for tests of what every backend must do alike.
import { type Backend, createAI } from "../mod.ts";
import { type TempUserDir, tempUserDir } from "./_llm.ts";
import type { Peer } from "./_peer.ts";

/** Every backend with its alias, and the user directory of the llm one (removed on dispose). */
export interface EveryBackend extends AsyncDisposable {
  backends: Record<string, Backend>;
  dir: TempUserDir;
}

export async function everyBackend(peer: Peer): Promise<EveryBackend> {
  const dir = await tempUserDir({
    "extra-openai-models.yaml":
      `- model_id: peer-vision\n  model_name: gpt-4o-mini\n  api_base: "${peer.url}"\n  vision: true\n`,
  });
  const ai = createAI({
    PROVIDERS: {
      vision: { provider: "openai", model: "gpt-4o-mini", api_key: "sk-test", api_base: peer.url },
    },
    BACKENDS: {
      echo: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", OPENAI_API_KEY: "sk-test", API_BASE: peer.url },
      },
      provider: { CLASS: "provider", CONFIG: { PROVIDER: "vision" } },
      llm: { CLASS: "llm", CONFIG: { MODEL_ID: "peer-vision", TOKEN_LIMIT: 128_000 } },
    },
  }, { llmUserPath: dir.path });
  const backends = Object.fromEntries(
    ["echo", "openai", "provider", "llm"].map((alias) => [alias, ai.getAIBackend(alias)]),
  );
  return { backends, dir, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}
