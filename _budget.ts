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
import { type Encoding, loadedEncoding, loadEncoding } from "./_tokenizer/mod.ts";

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

// When the last timer turn ended (performance.now()).
let lastTimerTurn = 0;

/** At most this long (ms) between timer turns of a long count. */
const TIMER_TURN_MS = 16;

/**
 * Lets timers and I/O run (an abort, for one) between slices of a long count:
 * mostly a message through a new channel, a task of its own (a `setTimeout(0)`
 * waits a millisecond or more, a tenth of a slice's count); but a timeout once
 * {@link TIMER_TURN_MS} have passed since the last one, since where the
 * runtime's Node layer is in use (Deno, once `process` is touched) message
 * tasks run ahead of timers and could starve them for the whole count.
 */
function turn(): Promise<void> {
  if (typeof MessageChannel !== "function" || performance.now() - lastTimerTurn >= TIMER_TURN_MS) {
    return new Promise((resolve) =>
      setTimeout(() => {
        lastTimerTurn = performance.now();
        resolve();
      }, 0)
    );
  }
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      port2.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
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
 * Counts a long text with an encoding in the {@link slicesOf} ranges, without
 * slicing the text (each range counted in place: the same count as the
 * whole), with a turn of the event loop between ranges, after which an
 * aborted `signal` throws its reason.
 */
export async function countRanges(
  encoding: Encoding,
  text: string,
  options: { signal?: AbortSignal | undefined; sliceChars?: number } = {},
): Promise<number> {
  const sliceChars = options.sliceChars ?? COUNT_SLICE_CHARS;
  if (text.length <= sliceChars) return encoding.count(text);
  let total = 0;
  let start = 0;
  while (start < text.length) {
    if (start > 0) {
      await turn();
      options.signal?.throwIfAborted();
    }
    const end = safeSplit(text, start + sliceChars);
    total += encoding.countRange(text, start, end);
    start = end;
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
  const name = getEncodingName(modelId);
  const encoding = name === undefined ? undefined : loadedEncoding(name);
  const counted = (text: string): number | Promise<number> =>
    text.length <= COUNT_SLICE_CHARS
      ? count(text)
      : encoding !== undefined
      ? countRanges(encoding, text, { signal })
      : countInSlices(count, text, { signal });
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

/**
 * At least as many tokens as {@link countMessageTokens} counts, from the
 * texts' lengths alone: a token is at least one UTF-8 byte (the naive
 * estimate of models without an encoding is at most one per UTF-16 unit), and
 * a UTF-16 unit is at most three UTF-8 bytes.
 */
export function tokenCeiling(messages: readonly ChatMessage[]): number {
  const { units, fixed } = lengths(messages);
  return fixed + 3 * units;
}

/** The messages' UTF-16 units, and the tokens counted whatever the texts (framing, images). */
function lengths(messages: readonly ChatMessage[]): { units: number; fixed: number } {
  let units = 0;
  let fixed = TOKENS_FOR_REPLY;
  for (const message of messages) {
    fixed += TOKENS_PER_MESSAGE;
    units += message.role.length;
    if (typeof message.content === "string") units += message.content.length;
    else {
      for (const part of message.content) {
        if (part.type === "text") units += part.text.length;
        else fixed += TOKENS_PER_IMAGE;
      }
    }
  }
  return { units, fixed };
}

/** The UTF-8 length of `text` in bytes, without encoding it (a lone surrogate: 3, as U+FFFD). */
export function utf8Length(text: string, from = 0, to: number = text.length): number {
  const n = to - from;
  if (n >= 4096 && n <= ASCII_CHECK_MAX) {
    // ASCII text (most prompts) is told by the encoder's fast copy, far quicker than the loop.
    if (scratch.length < n) scratch = new Uint8Array(Math.max(n, 2 * scratch.length));
    const part = from === 0 && to === text.length ? text : text.slice(from, to);
    const { read, written } = utf8Encoder.encodeInto(part, scratch.subarray(0, n));
    if (read === n && written === n) return n;
  }
  let bytes = n;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < to) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: 4 bytes for 2 units
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

const utf8Encoder = new TextEncoder();
// The encoder's output for the ASCII check of utf8Length(), kept (at most 1 MiB).
const ASCII_CHECK_MAX = 1 << 20;
let scratch = new Uint8Array(0);

/**
 * At least as many tokens as {@link countMessageTokens} counts, from the
 * texts' UTF-8 lengths (one pass over the text, far cheaper than counting).
 */
export function byteCeiling(messages: readonly ChatMessage[]): number {
  let ceiling = TOKENS_FOR_REPLY;
  for (const message of messages) {
    ceiling += TOKENS_PER_MESSAGE + utf8Length(message.role);
    if (typeof message.content === "string") ceiling += utf8Length(message.content);
    else {
      for (const part of message.content) {
        ceiling += part.type === "text" ? utf8Length(part.text) : TOKENS_PER_IMAGE;
      }
    }
  }
  return ceiling;
}

/**
 * Whether the messages (and `extraTokens` beside them) provably leave more
 * than `room` tokens of a `window`, from their lengths alone (no count, no
 * encoder): first from their UTF-16 lengths, then from their UTF-8 lengths.
 */
export function fitsBySize(
  messages: readonly ChatMessage[],
  window: number,
  room: number,
  extraTokens = 0,
): boolean {
  const { units, fixed } = lengths(messages);
  const need = fixed + extraTokens + room;
  if (need + 3 * units < window) return true;
  // A text has at least as many UTF-8 bytes as UTF-16 units: pass over the text only when that can fit.
  if (need + units >= window) return false;
  return byteCeiling(messages) + extraTokens + room < window;
}

/** Ranges of a long text that the budget counts one by one, checking the fit after each. */
export const FIT_RANGE_CHARS: number = 1 << 18;

/**
 * The exact count of {@link countMessageTokens}, unless counting part of the
 * messages proves that the whole stays under `limit` tokens (the counted
 * part's exact tokens plus the UTF-8 bytes of the rest, which a token is never
 * shorter than): then `undefined`, and the rest is not counted. Long texts are
 * counted in place by ranges of about {@link FIT_RANGE_CHARS}, with a turn of
 * the event loop after each {@link COUNT_SLICE_CHARS} or so (an aborted
 * `signal` then throws its reason).
 */
export async function countUnlessUnder(
  messages: ChatMessage[],
  modelId: string,
  limit: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const name = getEncodingName(modelId);
  if (name === undefined) {
    // The naive estimate is cheap: counted whole.
    return await countMessageTokens(messages, modelId, signal);
  }
  const encoding = loadedEncoding(name) ?? await loadEncoding(name);
  const pieces: { text: string; from: number; to: number; bytes: number }[] = [];
  let counted = TOKENS_FOR_REPLY;
  let rest = 0;
  const add = (text: string) => {
    if (text.length <= FIT_RANGE_CHARS) {
      const bytes = utf8Length(text);
      pieces.push({ text, from: 0, to: text.length, bytes });
      rest += bytes;
      return;
    }
    for (let from = 0, to = 0; from < text.length; from = to) {
      to = safeSplit(text, from + FIT_RANGE_CHARS);
      const bytes = utf8Length(text, from, to);
      pieces.push({ text, from, to, bytes });
      rest += bytes;
    }
  };
  for (const message of messages) {
    counted += TOKENS_PER_MESSAGE;
    add(message.role);
    if (typeof message.content === "string") add(message.content);
    else {
      for (const part of message.content) {
        if (part.type === "text") add(part.text);
        else counted += TOKENS_PER_IMAGE;
      }
    }
  }
  let sinceTurn = 0;
  for (const piece of pieces) {
    if (counted + rest < limit) return undefined;
    if (sinceTurn >= COUNT_SLICE_CHARS) {
      await turn();
      signal?.throwIfAborted();
      sinceTurn = 0;
    }
    counted += piece.from === 0 && piece.to === piece.text.length
      ? encoding.count(piece.text)
      : encoding.countRange(piece.text, piece.from, piece.to);
    rest -= piece.bytes;
    sinceTurn += piece.to - piece.from;
  }
  return counted;
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
  /**
   * A JSON Schema sent beside the messages: its size counts toward the
   * window as a ceiling, and its tokens are counted (with {@link countSchemaTokens})
   * only when the prompt is.
   */
  schema?: unknown;
  /** What to do about a prompt over the window, for the error (default: about TOKEN_LIMIT). */
  hint?: string;
  /** Labels for the error. */
  backend?: string;
  /** Labels for the error. */
  provider?: string;
  /** Stops a long count (it throws the signal's reason). */
  signal?: AbortSignal | undefined;
  /**
   * Count the prompt even when its size alone proves it fits (for LIMITS,
   * which reserve its exact tokens). Default: a prompt whose size leaves the
   * answer cap within the window is not counted.
   */
  countPrompt?: boolean;
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
 * may have (see {@link answerBudget}). When an answer cap is known (the
 * model's maximum output or a configured one) and the prompt's size alone
 * proves that the prompt and the cap fit the window, nothing is counted and
 * no encoder is loaded: `promptTokens` is then `undefined` (unless
 * `countPrompt`). Otherwise the prompt is counted, at most once: until the
 * counted part and the rest's size prove the fit (`promptTokens` then
 * `undefined` too), else exactly to the end.
 *
 * @throws {ContextLengthError} when the prompt alone fills the window, saying by how much.
 */
export async function promptBudget(
  messages: ChatMessage[],
  options: BudgetOptions,
): Promise<{ promptTokens: number | undefined; budget: number }> {
  const cap = outputCap(options);
  const schemaText = options.schema === undefined ? undefined : JSON.stringify(options.schema);
  let messageTokens: number | undefined;
  if (!options.countPrompt && cap !== undefined) {
    const extra = (options.extraTokens ?? 0) +
      (schemaText === undefined ? 0 : TOKENS_PER_SCHEMA + 3 * schemaText.length);
    // The window leaves more than the cap whatever the exact count: the cap is the budget.
    const fits = { promptTokens: undefined, budget: cap };
    if (fitsBySize(messages, options.tokenLimit, cap, extra)) return fits;
    // Near the window: counted until the rest's size proves the fit, else to the end (once).
    messageTokens = await countUnlessUnder(
      messages,
      options.modelId,
      options.tokenLimit - cap - extra,
      options.signal,
    );
    if (messageTokens === undefined) return fits;
  }
  const extraTokens = (options.extraTokens ?? 0) +
    (options.schema === undefined ? 0 : await countSchemaTokens(options.schema, options.modelId));
  const promptTokens =
    (messageTokens ?? await countMessageTokens(messages, options.modelId, options.signal)) +
    extraTokens;
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
      `The prompt is ${promptTokens} tokens${extraTokens ? ` (the schema included)` : ""}, ${
        over > 0
          ? `over the context window of model "${options.modelId}" (${options.tokenLimit} tokens) by ${over} tokens`
          : `filling the whole context window of model "${options.modelId}" (${options.tokenLimit} tokens) with no room for the answer`
      }: ${options.hint ?? "split the content or raise TOKEN_LIMIT"}`,
      labels,
    );
  }
  return { promptTokens, budget: cap === undefined ? left : Math.min(left, cap) };
}

/**
 * The answer's budget from the prompt's size alone, synchronously: the answer
 * cap (the model's maximum output or the configured cap) when the prompt's
 * size proves that it and the cap fit the window (what {@link promptBudget}
 * then gives, with no count), else `undefined` (the prompt must be counted:
 * call {@link promptBudget}). Always `undefined` with `countPrompt` or a
 * schema (whose tokens are counted with the prompt).
 */
export function budgetBySize(
  messages: readonly ChatMessage[],
  options: BudgetOptions,
): number | undefined {
  if (options.countPrompt || options.schema !== undefined) return undefined;
  const cap = outputCap(options);
  if (cap === undefined) return undefined;
  return fitsBySize(messages, options.tokenLimit, cap, options.extraTokens ?? 0) ? cap : undefined;
}

/** The answer cap without the window: the model's maximum output and the configured cap. */
function outputCap(options: BudgetOptions): number | undefined {
  const modelMax = getMaxOutputTokens(options.modelId);
  const configured = options.maxOutputTokens;
  if (modelMax === undefined) return configured;
  return configured === undefined ? modelMax : Math.min(modelMax, configured);
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
