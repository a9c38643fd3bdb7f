// Structured output through the private OpenAI client, for the OpenAI-compatible
// providers, the OpenAI backend and the LLM backend's OpenAI models.
import type { ChatMessage, ChatOptions } from "../chat.ts";
import { chatCompletion, type ClientSettings, scrubText, serviceLabel } from "../_openai/mod.ts";
import { chatObject, type ChatStrategy } from "./chat.ts";
import type { ResolvedSchema } from "./schema.ts";
import type { ObjectCompletion } from "../structured.ts";

/** One structured call to an OpenAI-compatible service. */
export interface OpenAIObjectRequest {
  /** The model sent to the service. */
  model: string;
  /** The conversation. */
  messages: ChatMessage[];
  /** The checked schema. */
  schema: ResolvedSchema;
  /** The schema's name. */
  name: string;
  /** The strategy the service takes. */
  strategy: ChatStrategy;
  /** Chat options sent with each request. */
  options?: ChatOptions;
  /** Ends the requests when aborted. */
  signal?: AbortSignal | undefined;
}

/** Completes an object with chat requests through the OpenAI client. */
export function openAIObject<T>(
  settings: ClientSettings,
  request: OpenAIObjectRequest,
): Promise<ObjectCompletion<T>> {
  return chatObject<T>({
    messages: request.messages,
    schema: request.schema,
    name: request.name,
    strategy: request.strategy,
    scrub: (text) => scrubText(text, settings),
    label: serviceLabel(settings),
    labels: { provider: settings.provider, backend: settings.backend, model: request.model },
    complete: async (messages, extra) => {
      const completion = await chatCompletion(settings, {
        model: request.model,
        messages,
        options: { ...request.options, ...extra },
        ...(request.signal ? { signal: request.signal } : {}),
      });
      const choice = completion.choices[0];
      return {
        text: choice?.message.content ?? "",
        usage: completion.usage && {
          inputTokens: completion.usage.inputTokens,
          outputTokens: completion.usage.outputTokens,
          totalTokens: completion.usage.totalTokens,
        },
        finishReason: choice?.finish_reason,
      };
    },
  });
}
