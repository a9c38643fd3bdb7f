// The token budget of a chat request, shared by backends and providers: count
// the prompt (and a structured-output schema sent beside it), refuse what
// does not fit the context window, and cap the answer to what is left.
import type { ChatMessage, TokenUsage } from "./chat.ts";
import { ContextLengthError, type ContextLengthErrorOptions } from "./errors.ts";
import { getMaxOutputTokens, getTokenCounter } from "./tokens.ts";

// Chat formatting adds a few tokens per message and to prime the reply
// (OpenAI's published counting recipe: 3 per message, 3 for the reply).
const TOKENS_PER_MESSAGE = 3;
const TOKENS_FOR_REPLY = 3;
// The least an image costs on OpenAI's vision models (a low-detail image: 85
// tokens), used for one image part. Its real cost depends on its size and detail,
// which are not known here, so the least is counted: a request is only refused
// when it is over the window whatever the image costs (a larger image may still
// be refused by the service, as a ContextLengthError). Counting a high-detail
// 1024x1024 image (765) refused every image under Wagtail AI's documented vision settings
// (TOKEN_LIMIT 300).
export const TOKENS_PER_IMAGE = 85;
// What wrapping a schema as a response format or a tool adds (its name, the
// wrapper's keys): a small constant on top of the schema's own text.
const TOKENS_PER_SCHEMA = 10;

/** Counts the tokens of chat messages for a model (exact text, estimated images). */
export async function countMessageTokens(
  messages: ChatMessage[],
  modelId: string,
): Promise<number> {
  const count = await getTokenCounter(modelId);
  let total = TOKENS_FOR_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + count(message.role);
    if (typeof message.content === "string") {
      total += count(message.content);
      continue;
    }
    for (const part of message.content) {
      total += part.type === "text" ? count(part.text) : TOKENS_PER_IMAGE;
    }
  }
  return total;
}

/** Counts the tokens a JSON Schema sent beside the messages takes (its JSON text). */
export async function countSchemaTokens(schema: unknown, modelId: string): Promise<number> {
  const count = await getTokenCounter(modelId);
  return TOKENS_PER_SCHEMA + count(JSON.stringify(schema));
}

/** What limits an answer. */
export interface BudgetOptions {
  /** The model id (for its encoding and maximum output). */
  modelId: string;
  /** The context window. */
  tokenLimit: number;
  /** A configured cap on the answer. */
  maxOutputTokens?: number | undefined;
  /** Tokens sent beside the messages (a structured-output schema), counted with them. */
  extraTokens?: number | undefined;
  /** What to do about a prompt over the window, for the error (default: about TOKEN_LIMIT). */
  hint?: string;
  /** Labels for the error. */
  backend?: string;
  /** Labels for the error. */
  provider?: string;
}

/**
 * The most tokens the answer may have: at most the model's maximum output,
 * the configured cap, and what the window leaves after the prompt.
 *
 * @throws {ContextLengthError} when the prompt alone fills the window, saying by how much.
 */
export async function answerBudget(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<number> {
  return (await promptBudget(messages, options)).budget;
}

/**
 * The prompt's tokens (the schema included) and the most tokens the answer
 * may have (see {@link answerBudget}).
 *
 * @throws {ContextLengthError} when the prompt alone fills the window, saying by how much.
 */
export async function promptBudget(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<{ promptTokens: number; budget: number }> {
  const promptTokens = await countMessageTokens(messages, options.modelId) +
    (options.extraTokens ?? 0);
  const left = options.tokenLimit - promptTokens;
  if (left <= 0) {
    const labels: ContextLengthErrorOptions = {
      model: options.modelId,
      promptTokens,
      contextWindow: options.tokenLimit,
    };
    if (options.backend !== undefined) labels.backend = options.backend;
    if (options.provider !== undefined) labels.provider = options.provider;
    const over = promptTokens - options.tokenLimit;
    throw new ContextLengthError(
      `The prompt is ${promptTokens} tokens${
        options.extraTokens ? ` (the schema included)` : ""
      }, ${
        over > 0
          ? `over the context window of model "${options.modelId}" (${options.tokenLimit} tokens) by ${over} tokens`
          : `filling the whole context window of model "${options.modelId}" (${options.tokenLimit} tokens) with no room for the answer`
      }: ${options.hint ?? "split the content or raise TOKEN_LIMIT"}`,
      labels,
    );
  }
  let budget = left;
  const modelMax = getMaxOutputTokens(options.modelId);
  if (modelMax !== undefined) budget = Math.min(budget, modelMax);
  if (options.maxOutputTokens !== undefined) budget = Math.min(budget, options.maxOutputTokens);
  return { promptTokens, budget };
}

/**
 * Estimated usage of an answer when the service reported none: the prompt's
 * tokens (counted before sending when known, else now) and the answer's text
 * counted for the model.
 */
export async function estimateAnswerUsage(
  modelId: string,
  promptTokens: number | undefined,
  messages: () => Promise<ChatMessage[]>,
  text: string,
): Promise<TokenUsage> {
  const count = await getTokenCounter(modelId);
  const inputTokens = promptTokens ?? await countMessageTokens(await messages(), modelId);
  const outputTokens = count(text);
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}
