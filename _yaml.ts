// YAML reading and writing with safety limits. The only module that imports js-yaml.
import { CORE_SCHEMA, dump, load, YAMLException } from "js-yaml";
import { ImproperlyConfigured } from "./errors.ts";

/** Limits for untrusted YAML: few aliases (no alias bombs), shallow nesting. */
const LOAD_OPTIONS = { schema: CORE_SCHEMA, maxAliases: 50, maxDepth: 64, maxTotalMergeKeys: 1000 };

/** The largest YAML text read, in characters. */
export const MAX_YAML_CHARS = 5 * 1024 * 1024;

/** Options of {@linkcode parseYaml}. */
export interface ParseYamlOptions {
  /**
   * A key repeated in one mapping: an error (the default), or the last value
   * wins (as PyYAML, and so the `llm` tool, read it).
   */
  duplicateKeys?: "error" | "last";
}

// js-yaml quotes parts of the document in some reasons (an alias or a tag
// name); such text could be a secret, so only the reason's own words are kept.
function safeReason(reason: string): string {
  const cut = reason.search(/["'`]|!<|: /);
  return (cut === -1 ? reason : reason.slice(0, cut)).trim().replace(/[,:]$/, "");
}

/**
 * Parses YAML text (one document). Errors are ImproperlyConfigured naming the
 * file, line and column, never the document's text.
 */
export function parseYaml(
  text: string,
  fileName: string,
  options: ParseYamlOptions = {},
): unknown {
  if (text.length > MAX_YAML_CHARS) {
    throw new ImproperlyConfigured(
      `"${fileName}" is too large (over ${MAX_YAML_CHARS} characters)`,
    );
  }
  if (text.trim() === "") return null;
  try {
    return load(text, {
      ...LOAD_OPTIONS,
      filename: fileName,
      json: options.duplicateKeys === "last",
    });
  } catch (error) {
    if (error instanceof YAMLException) {
      const mark = error.mark as { line?: number; column?: number } | undefined;
      const where = mark && typeof mark.line === "number"
        ? `line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}`
        : "unknown position";
      throw new ImproperlyConfigured(
        `"${fileName}" is not valid YAML at ${where}: ${safeReason(error.reason)}`,
      );
    }
    throw new ImproperlyConfigured(
      `"${fileName}" could not be read as YAML: ${(error as Error).message}`,
    );
  }
}

/** Writes a value as YAML. */
export function stringifyYaml(value: unknown): string {
  return dump(
    value,
    { schema: CORE_SCHEMA, lineWidth: 100, noRefs: true } as Record<string, unknown>,
  );
}
