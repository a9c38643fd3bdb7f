// The token budget of a chat request, shared by backends and providers: count
// the prompt (and a structured-output schema sent beside it), refuse what
// does not fit the context window, and cap the answer to what is left.
import type { ChatMessage, TokenUsage } from "./chat.ts";
import { ContextLengthError, type ContextLengthErrorOptions } from "./errors.ts";
import {
  getEncodingName,
  getMaxOutputTokens,
  getTokenCounter,
  type TokenCounter,
} from "./tokens.ts";
import { loadedEncoding } from "./_tokenizer/mod.ts";

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

/** Texts longer than this (in characters) are counted in slices: about 10 ms of counting each. */
export const COUNT_SLICE_CHARS: number = 1 << 20;

const A = 65;
const Z = 90;
const a = 97;
const z = 122;

function asciiLetter(code: number): boolean {
  return (code >= A && code <= Z) || (code >= a && code <= z);
}

/**
 * A position at or after `from` where both encodings' pre-tokenisers split
 * whatever comes before or after, so that counting the two sides apart gives
 * the count of the whole: the space of "letter, space, letter" (the letters
 * end a piece, the space starts the next), or just after a newline followed
 * by printable ASCII other than "/" (no piece runs from a newline into it).
 * `text.length` when there is none.
 */
export function safeSplit(text: string, from: number): number {
  const n = text.length;
  for (let p = Math.max(from, 1); p < n - 1; p++) {
    const c = text.charCodeAt(p);
    const before = text.charCodeAt(p - 1);
    if (c === 32) {
      if (asciiLetter(before) && asciiLetter(text.charCodeAt(p + 1))) return p;
    } else if (before === 10 && c > 32 && c < 127 && c !== 47) {
      return p;
    }
  }
  return n;
}

/** Lets timers and I/O run (an abort, for one) between slices of a long count. */
function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The slices a text of more than `sliceChars` characters is counted in: each
 * at least `sliceChars` long (the last may be shorter), ending at a
 * {@link safeSplit} point or the text's end.
 */
export function* slicesOf(text: string, sliceChars: number): Generator<string> {
  if (text.length <= sliceChars) {
    yield text;
    return;
  }
  let start = 0;
  while (start < text.length) {
    const end = safeSplit(text, start + sliceChars);
    yield text.slice(start, end);
    start = end;
  }
}

/**
 * Counts a text; one over `sliceChars` (default {@link COUNT_SLICE_CHARS}) is
 * counted in {@link slicesOf} (the same count as the whole), with a turn of
 * the event loop between slices, after which an aborted `signal` throws its
 * reason.
 */
export async function countInSlices(
  count: (text: string) => number,
  text: string,
  options: { signal?: AbortSignal | undefined; sliceChars?: number } = {},
): Promise<number> {
  let total = 0;
  let first = true;
  for (const slice of slicesOf(text, options.sliceChars ?? COUNT_SLICE_CHARS)) {
    if (!first) {
      await turn();
      options.signal?.throwIfAborted();
    }
    first = false;
    total += count(slice);
  }
  return total;
}

/**
 * Counts the tokens of chat messages for a model (exact text, estimated
 * images). A long text is counted in slices, so an aborted `signal` takes
 * effect within one slice.
 */
export function countMessageTokens(
  messages: ChatMessage[],
  modelId: string,
  signal?: AbortSignal,
): Promise<number> {
  const known = countMessageTokensNow(messages, modelId);
  return known === undefined
    ? countMessageTokensLater(messages, modelId, signal)
    : Promise.resolve(known);
}

// The counters of models whose encoding is loaded, by model id (a few ids per application).
const counters = new Map<string, TokenCounter>();
const MAX_COUNTERS = 256;

/** The counter of `modelId` when it can count at once (its encoding loaded, or none needed). */
function counterNow(modelId: string): TokenCounter | undefined {
  const known = counters.get(modelId);
  if (known !== undefined) return known;
  const name = getEncodingName(modelId);
  let counter: TokenCounter | undefined;
  if (name === undefined) counter = undefined;
  else {
    const encoding = loadedEncoding(name);
    if (encoding === undefined) return undefined;
    counter = (text) => encoding.count(text);
  }
  if (counter === undefined) return undefined;
  if (counters.size >= MAX_COUNTERS) counters.clear();
  counters.set(modelId, counter);
  return counter;
}

/**
 * The messages' tokens counted at once, as {@link countMessageTokens} counts
 * them, or undefined when that needs waiting (an encoding to load, a text long
 * enough to be counted in slices, a model without an encoding).
 */
export function countMessageTokensNow(
  messages: readonly ChatMessage[],
  modelId: string,
): number | undefined {
  const count = counterNow(modelId);
  if (count === undefined) return undefined;
  let total = TOKENS_FOR_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + count(message.role);
    if (typeof message.content === "string") {
      if (message.content.length > COUNT_SLICE_CHARS) return undefined;
      total += count(message.content);
      continue;
    }
    for (const part of message.content) {
      if (part.type !== "text") total += TOKENS_PER_IMAGE;
      else if (part.text.length > COUNT_SLICE_CHARS) return undefined;
      else total += count(part.text);
    }
  }
  return total;
}

async function countMessageTokensLater(
  messages: ChatMessage[],
  modelId: string,
  signal?: AbortSignal,
): Promise<number> {
  const count = await getTokenCounter(modelId);
  const counted = (text: string): number | Promise<number> =>
    text.length <= COUNT_SLICE_CHARS ? count(text) : countInSlices(count, text, { signal });
  let total = TOKENS_FOR_REPLY;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + count(message.role);
    if (typeof message.content === "string") {
      total += await counted(message.content);
      continue;
    }
    for (const part of message.content) {
      total += part.type === "text" ? await counted(part.text) : TOKENS_PER_IMAGE;
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
  /** Stops a long count (it throws the signal's reason). */
  signal?: AbortSignal | undefined;
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
  const promptTokens = await countMessageTokens(messages, options.modelId, options.signal) +
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
