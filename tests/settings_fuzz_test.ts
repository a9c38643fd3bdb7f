// Property test: random settings objects give our typed errors or a working
// backend, never a TypeError or another raw error.
import assert from "node:assert/strict";
import { type Backend, createAI, ImproperlyConfigured } from "../mod.ts";
import { prng } from "./_text.ts";

const CLASSES = [
  "echo",
  "openai",
  "wagtail_ai.ai.echo.EchoBackend",
  "wagtail_ai.ai.openai.OpenAIBackend",
  "nope",
  "x.y.Z",
  "",
];
const ECHO_KEYS = ["MODEL_ID", "TOKEN_LIMIT", "MAX_WORD_SLEEP_SECONDS"];
const OPENAI_KEYS = [
  "MODEL_ID",
  "TOKEN_LIMIT",
  "TIMEOUT_SECONDS",
  "OPENAI_API_KEY",
  "API_BASE",
  "MAX_RETRIES",
  "MAX_OUTPUT_TOKENS",
  "MAX_IMAGE_BYTES",
];
const CONFIG_KEYS = [...new Set([...ECHO_KEYS, ...OPENAI_KEYS])];
const BAD_KEYS = ["__proto__", "constructor", "UNKNOWN"];
const MODELS = ["gpt-4o", "gpt-4", "echo", "mystery", "", " ", "gpt-4o-2024-08-06"];

function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * 14);
  switch (pick) {
    case 0:
      return undefined;
    case 1:
      return null;
    case 2:
      return Math.floor(random() * 5000) - 100;
    case 3:
      return random() * 10;
    case 4:
      return [
        NaN,
        Infinity,
        -Infinity,
        1e308,
        -0,
        Number.MAX_SAFE_INTEGER + 2,
      ][Math.floor(random() * 6)];
    case 5:
      return MODELS[Math.floor(random() * MODELS.length)];
    case 6:
      return "http://127.0.0.1:9/v1";
    case 7:
      return random() < 0.5;
    case 8:
      return depth > 2 ? {} : randomObject(random, CONFIG_KEYS, depth + 1);
    case 9:
      return [];
    case 10:
      return () => {};
    case 11:
      return Symbol("s");
    case 12:
      return 10n;
    default:
      return "text";
  }
}

function goodValue(random: () => number, key: string): unknown {
  switch (key) {
    case "MODEL_ID":
      return MODELS[Math.floor(random() * MODELS.length)];
    case "API_BASE":
      return "http://127.0.0.1:9/v1";
    case "OPENAI_API_KEY":
      return "sk-fuzz";
    case "MAX_WORD_SLEEP_SECONDS":
      return 0;
    case "MAX_RETRIES":
      return Math.floor(random() * 5);
    case "TIMEOUT_SECONDS":
      return 1 + Math.floor(random() * 60);
    default:
      return 1 + Math.floor(random() * 9000);
  }
}

function randomObject(
  random: () => number,
  keys: string[],
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (random() < (key === "MODEL_ID" ? 0.9 : 0.3)) {
      out[key] = random() < 0.8 ? goodValue(random, key) : randomValue(random, depth);
    }
  }
  for (const key of BAD_KEYS) {
    if (random() < 0.03) {
      Object.defineProperty(out, key, { value: randomValue(random, depth), enumerable: true });
    }
  }
  return out;
}

function randomSettings(random: () => number): unknown {
  if (random() < 0.03) return randomValue(random);
  const backends: Record<string, unknown> = {};
  const count = Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const entry: Record<string, unknown> = {};
    if (random() < 0.9) {
      entry.CLASS = random() < 0.9
        ? CLASSES[Math.floor(random() * CLASSES.length)]
        : randomValue(random);
    }
    const keys = random() < 0.1
      ? CONFIG_KEYS
      : String(entry.CLASS).includes("penAI") || entry.CLASS === "openai"
      ? OPENAI_KEYS
      : ECHO_KEYS;
    if (random() < 0.9) {
      entry.CONFIG = random() < 0.85 ? randomObject(random, keys, 0) : randomValue(random);
    }
    if (random() < 0.2) {
      entry.TEXT_SPLITTING = random() < 0.5
        ? {
          SPLITTER_CLASS: ["recursive", "dummy", "nah", 3][Math.floor(random() * 4)],
          SPLITTER_LENGTH_CALCULATOR_CLASS: ["naive", "tiktoken", "x"][Math.floor(random() * 3)],
        }
        : randomValue(random);
    }
    if (random() < 0.05) entry.EXTRA = 1;
    backends[i === 0 ? "default" : `b${i}`] = random() < 0.95 ? entry : randomValue(random);
  }
  const settings: Record<string, unknown> = {};
  if (random() < 0.9) settings.BACKENDS = random() < 0.95 ? backends : randomValue(random);
  if (random() < 0.2) {
    settings.TEXT_COMPLETION_BACKEND = random() < 0.5 ? "b1" : randomValue(random);
  }
  if (random() < 0.1) settings.IMAGE_DESCRIPTION_BACKEND = randomValue(random);
  if (random() < 0.05) settings.UNKNOWN_KEY = 1;
  return settings;
}

Deno.test("createAI() and getAIBackend() on 3000 random settings: only our errors, never a TypeError", async () => {
  const random = prng(20261125);
  let working = 0;
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const settings = randomSettings(random);
    let backends: Backend[] = [];
    try {
      const ai = createAI(settings as never, { onWarning: () => {} });
      const aliases =
        settings && typeof settings === "object" && (settings as { BACKENDS?: unknown }).BACKENDS &&
          typeof (settings as { BACKENDS?: unknown }).BACKENDS === "object"
          ? Object.keys((settings as { BACKENDS: object }).BACKENDS)
          : ["default"];
      for (const alias of aliases) {
        try {
          backends.push(ai.getAIBackend(alias));
        } catch (error) {
          assert.ok(
            error instanceof ImproperlyConfigured,
            `case ${i} alias ${alias}: ${(error as Error)?.name}: ${(error as Error)?.message}`,
          );
          rejected++;
        }
      }
    } catch (error) {
      assert.ok(
        error instanceof ImproperlyConfigured,
        `case ${i}: ${(error as Error)?.name}: ${(error as Error)?.message}`,
      );
      rejected++;
      backends = [];
    }
    for (const backend of backends) {
      working++;
      assert.ok(Number.isSafeInteger(backend.config.tokenLimit) && backend.config.tokenLimit > 0);
      assert.equal(typeof backend.config.modelId, "string");
      const splitter = await backend.getTextSplitter();
      assert.ok(Array.isArray(splitter.splitText("Some text to split.")));
    }
  }
  assert.ok(working > 50, `only ${working} working backends`);
  assert.ok(rejected > 500, `only ${rejected} rejected settings`);
});
