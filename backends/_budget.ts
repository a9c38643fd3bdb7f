// The answer cap of a backend's chat request: the budget (../_budget.ts) under
// the key the model takes, and the per-call caps within the configured ones.
import type { ChatMessage, ChatOptions } from "../chat.ts";
import { answerBudget, type BudgetOptions, promptBudget } from "../_budget.ts";

/** Whether a model takes `max_completion_tokens` instead of `max_tokens` (o-series, gpt-5). */
export function usesMaxCompletionTokens(modelId: string): boolean {
  return /^(?:[\w-]+\/)?(?:o\d|gpt-5)/i.test(modelId);
}

/**
 * The answer-length option for a request: `{max_tokens: n}`, or
 * `{max_completion_tokens: n}` for models that require it, with `n` from
 * {@link answerBudget}.
 */
export async function answerLimitOption(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<Record<string, number>> {
  const budget = await answerBudget(messages, options);
  const key = usesMaxCompletionTokens(options.modelId) ? "max_completion_tokens" : "max_tokens";
  return { [key]: budget };
}

/**
 * {@link answerLimitOption}, the prompt's token count (kept for an estimate of
 * usage; `undefined` when its size alone proved it fits, unless
 * `options.countPrompt`) and the cap itself (what LIMITS reserve for the answer).
 */
export async function answerLimit(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<{ option: Record<string, number>; promptTokens: number | undefined; budget: number }> {
  const { promptTokens, budget } = await promptBudget(messages, options);
  const key = usesMaxCompletionTokens(options.modelId) ? "max_completion_tokens" : "max_tokens";
  return { option: { [key]: budget }, promptTokens, budget };
}

/**
 * Splits per-call options into the answer cap they set (`max_tokens` or
 * `max_completion_tokens`; both: the smaller) and the other options.
 */
export function splitAnswerCap(
  options: ChatOptions | undefined,
): { cap: number | undefined; rest: ChatOptions } {
  if (options === undefined) return { cap: undefined, rest: {} };
  const { max_tokens, max_completion_tokens, ...rest } = options;
  const a = typeof max_tokens === "number" ? max_tokens : undefined;
  const b = typeof max_completion_tokens === "number" ? max_completion_tokens : undefined;
  return { cap: lowerCap(a, b), rest };
}

/** The smaller of two optional caps (a per-call cap within the configured ceiling). */
export function lowerCap(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
