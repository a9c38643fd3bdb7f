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

/**
 * The cache key of an answer: the SHA-256 (hex) of the method, the format,
 * the prompt, the backend's identity and the text sent.
 */
export async function answerKey(context: AnswerContext, sent: string): Promise<string> {
  const input = JSON.stringify([
    KEY_VERSION,
    context.method,
    context.format,
    context.backend,
    context.prompt,
    sent,
  ]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
