// LIMITS in settings: each bad rule is an ImproperlyConfigured at createAI() that names
// the rule (LIMITS[i], with its name) and the key at fault.
import assert from "node:assert/strict";
import { type AISettings, createAI, ImproperlyConfigured } from "../mod.ts";

const BACKENDS: AISettings["BACKENDS"] = {
  default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } },
  vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } },
};
const PROVIDERS: AISettings["PROVIDERS"] = { fast: { provider: "ollama", model: "llama3.1" } };

function rejects(limits: unknown, message: RegExp): void {
  assert.throws(
    () => createAI({ BACKENDS, PROVIDERS, LIMITS: limits as AISettings["LIMITS"] }),
    (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, message);
      return true;
    },
  );
}

Deno.test("LIMITS takes a list of rules or {rules, on_store_error}", () => {
  createAI({ BACKENDS, LIMITS: [{ key: "user", requests_per_minute: 10 }] });
  createAI({
    BACKENDS,
    PROVIDERS,
    LIMITS: {
      rules: [
        { key: "user", tokens_per_minute: 20_000, tokens_per_day: 200_000 },
        { key: "site", cost_per_day: 2.5, features: ["TEXT_COMPLETION"] },
        { key: "global", requests_per_minute: 0, aliases: ["vision", "fast"], name: "paused" },
        { key: "team", tokens_per_day: 0 },
      ],
      on_store_error: "allow",
    },
  });
  createAI({ BACKENDS, LIMITS: { rules: [] } });
  createAI({ BACKENDS, LIMITS: [] });
});

Deno.test("LIMITS rejects an unknown rule key, naming the rule", () => {
  rejects(
    [{ key: "user", requests_per_minute: 1 }, { key: "user", tokens_per_hour: 5 }],
    /LIMITS\[1\] has an unknown key "tokens_per_hour" \(known keys: key, requests_per_minute/,
  );
  rejects(
    [{ name: "editors", key: "user", per_minute: 5 }],
    /LIMITS\[0\] \("editors"\) has an unknown key "per_minute"/,
  );
  rejects({ rules: [], on_error: "deny" }, /LIMITS has an unknown key "on_error"/);
});

Deno.test("LIMITS rejects negative and non-integer limits, naming the rule and the limit", () => {
  rejects(
    [{ key: "user", requests_per_minute: -1 }],
    /requests_per_minute in LIMITS\[0\] must be a non-negative integer, got -1/,
  );
  rejects(
    [{ key: "user", tokens_per_minute: 1.5 }],
    /tokens_per_minute in LIMITS\[0\] must be a non-negative integer, got 1\.5/,
  );
  rejects(
    [{ key: "user", tokens_per_day: "1000" }],
    /tokens_per_day in LIMITS\[0\] must be a non-negative integer, got a string/,
  );
  rejects(
    [{ key: "user", tokens_per_day: Infinity }],
    /tokens_per_day in LIMITS\[0\] .* got Infinity/,
  );
  rejects(
    [{ key: "site", cost_per_day: -0.01 }],
    /cost_per_day in LIMITS\[0\] must be a number of US dollars from 0 to 1000000, got -0\.01/,
  );
  rejects([{ key: "site", cost_per_day: NaN }], /cost_per_day in LIMITS\[0\] .* got NaN/);
});

Deno.test("LIMITS rejects a rule whose key names nothing", () => {
  rejects([{ requests_per_minute: 1 }], /LIMITS\[0\] is missing key/);
  rejects(
    [{ key: "", requests_per_minute: 1 }],
    /key in LIMITS\[0\] must name a metadata field .* got ""/,
  );
  rejects([{ key: "  ", requests_per_minute: 1 }], /key in LIMITS\[0\] must name a metadata field/);
  rejects(
    [{ key: 42, requests_per_minute: 1 }],
    /key in LIMITS\[0\] must name a metadata field .* got a number/,
  );
});

Deno.test("LIMITS rejects a rule with no limit, unknown features and aliases", () => {
  rejects(
    [{ key: "user" }],
    /LIMITS\[0\] sets no limit: give it one or more of requests_per_minute, tokens_per_minute, tokens_per_day, cost_per_day/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, features: ["SUMMARY"] }],
    /features\[0\] in LIMITS\[0\] names no feature "SUMMARY" \(known: TEXT_COMPLETION, IMAGE_DESCRIPTION\)/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, aliases: ["default", "gpt5"] }],
    /aliases\[1\] in LIMITS\[0\] names no alias "gpt5" \(known: default, vision, fast\)/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, aliases: [] }],
    /aliases in LIMITS\[0\] must be a non-empty list of aliases, got an empty list/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, features: "TEXT_COMPLETION" }],
    /features in LIMITS\[0\] must be a non-empty list of features, got a string/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, name: 3 }],
    /name in LIMITS\[0\] must be a non-empty string/,
  );
});

Deno.test("LIMITS rejects a shape that is not a list of rules, and a bad on_store_error", () => {
  rejects("user", /LIMITS must be a list of rules or \{rules, on_store_error\}, got a string/);
  rejects({ rules: {} }, /rules in LIMITS must be a list of rules, got an object/);
  rejects(["user"], /LIMITS\[0\] must be an object, got a string/);
  rejects(
    { rules: [], on_store_error: "ignore" },
    /on_store_error in LIMITS must be "deny" or "allow", got "ignore"/,
  );
  rejects(
    [{ key: "user", requests_per_minute: 1, __proto__: { x: 1 } }],
    /LIMITS\[0\] must be an object|forbidden key/,
  );
});
