// The answer cap of a backend's chat request: the budget (../_budget.ts) under
// the key the model takes, and the per-call caps within the configured ones.
import type { ChatMessage, ChatOptions } from "../chat.ts";
import { answerBudget, budgetBySize, type BudgetOptions, promptBudget } from "../_budget.ts";

const COMPLETION_TOKENS_MODEL = /^(?:[\w-]+\/)?(?:o\d|gpt-5)/i;

/** Whether a model takes `max_completion_tokens` instead of `max_tokens` (o-series, gpt-5). */
export function usesMaxCompletionTokens(modelId: string): boolean {
  return COMPLETION_TOKENS_MODEL.test(modelId);
}

// The cap's key of each model asked, kept: a backend asks the same model at every request, and
// the pattern's compiled code does not outlive a garbage collection (it runs interpreted again).
const capKeys = new Map<string, string>();
const CAP_KEYS_KEPT = 256;

/** `"max_completion_tokens"` for the models that require it, else `"max_tokens"`. */
export function capKeyOf(modelId: string): string {
  let key = capKeys.get(modelId);
  if (key === undefined) {
    key = usesMaxCompletionTokens(modelId) ? "max_completion_tokens" : "max_tokens";
    if (capKeys.size >= CAP_KEYS_KEPT) capKeys.clear();
    capKeys.set(modelId, key);
  }
  return key;
}

/** `{max_tokens: budget}`, or `{max_completion_tokens: budget}` for the models that require it. */
function capOption(modelId: string, budget: number): Record<string, number> {
  // Literal shapes: a computed key would make a slower object of each.
  return capKeyOf(modelId) === "max_tokens"
    ? { max_tokens: budget }
    : { max_completion_tokens: budget };
}

/** What {@link answerLimit} resolves to. */
export interface AnswerLimit {
  /** `{max_tokens: n}` or `{max_completion_tokens: n}`. */
  option: Record<string, number>;
  /** The prompt's token count, when it was counted. */
  promptTokens: number | undefined;
  /** The cap itself. */
  budget: number;
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
  return capOption(options.modelId, budget);
}

/**
 * {@link answerLimitOption}, the prompt's token count (kept for an estimate of
 * usage; `undefined` when its size alone proved it fits, unless
 * `options.countPrompt`) and the cap itself (what LIMITS reserve for the answer).
 */
export async function answerLimit(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<AnswerLimit> {
  const { promptTokens, budget } = await promptBudget(messages, options);
  return { option: capOption(options.modelId, budget), promptTokens, budget };
}

/**
 * {@link answerLimit} when the prompt's size alone proves that it fits (no
 * count: `promptTokens` undefined), synchronously; else `undefined` (then
 * call {@link answerLimit}, which counts).
 */
export function answerLimitBySize(
  messages: readonly ChatMessage[],
  options: BudgetOptions,
): AnswerLimit | undefined {
  const budget = budgetBySize(messages, options);
  if (budget === undefined) return undefined;
  return { option: capOption(options.modelId, budget), promptTokens: undefined, budget };
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
