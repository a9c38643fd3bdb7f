// Picking the image backend with BACKENDS only: IMAGE_DESCRIPTION_PROVIDER naming a backend is the
// non-deprecated way, and check() agrees with getBackend(); IMAGE_DESCRIPTION_BACKEND still works,
// with one warning per process that gives the exact replacement settings.
import assert from "node:assert/strict";
import { BackendFeature, createAI, DeprecationWarning, InvalidProviderError } from "../mod.ts";
import { runScript } from "./_llm.ts";

const echo = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } };

Deno.test("check() agrees with getBackend(): IMAGE_DESCRIPTION_PROVIDER may name a backend when there are only BACKENDS", () => {
  const warnings: Error[] = [];
  const ai = createAI(
    { BACKENDS: { default: echo, vision: echo }, IMAGE_DESCRIPTION_PROVIDER: "vision" },
    { onWarning: (warning) => warnings.push(warning) },
  );
  assert.equal(ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).alias, "vision");
  assert.deepEqual(ai.check(), []);
  assert.deepEqual(warnings, []);
});

Deno.test("check() reports an IMAGE_DESCRIPTION_PROVIDER that names neither a provider nor a backend", () => {
  const ai = createAI({ BACKENDS: { default: echo }, IMAGE_DESCRIPTION_PROVIDER: "vision" });
  const problems = ai.check();
  assert.equal(problems.length, 1);
  assert.ok(problems[0] instanceof InvalidProviderError);
  assert.match(problems[0].message, /No provider "vision" in PROVIDERS/);
  assert.throws(() => ai.getBackend(BackendFeature.IMAGE_DESCRIPTION), /No backend found/);
});

Deno.test("the IMAGE_DESCRIPTION_BACKEND warning gives the exact replacement settings", () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  createAI({ BACKENDS: { vision: echo }, IMAGE_DESCRIPTION_BACKEND: "vision" }, { onWarning });
  assert.equal(warnings.length, 1);
  assert.ok(warnings[0] instanceof DeprecationWarning);
  assert.equal(
    warnings[0].message,
    'IMAGE_DESCRIPTION_BACKEND is deprecated: set IMAGE_DESCRIPTION_PROVIDER: "vision" instead ' +
      'of IMAGE_DESCRIPTION_BACKEND: "vision" (getBackend(IMAGE_DESCRIPTION) then uses ' +
      'BACKENDS["vision"] as now, and getProviderFor(IMAGE_DESCRIPTION) PROVIDERS["vision"] ' +
      "when you add it)",
  );
  // With an IMAGE_DESCRIPTION_PROVIDER of another name, the backend takes that name.
  const other: Error[] = [];
  createAI(
    {
      BACKENDS: { img: echo },
      PROVIDERS: { vision: { provider: "ollama", model: "llava" } },
      IMAGE_DESCRIPTION_BACKEND: "img",
      IMAGE_DESCRIPTION_PROVIDER: "vision",
    },
    { onWarning: (warning) => other.push(warning) },
  );
  assert.equal(other.length, 1);
  assert.equal(
    other[0].message,
    'IMAGE_DESCRIPTION_BACKEND is deprecated: rename BACKENDS["img"] to BACKENDS["vision"] ' +
      '(the IMAGE_DESCRIPTION_PROVIDER) and remove IMAGE_DESCRIPTION_BACKEND: "img" ' +
      '(getBackend(IMAGE_DESCRIPTION) then uses BACKENDS["vision"])',
  );
});

Deno.test("the IMAGE_DESCRIPTION_BACKEND warning comes once per process for each onWarning", () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  for (let i = 0; i < 3; i++) {
    createAI({ BACKENDS: { v: echo }, IMAGE_DESCRIPTION_BACKEND: "v" }, { onWarning });
  }
  assert.equal(warnings.length, 1);
});

Deno.test("the IMAGE_DESCRIPTION_BACKEND warning goes to console.warn once per process", async () => {
  const run = await runScript(
    `import { createAI } from "MOD";
     const echo = { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } };
     for (let i = 0; i < 3; i++) {
       createAI({ BACKENDS: { vision: echo }, IMAGE_DESCRIPTION_BACKEND: "vision" });
     }`,
    {},
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr.match(/IMAGE_DESCRIPTION_BACKEND is deprecated/g)?.length, 1, run.stderr);
});
