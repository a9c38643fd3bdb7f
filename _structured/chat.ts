// Structured output through a chat-completions call: OpenAI's json_schema
// response format (strict when the schema allows), JSON mode with the schema
// in the prompt, or the schema in the prompt only. The repair request is the
// conversation, the refused answer, and a user message listing the issues.
import type { ChatMessage, ChatOptions, TokenUsage } from "../chat.ts";
import type { APIErrorOptions } from "../errors.ts";
import { repairText, schemaInstruction } from "./answer.ts";
import { type Attempt, type Repair, runStructured } from "./run.ts";
import { hasObjectRoot, type ResolvedSchema, wrapRoot } from "./schema.ts";
import type { ChatStructuredOutputStrategy, JSONSchema, ObjectCompletion } from "../structured.ts";
import { wireSchema } from "./wire_schema.ts";

/** The strategies a chat-completions service can have. */
export type ChatStrategy = ChatStructuredOutputStrategy;

/** One chat answer as the strategies need it. */
export interface ChatAnswer {
  /** The answer's text. */
  text: string;
  /** Token counts, when known. */
  usage?: TokenUsage | undefined;
  /** The finish reason (`"length"`: cut at the token limit). */
  finishReason?: string | null | undefined;
}

/** What {@link chatObject} needs. */
export interface ChatObjectOptions {
  /** The caller's conversation. */
  messages: ChatMessage[];
  /** The checked schema. */
  schema: ResolvedSchema;
  /** The schema's name (the response format's name). */
  name: string;
  /** The strategy. */
  strategy: ChatStrategy;
  /** Sends one chat request with extra options (the response format). */
  complete: (messages: ChatMessage[], extra: ChatOptions) => Promise<ChatAnswer>;
  /** Masks secrets in a text that goes into an error. */
  scrub: (text: string) => string;
  /** The service's name in messages. */
  label: string;
  /** Labels of the error (provider, backend, model). */
  labels: APIErrorOptions;
}

/** The messages and options of the first request for a strategy. */
export function chatPlan(
  schema: JSONSchema,
  name: string,
  strategy: ChatStrategy,
): { wrapped: boolean; instruction: string | undefined; extra: ChatOptions } {
  // A response format takes an object root: anything else is sent as its "value".
  const wrapped = strategy !== "prompt" && !hasObjectRoot(schema);
  const sent = wrapped ? wrapRoot(schema) : schema;
  if (strategy === "json_schema") {
    const wire = wireSchema(sent, "openai");
    return {
      wrapped,
      instruction: undefined,
      extra: {
        response_format: {
          type: "json_schema",
          json_schema: { name, schema: wire.schema, strict: wire.strict },
        },
      },
    };
  }
  const instruction = schemaInstruction(sent);
  if (strategy === "json_object") {
    return { wrapped, instruction, extra: { response_format: { type: "json_object" } } };
  }
  return { wrapped, instruction, extra: {} };
}

/** The conversation plus the refused answer and what was wrong with it. */
export function repairMessages(messages: ChatMessage[], repair: Repair | undefined): ChatMessage[] {
  if (repair === undefined) return messages;
  return [
    ...messages,
    { role: "assistant", content: repair.answer.text },
    { role: "user", content: repairText(repair.issues) },
  ];
}

/** Completes an object through chat requests (see the module comment). */
export function chatObject<T>(options: ChatObjectOptions): Promise<ObjectCompletion<T>> {
  const plan = chatPlan(options.schema.json, options.name, options.strategy);
  const first: ChatMessage[] = plan.instruction === undefined
    ? options.messages
    : [{ role: "system", content: plan.instruction }, ...options.messages];
  return runStructured<T>({
    schema: options.schema,
    name: options.name,
    strategy: options.strategy,
    wrapped: plan.wrapped,
    scrub: options.scrub,
    label: options.label,
    labels: options.labels,
    ask: async (repair): Promise<Attempt> => {
      const answer = await options.complete(repairMessages(first, repair), plan.extra);
      return {
        answer: {
          text: answer.text,
          ...(answer.finishReason === "length" ? { truncated: true } : {}),
        },
        usage: answer.usage,
      };
    },
  });
}
