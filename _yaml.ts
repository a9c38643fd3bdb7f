// YAML reading and writing with safety limits. The only module that imports js-yaml.
import { CORE_SCHEMA, dump, load, YAMLException } from "js-yaml";
import { ImproperlyConfigured } from "./errors.ts";

/** Limits for untrusted YAML: few aliases (no alias bombs), shallow nesting. */
const LOAD_OPTIONS = { schema: CORE_SCHEMA, maxAliases: 50, maxDepth: 64, maxTotalMergeKeys: 1000 };

/** The largest YAML text read, in characters. */
export const MAX_YAML_CHARS = 5 * 1024 * 1024;

/**
 * The most nodes a document may hold once its aliases are expanded (each
 * alias counts as a copy of what it names, as printing or copying the value
 * makes it): a few aliases of aliases make millions of nodes from a few bytes.
 */
export const MAX_YAML_NODES = 100_000;

/**
 * The most characters (of strings and mapping keys) a document may hold once
 * its aliases are expanded: an alias of a long string is a copy of it, so a
 * few aliases of a 1 MiB string would make tens of megabytes from a small
 * file. A document without aliases under {@link MAX_YAML_CHARS} is always
 * under it.
 */
export const MAX_YAML_EXPANDED_CHARS = 8 * 1024 * 1024;

/** A size past {@link MAX_YAML_NODES} or {@link MAX_YAML_EXPANDED_CHARS}, or a value that holds itself. */
class TooLarge extends Error {}

/** The expanded size of a value: its nodes and its characters. */
interface Size {
  nodes: number;
  chars: number;
}

/**
 * Checks the size of `value` with every shared object counted each time it
 * appears (a mapping counts its keys too, as nodes and characters); throws
 * TooLarge past `maxNodes` nodes or `maxChars` characters. Each object is
 * walked once (its size is remembered), so this is fast however large the
 * expanded size would be.
 */
function checkExpandedSize(value: unknown, maxNodes: number, maxChars: number): void {
  const sizes = new Map<object, Size>();
  const walking = new Set<object>();
  const size = (node: unknown): Size => {
    if (typeof node === "string") return { nodes: 1, chars: node.length };
    if (node === null || typeof node !== "object") return { nodes: 1, chars: 0 };
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (walking.has(node)) throw new TooLarge("it holds itself (a recursive alias)");
    walking.add(node);
    const total: Size = { nodes: 1, chars: 0 };
    let children: unknown[];
    if (Array.isArray(node)) children = node;
    else {
      const keys = Object.keys(node);
      total.nodes += keys.length;
      for (const key of keys) total.chars += key.length;
      children = Object.values(node);
    }
    for (const child of children) {
      const part = size(child);
      total.nodes += part.nodes;
      total.chars += part.chars;
      if (total.nodes > maxNodes) {
        throw new TooLarge(`it expands to more than ${maxNodes} nodes (aliases of aliases)`);
      }
      if (total.chars > maxChars) {
        throw new TooLarge(
          `it expands to more than ${maxChars} characters (aliases of long strings)`,
        );
      }
    }
    walking.delete(node);
    sizes.set(node, total);
    return total;
  };
  size(value);
}

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
  let value: unknown;
  try {
    value = load(text, {
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
  try {
    checkExpandedSize(value, MAX_YAML_NODES, MAX_YAML_EXPANDED_CHARS);
  } catch (error) {
    if (!(error instanceof TooLarge)) throw error;
    throw new ImproperlyConfigured(`"${fileName}" is refused: ${error.message}`);
  }
  return value;
}

/** Writes a value as YAML. */
export function stringifyYaml(value: unknown): string {
  return dump(
    value,
    { schema: CORE_SCHEMA, lineWidth: 100, noRefs: true } as Record<string, unknown>,
  );
}
