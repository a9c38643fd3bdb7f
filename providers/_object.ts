// completeObject() for a provider that has none of its own (one added with
// registerProvider() before structured output existed): its completion()
// with the schema in the prompt (strategy "prompt"), checked and repaired as
// every provider's answers are.
import { checkObjectArguments, loadEngine } from "../_structured/mod.ts";
import type { CompleteObjectOptions, ObjectCompletion } from "../structured.ts";
import type { TokenUsage } from "../chat.ts";
import { checkMessages } from "./openai_compatible.ts";
import type { BasicProvider, Provider } from "./types.ts";

/**
 * The token counts of a completion's `usage`: ours (`inputTokens`...), or the
 * OpenAI wire shape a provider written before completions carried ours may
 * still return.
 */
function usageOf(usage: unknown): TokenUsage | undefined {
  if (!usage || typeof usage !== "object") return undefined;
  const counts = usage as Record<string, unknown>;
  const read = (ours: string, wire: string) => {
    const value = typeof counts[ours] === "number" ? counts[ours] : counts[wire];
    return typeof value === "number" && Number.isFinite(value) ? value : undefined;
  };
  const inputTokens = read("inputTokens", "prompt_tokens");
  const outputTokens = read("outputTokens", "completion_tokens");
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  return {
    inputTokens,
    outputTokens,
    totalTokens: read("totalTokens", "total_tokens") ?? inputTokens + outputTokens,
  };
}

/** Structured output through `provider.completion()`, the schema in the prompt. */
export async function completeObjectByPrompt<T>(
  provider: BasicProvider,
  options: CompleteObjectOptions<T>,
): Promise<ObjectCompletion<T>> {
  const args = checkObjectArguments(options, "completeObject");
  checkMessages(args.messages);
  const model = args.model ?? provider.model;
  const { chatObject } = await loadEngine();
  return await chatObject<T>({
    messages: args.messages,
    schema: args.schema,
    name: args.name,
    strategy: "prompt",
    // A custom provider's secrets are not known here (its own errors are its own).
    scrub: (text) => text,
    label: provider.provider,
    labels: { provider: provider.provider, model },
    complete: async (messages, extra) => {
      const completion = await provider.completion({
        ...args.options,
        ...extra,
        messages,
        ...(args.model !== undefined ? { model: args.model } : {}),
        ...(args.signal !== undefined ? { signal: args.signal } : {}),
      });
      const choice = completion.choices?.[0];
      const usage = completion.usage;
      return {
        text: typeof choice?.message?.content === "string" ? choice.message.content : "",
        usage: usageOf(usage),
        finishReason: choice?.finish_reason,
      };
    },
  });
}

/**
 * The provider with a `completeObject()`: its own, or
 * {@link completeObjectByPrompt} added (on the object when it can take it,
 * else on a wrapper that forwards to it).
 */
export function withCompleteObject(provider: BasicProvider): Provider {
  if (typeof provider.completeObject === "function") return provider as Provider;
  const completeObject = <T>(options: CompleteObjectOptions<T>) =>
    completeObjectByPrompt<T>(provider, options);
  if (Object.isExtensible(provider)) {
    Object.defineProperty(provider, "completeObject", {
      value: completeObject,
      enumerable: false,
      configurable: true,
      writable: true,
    });
    return provider as Provider;
  }
  return {
    get provider() {
      return provider.provider;
    },
    get model() {
      return provider.model;
    },
    completion: (options) => provider.completion(options),
    stream: (options) => provider.stream(options),
    completeObject,
  };
}
