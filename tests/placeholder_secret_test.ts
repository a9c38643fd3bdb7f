// A masked placeholder ("***", what printed settings show) or a TODO note (what `migrate` prints
// in place of a hidden key) as a key or header value is a settings error naming the alias and the
// key, at check() and at first use; it is never sent.
import assert from "node:assert/strict";
import { type AISettings, createAI, ImproperlyConfigured, loadSettings } from "../mod.ts";
import { runCli } from "./_cli.ts";
import { tempUserDir } from "./_llm.ts";
import { startPeer } from "./_peer.ts";

const PLACEHOLDERS = ["***", "******", " *** ", "TODO: set the key", "TODO"];

function isPlaceholderError(key: RegExp, where: RegExp): (error: Error) => boolean {
  return (error) => {
    assert.ok(error instanceof ImproperlyConfigured, String(error));
    assert.match(error.message, key);
    assert.match(error.message, where);
    assert.match(error.message, /placeholder/);
    return true;
  };
}

Deno.test("a placeholder api_key in PROVIDERS is ImproperlyConfigured at check() and at first use, and nothing is sent", async () => {
  await using peer = await startPeer();
  for (const placeholder of PLACEHOLDERS) {
    const ai = createAI({
      PROVIDERS: {
        default: { provider: "openai", model: "gpt-4o", api_key: placeholder, api_base: peer.url },
      },
      BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
    });
    // The provider, and the provider backend that names it.
    const problems = ai.check();
    assert.ok(problems.length > 0, placeholder);
    for (const problem of problems) {
      isPlaceholderError(/api_key in PROVIDERS\["default"\]/, /./)(problem);
    }
    assert.ok(problems.some((problem) => problem.message.startsWith("api_key in PROVIDERS")));
    assert.throws(() => ai.getProvider(), isPlaceholderError(/api_key/, /PROVIDERS\["default"\]/));
    assert.throws(() => ai.getBackend(), isPlaceholderError(/api_key/, /PROVIDERS\["default"\]/));
  }
  assert.equal(peer.requests.length, 0);
});

Deno.test("a placeholder header value in PROVIDERS is ImproperlyConfigured naming the header", () => {
  const ai = createAI({
    PROVIDERS: {
      gateway: {
        provider: "openai_compatible",
        model: "m",
        api_base: "http://127.0.0.1:9/v1",
        headers: { "x-trace": "ok", apikey: "***" },
      },
    },
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
  });
  const problems = ai.check();
  assert.equal(problems.length, 1);
  isPlaceholderError(/headers\.apikey in PROVIDERS\["gateway"\]/, /"\*\*\*"/)(problems[0]);
  assert.throws(() => ai.getProvider("gateway"), isPlaceholderError(/headers\.apikey/, /gateway/));
});

Deno.test("a placeholder OPENAI_API_KEY or INIT_KWARGS.key of a backend is ImproperlyConfigured naming the backend", async () => {
  await using dir = await tempUserDir();
  for (const placeholder of PLACEHOLDERS) {
    const ai = createAI({
      BACKENDS: {
        default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: placeholder } },
        llm: { CLASS: "llm", CONFIG: { MODEL_ID: "gpt-4o", INIT_KWARGS: { key: placeholder } } },
      },
    }, { llmUserPath: dir.path });
    const [openai, llm, ...rest] = ai.check();
    assert.deepEqual(rest, [], placeholder);
    isPlaceholderError(/OPENAI_API_KEY in CONFIG of backend "default"/, /./)(openai);
    isPlaceholderError(/INIT_KWARGS\.key in CONFIG of backend "llm"/, /./)(llm);
    assert.throws(() => ai.getBackend(), isPlaceholderError(/OPENAI_API_KEY/, /"default"/));
    assert.throws(() => ai.getAIBackend("llm"), isPlaceholderError(/INIT_KWARGS\.key/, /"llm"/));
  }
});

Deno.test("a real key that contains asterisks or starts with todo is accepted", () => {
  for (const key of ["sk-***-abc", "todo-key-123", "TODOS1234", "*a*"]) {
    const ai = createAI({
      PROVIDERS: { default: { provider: "openai", model: "m", api_key: key } },
      BACKENDS: { default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 100 } } },
    });
    assert.deepEqual(ai.check(), [], key);
  }
});

Deno.test("cli migrate output saved as settings is refused by check() until the keys are set", async () => {
  await using dir = await tempUserDir({
    "extra-openai-models.yaml":
      "- model_id: gw\n  model_name: gpt-4o\n  api_base: https://gw.example/v1\n  headers:\n    apikey: hdr-secret-1\n",
    "old.yaml": `BACKENDS:
  default:
    CLASS: openai
    CONFIG: {MODEL_ID: gpt-4o, OPENAI_API_KEY: sk-cli-secret}
  gateway:
    CLASS: llm
    CONFIG: {MODEL_ID: gw, TOKEN_LIMIT: 1000}
  kept:
    CLASS: llm
    CONFIG: {MODEL_ID: no-such-model, TOKEN_LIMIT: 1000, INIT_KWARGS: {key: sk-kept-secret}}
`,
  });
  const run = await runCli(["--user-dir", dir.path, "migrate", `${dir.path}/old.yaml`]);
  assert.equal(run.code, 0, run.stderr);
  for (const secret of ["sk-cli-secret", "hdr-secret-1", "sk-kept-secret"]) {
    assert.ok(!run.stdout.includes(secret), secret);
  }
  assert.ok(!run.stdout.includes("***"), run.stdout);
  await dir.write("new.yaml", run.stdout);
  const settings: AISettings = await loadSettings(`${dir.path}/new.yaml`);
  assert.match(settings.PROVIDERS?.default.api_key as string, /^TODO: /);
  const ai = createAI(settings, { llmUserPath: dir.path, onWarning: () => {} });
  const messages = ai.check().map((problem) => problem.message);
  assert.ok(
    messages.some((m) => /^api_key in PROVIDERS\["default"\] is a placeholder/.test(m)),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) => /headers\.apikey in PROVIDERS\["gateway"\] is a placeholder/.test(m)),
    messages.join("\n"),
  );
  assert.ok(
    messages.some((m) => /INIT_KWARGS\.key in CONFIG of backend "kept" is a placeholder/.test(m)),
    messages.join("\n"),
  );
  assert.match(
    run.stdout,
    /# - Keys, header values and URLs with credentials are hidden behind "TODO: " placeholders/,
  );
});
