import assert from "node:assert/strict";
import { parseYaml } from "../_yaml.ts";
import { ImproperlyConfigured } from "../errors.ts";

Deno.test("parseYaml() rejects a key repeated in one mapping by default", () => {
  assert.throws(
    () => parseYaml("a: 1\na: 2\n", "s.yaml"),
    (error: Error) =>
      error instanceof ImproperlyConfigured && /"s\.yaml" is not valid YAML at line 2/.test(
        error.message,
      ),
  );
});

Deno.test("parseYaml() keeps the last value of a repeated key with duplicateKeys: last", () => {
  assert.deepEqual(
    parseYaml("- model_id: a\n  vision: true\n  vision: false\n", "m.yaml", {
      duplicateKeys: "last",
    }),
    [{ model_id: "a", vision: false }],
  );
});

Deno.test("parseYaml() with duplicateKeys: last does not set a prototype from __proto__", () => {
  const value = parseYaml("__proto__: {polluted: true}\n__proto__: {polluted: 1}\n", "p.yaml", {
    duplicateKeys: "last",
  }) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
});

Deno.test("parseYaml() errors never repeat the document's text", () => {
  for (
    const text of [
      "key: *sk-secret-alias\n",
      "key: !sk-secret-tag value\n",
      "key: !<tag:sk-secret-verbatim> value\n",
      "key: !sk-secret-handle!x value\n",
    ]
  ) {
    assert.throws(
      () => parseYaml(text, "k.yaml"),
      (error: Error) => {
        assert.ok(error instanceof ImproperlyConfigured, error.message);
        assert.match(error.message, /^"k\.yaml" is not valid YAML at line \d+, column \d+: \w/);
        assert.doesNotMatch(error.message, /sk-secret/);
        return true;
      },
    );
  }
});

Deno.test("parseYaml() reads an empty document as null", () => {
  assert.equal(parseYaml("  \n", "e.yaml"), null);
});
