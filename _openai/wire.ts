// The OpenAI wire format both request kinds share: the request body, usage
// and message content as the service sends them.
import type { CompletionUsage } from "../chat.ts";
import type { ChatRequest } from "./types.ts";

/** The JSON body of a request: options (never `stream`), model and messages. */
export function requestBody(request: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const options = request.options;
  if (options !== undefined) {
    for (const name of Object.keys(options)) {
      const value = options[name];
      if (value !== undefined && name !== "stream" && name !== "stream_options") {
        body[name] = value;
      }
    }
  }
  body.model = request.model;
  body.messages = request.messages;
  return body;
}

/** A token count: a non-negative safe integer, `0` when absent, undefined when absurd. */
function tokenCount(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Wire-format usage from a service value, or undefined when it is not usable:
 * every count given must be a non-negative safe integer (`-5`, `1e308`, `[3]`
 * or `true` make the whole usage unreliable, so none is reported).
 */
export function toUsage(value: unknown): CompletionUsage | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const usage = value as Record<string, unknown>;
  const input = tokenCount(usage.prompt_tokens);
  const output = tokenCount(usage.completion_tokens);
  if (input === undefined || output === undefined) return undefined;
  const total = usage.total_tokens === undefined || usage.total_tokens === null
    ? input + output
    : tokenCount(usage.total_tokens);
  if (total === undefined) return undefined;
  const out: CompletionUsage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: total,
  };
  // Prompt-cache hits (OpenAI's prompt_tokens_details.cached_tokens), priced apart.
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
  const cached = tokenCount(details?.cached_tokens);
  if (cached !== undefined && cached > 0) out.prompt_tokens_details = { cached_tokens: cached };
  return out;
}

/** The text of a message content value (string or parts), or undefined when it is not text. */
// deno-lint-ignore no-explicit-any
export function contentOf(content: any): string | undefined {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part?.text === "string" ? part.text : ""))
      .join("");
  }
  return undefined;
}
