// The cache key of an answer, and what identifies the backend that gave it.
import type { Backend } from "../backends/types.ts";

const KEY_VERSION = "cms-ai/document-answer/2";
const encoder = new TextEncoder();

/** Everything an answer depends on besides the chunk: see {@link answerKey}. */
export interface AnswerContext {
  /** `"replace"` or `"append"`. */
  readonly method: string;
  /** The document format. */
  readonly format: string;
  /** The prompt text. */
  readonly prompt: string;
  /** The backend's identity: {@link backendIdentity}. */
  readonly backend: string;
}

// Config fields that name a secret or do not change an answer.
const SKIPPED = new Set(["key", "api_key", "openaiApiKey", "apiKey", "timeoutSeconds"]);

/**
 * What identifies a backend's answers: its alias, class and config (model,
 * `PROMPT_KWARGS`, `INIT_KWARGS`, options, answer cap, API base...), with
 * keys and secrets left out. Two backends (or one whose settings changed)
 * never share answers.
 */
export function backendIdentity(backend: Backend): string {
  const head = [backend.alias, backend.constructor.name, backend.config.modelId];
  try {
    return JSON.stringify([...head, backend.config], (key, value) => {
      if (SKIPPED.has(key)) return undefined;
      if (typeof value === "function") return value.name;
      if (value instanceof Map) return [...value];
      return value;
    });
  } catch {
    // A config that does not serialize (a cycle): its alias, class and model.
    return JSON.stringify(head);
  }
}

/** The part of `node:crypto` the keys use. */
interface NodeHash {
  update(data: string, encoding: "utf8"): NodeHash;
  digest(encoding: "hex"): string;
}

/**
 * `node:crypto`'s `createHash`, where the runtime has it (Deno, Node, Bun:
 * through `process.getBuiltinModule`, so nothing is imported where it is
 * not): the same SHA-256, several times faster on a chunk than Web Crypto's
 * `digest` (no copy of the input, no promise). Else undefined.
 */
const createHash: ((algorithm: "sha256") => NodeHash) | undefined = (() => {
  try {
    const process = (globalThis as {
      process?: { getBuiltinModule?: (name: string) => unknown };
    }).process;
    const module = process?.getBuiltinModule?.("node:crypto") as
      | { createHash?: (algorithm: "sha256") => NodeHash }
      | undefined;
    return typeof module?.createHash === "function" ? module.createHash : undefined;
  } catch {
    return undefined;
  }
})();

/** The input of {@link answerKey}'s hash. */
export function answerKeyInput(context: AnswerContext, sent: string): string {
  return JSON.stringify([
    KEY_VERSION,
    context.method,
    context.format,
    context.backend,
    context.prompt,
    sent,
  ]);
}

/**
 * The cache key of an answer: the SHA-256 (hex) of the method, the format,
 * the prompt, the backend's identity and the text sent (the UTF-8 of their
 * JSON, which has no lone surrogate: the same bytes whichever hash runs).
 */
export async function answerKey(context: AnswerContext, sent: string): Promise<string> {
  const input = answerKeyInput(context, sent);
  if (createHash !== undefined) return createHash("sha256").update(input, "utf8").digest("hex");
  return await webDigest(input);
}

/** The SHA-256 (hex) of `input`'s UTF-8 with Web Crypto. */
export async function webDigest(input: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
