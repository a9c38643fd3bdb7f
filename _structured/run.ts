// The structured-output loop every strategy shares: ask, parse and check the
// answer, and when it misses the schema ask once more showing the model its
// mistakes; still wrong is a StructuredOutputError with the issues and the
// raw answer (secrets masked).
import type { TokenUsage } from "../chat.ts";
import { type APIErrorOptions, StructuredOutputError, type ValidationIssue } from "../errors.ts";
import { checkAnswer, type RawAnswer } from "./answer.ts";
import type { ResolvedSchema } from "./schema.ts";
import type { ObjectCompletion, StructuredOutputStrategy } from "../structured.ts";

/** The answer that missed the schema, and why: what a repair request shows the model. */
export interface Repair {
  /** The answer that was refused. */
  answer: RawAnswer;
  /** Why. */
  issues: ValidationIssue[];
}

/** One request's outcome. */
export interface Attempt {
  /** The answer. */
  answer: RawAnswer;
  /** Its token counts, when the service gave them. */
  usage?: TokenUsage | undefined;
}

/** How to run the loop for one call. */
export interface RunOptions {
  /** The checked schema. */
  schema: ResolvedSchema;
  /** The schema's name (for messages). */
  name: string;
  /** The strategy used. */
  strategy: StructuredOutputStrategy;
  /** Whether the schema was sent wrapped as the `value` of an object. */
  wrapped: boolean;
  /** Sends the request (the first, or the repair with what was wrong). */
  ask: (repair: Repair | undefined) => Promise<Attempt>;
  /** Masks secrets in a text that goes into the error. */
  scrub: (text: string) => string;
  /** The service's name in messages. */
  label: string;
  /** Labels of the error (provider, backend, model). */
  labels: APIErrorOptions;
}

/** The sum of two optional usages (undefined when neither is known). */
export function addUsage(
  a: TokenUsage | undefined,
  b: TokenUsage | undefined,
): TokenUsage | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const sum: TokenUsage = {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
  // Prompt-cache reads and writes, priced apart by PRICES.
  const read = (a.cachedInputTokens ?? 0) + (b.cachedInputTokens ?? 0);
  const written = (a.cacheWriteInputTokens ?? 0) + (b.cacheWriteInputTokens ?? 0);
  if (read > 0) sum.cachedInputTokens = read;
  if (written > 0) sum.cacheWriteInputTokens = written;
  return sum;
}

/** How many issues an error message lists (all of them are in `validationErrors`). */
const LISTED = 5;

/**
 * Asks, checks, repairs once. Resolves to the checked object with the usage
 * of both requests; rejects with `StructuredOutputError` when the repaired
 * answer misses the schema too, or with what a request rejected with.
 */
export async function runStructured<T>(options: RunOptions): Promise<ObjectCompletion<T>> {
  let usage: TokenUsage | undefined;
  let repair: Repair | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const { answer, usage: used } = await options.ask(repair);
    usage = addUsage(usage, used);
    const checked = await checkAnswer(answer, options.schema, options.wrapped);
    if (checked.ok) return { object: checked.value as T, usage, strategy: options.strategy };
    repair = { answer, issues: checked.issues };
  }
  const { answer, issues } = repair!;
  const listed = issues.slice(0, LISTED).map((issue) =>
    `${issue.path === "" ? "(the answer)" : issue.path}: ${issue.message}`
  ).join("; ");
  const more = issues.length > LISTED ? ` and ${issues.length - LISTED} more` : "";
  throw new StructuredOutputError(
    `The answer of ${options.label} for model "${options.labels.model}" does not follow the ` +
      `JSON Schema "${options.name}" (strategy "${options.strategy}"), also after a repair ` +
      `request: ${options.scrub(listed)}${more}`,
    {
      ...options.labels,
      validationErrors: issues.map((issue) => ({
        path: issue.path,
        message: options.scrub(issue.message),
      })),
      rawText: options.scrub(answer.text),
      strategy: options.strategy,
    },
  );
}
