// The OpenAI wire format both request kinds share: the request body, usage
// and message content as the service sends them.
import type { CompletionUsage } from "../chat.ts";
import type { ChatRequest } from "./types.ts";

/** The JSON body of a request: options (never `stream`), model and messages. */
export function requestBody(request: ChatRequest): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(request.options ?? {})) {
    if (value !== undefined && name !== "stream" && name !== "stream_options") {
      options[name] = value;
    }
  }
  return { ...options, model: request.model, messages: request.messages };
}

/** Wire-format usage from a service value, or undefined when it is not usable. */
export function toUsage(value: unknown): CompletionUsage | undefined {
  if (!value || typeof value !== "object") return undefined;
  const usage = value as Record<string, unknown>;
  const input = Number(usage.prompt_tokens ?? 0);
  const output = Number(usage.completion_tokens ?? 0);
  if (!Number.isFinite(input) || !Number.isFinite(output)) return undefined;
  const total = Number(usage.total_tokens ?? input + output);
  const out: CompletionUsage = {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: Number.isFinite(total) ? total : input + output,
  };
  // Prompt-cache hits (OpenAI's prompt_tokens_details.cached_tokens), priced apart.
  const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
  const cached = Number(details?.cached_tokens);
  if (Number.isFinite(cached) && cached > 0) out.prompt_tokens_details = { cached_tokens: cached };
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
