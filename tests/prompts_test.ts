// PROMPTS: the built-in prompts, validation, getPrompt() and listPrompts().
import assert from "node:assert/strict";
import {
  type AISettings,
  createAI,
  DEFAULT_PROMPTS,
  ImproperlyConfigured,
  InvalidAIBackendError,
  loadSettings,
  UnknownPromptError,
} from "../mod.ts";

const ECHO = { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } };

Deno.test("createAI() has the built-in correction and completion prompts", () => {
  const ai = createAI();
  const correction = ai.getPrompt("correction");
  assert.equal(correction.method, "replace");
  assert.equal(correction.label, "AI Correction");
  assert.match(correction.prompt, /grammar, spelling and punctuation/);
  assert.match(correction.prompt, /change nothing else/);
  assert.match(correction.prompt, /corrected text only/);
  const completion = ai.getPrompt("completion");
  assert.equal(completion.method, "append");
  assert.match(completion.prompt, /^Continue the text/);
  assert.deepEqual(ai.listPrompts().map((prompt) => prompt.name), ["correction", "completion"]);
  assert.ok(Object.isFrozen(DEFAULT_PROMPTS) && Object.isFrozen(DEFAULT_PROMPTS.correction));
  assert.ok(Object.isFrozen(correction));
});

Deno.test("PROMPTS adds prompts, replaces a built-in by name, and removes one with null", () => {
  const ai = createAI({
    BACKENDS: ECHO,
    PROMPTS: {
      correction: { LABEL: "Proofread", PROMPT: "Proofread the text.", METHOD: "replace" },
      completion: null,
      summary: {
        LABEL: "Summary",
        DESCRIPTION: "Summarise the text",
        PROMPT: "Summarise the text in one sentence.",
        METHOD: "append",
        BACKEND: "default",
      },
    },
  });
  assert.deepEqual(ai.listPrompts().map((prompt) => prompt.name), ["correction", "summary"]);
  assert.equal(ai.getPrompt("correction").label, "Proofread");
  assert.deepEqual(ai.getPrompt("summary"), {
    name: "summary",
    label: "Summary",
    description: "Summarise the text",
    prompt: "Summarise the text in one sentence.",
    method: "append",
    backend: "default",
  });
  assert.throws(() => ai.getPrompt("completion"), UnknownPromptError);
});

Deno.test("getPrompt() rejects an unknown name with UnknownPromptError listing the known ones", () => {
  const ai = createAI();
  assert.throws(
    () => ai.getPrompt("translate"),
    (error: unknown) => {
      assert.ok(error instanceof UnknownPromptError);
      assert.ok(error instanceof ImproperlyConfigured);
      assert.equal(error.promptName, "translate");
      assert.match(error.message, /Unknown prompt "translate" \(known: correction, completion\)/);
      return true;
    },
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => ai.getPrompt(42 as any), TypeError);
});

Deno.test("createAI() refuses a bad PROMPTS entry, naming the prompt and the key", () => {
  const cases: [unknown, RegExp][] = [
    [[], /^PROMPTS must be an object, got an array/],
    [{ fix: "Fix it" }, /^PROMPTS\["fix"\] must be an object, got a string/],
    [
      { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "replace", TEMPERATURE: 1 } },
      /^PROMPTS\["fix"\] has an unknown key "TEMPERATURE" \(known keys: LABEL, DESCRIPTION, PROMPT, METHOD, BACKEND\)/,
    ],
    [
      { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "rewrite" } },
      /^METHOD in PROMPTS\["fix"\] must be "replace" or "append", got "rewrite"/,
    ],
    [
      { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: 1 } },
      /^METHOD in PROMPTS\["fix"\] must be "replace" or "append", got a number/,
    ],
    [{ fix: { LABEL: "Fix", PROMPT: "Fix it." } }, /^PROMPTS\["fix"\] is missing METHOD/],
    [
      { fix: { LABEL: "Fix", PROMPT: "  ", METHOD: "replace" } },
      /^PROMPT in PROMPTS\["fix"\] must not be empty/,
    ],
    [{ fix: { LABEL: "Fix", METHOD: "replace" } }, /^PROMPTS\["fix"\] is missing PROMPT/],
    [{ fix: { PROMPT: "Fix it.", METHOD: "replace" } }, /^PROMPTS\["fix"\] is missing LABEL/],
    [
      { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "replace", BACKEND: 3 } },
      /^BACKEND in PROMPTS\["fix"\] must be a string, got a number/,
    ],
    [
      { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "replace", DESCRIPTION: "" } },
      /^DESCRIPTION in PROMPTS\["fix"\] must not be empty/,
    ],
    [{ "": { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "replace" } }, /empty prompt name/],
    [{ __proto__: null, constructor: {} }, /forbidden key "constructor"/],
  ];
  for (const [prompts, message] of cases) {
    assert.throws(
      () => createAI({ PROMPTS: prompts } as AISettings),
      (error: unknown) => error instanceof ImproperlyConfigured && message.test(error.message),
      String(message),
    );
  }
});

Deno.test("ai.check() reports a prompt whose BACKEND is not in BACKENDS", () => {
  const ai = createAI({
    BACKENDS: ECHO,
    PROMPTS: { fix: { LABEL: "Fix", PROMPT: "Fix it.", METHOD: "replace", BACKEND: "fast" } },
  });
  const problems = ai.check();
  assert.equal(problems.length, 1);
  assert.ok(problems[0] instanceof InvalidAIBackendError);
  assert.match(problems[0].message, /"fast"/);
  assert.throws(() => ai.processText({ prompt: "fix", text: "x" }), InvalidAIBackendError);
});

Deno.test("loadSettings() reads PROMPTS from YAML (an empty value removes a built-in)", async () => {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      path,
      `
BACKENDS:
  default:
    CLASS: echo
    CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 4096}
PROMPTS:
  completion:
  title:
    LABEL: Title
    PROMPT: Write a title for the text.
    METHOD: append
`,
    );
    const ai = createAI(await loadSettings(path));
    assert.deepEqual(ai.listPrompts().map((prompt) => prompt.name), ["correction", "title"]);
    const titled = await ai.processText({ prompt: "title", text: "A story." }).text();
    assert.equal(titled, "A story. This is an echo backend: A story.");
  } finally {
    await Deno.remove(path);
  }
});
