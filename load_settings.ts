/**
 * Settings from a file: {@link loadSettings} reads a YAML or JSON file with
 * the keys of {@link AISettings}.
 *
 * @module
 */
import { ImproperlyConfigured } from "./errors.ts";
import type { AISettings } from "./settings.ts";
import { readTextFileIfExists } from "./_env.ts";
import { guardSecrets, jsonSyntaxReason } from "./_redact.ts";
import { requireObject } from "./_validate.ts";
import { parseYaml } from "./_yaml.ts";

/**
 * Reads settings from a YAML (`.yaml`, `.yml`) or JSON file with the same
 * keys as {@link AISettings}. `CLASS` values are names there. Printed with
 * `console.log` or `Deno.inspect`, the settings show keys, header values and
 * URL credentials as `***`; the data (and `JSON.stringify` of it) is as read.
 *
 * @throws {ImproperlyConfigured} when the file is missing or malformed (the
 * message names the file, and for YAML the line and column).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadSettings } from "./mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(path, "BACKENDS:\n  default:\n    CLASS: echo\n    CONFIG: {MODEL_ID: echo, TOKEN_LIMIT: 100}\n");
 * const settings = await loadSettings(path);
 * assert.ok(settings.BACKENDS?.default.CLASS === "echo");
 * await Deno.remove(path);
 * ```
 */
export async function loadSettings(path: string): Promise<AISettings> {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("loadSettings() needs a file path");
  }
  let text: string | undefined;
  try {
    text = await readTextFileIfExists(path);
  } catch (error) {
    throw new ImproperlyConfigured(
      `Cannot read settings file "${path}": ${(error as Error).message}`,
    );
  }
  if (text === undefined) throw new ImproperlyConfigured(`Settings file "${path}" does not exist`);
  let data: unknown;
  if (/\.json$/i.test(path)) {
    try {
      // A byte order mark (as some editors write) is not JSON: skip it, as the YAML reader does.
      data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (error) {
      throw new ImproperlyConfigured(
        `Settings file "${path}" is not valid JSON: ${jsonSyntaxReason(error)}`,
      );
    }
  } else {
    data = parseYaml(text, path);
  }
  if (data === null || data === undefined) return {};
  requireObject(data, `Settings file "${path}"`);
  // console.log(settings) is the first debugging step: keys show as ***. The
  // data itself (and JSON.stringify of it) is unchanged.
  return guardSecrets(data as AISettings, undefined, { json: false });
}
