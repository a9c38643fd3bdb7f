/**
 * The engine of document runs: reads a document in its format, groups its
 * blocks into chunks that fit the backend, sends the chunks that are not in
 * the cache (several at once), puts each answer back in place, and reports
 * each chunk in document order. `ai.processText()` calls it.
 *
 * @module
 */
import type { AIResponse } from "../backends/response.ts";
import type { Backend } from "../backends/types.ts";
import type { CallMetadata } from "../chat.ts";
import { ContextLengthError } from "../errors.ts";
import { getMaxOutputTokens } from "../tokens.ts";
import { describeType } from "../_validate.ts";
import { groupUnits, unitPriorities } from "./_chunker.ts";
import type { ChunkPlan, DocumentFormatHandler, Outcome, Unit } from "./_format.ts";
import { clearParses, htmlFormat } from "./_html.ts";
import { markdownFormat } from "./_markdown.ts";
import { type AnswerContext, answerKey, backendIdentity } from "./_keys.ts";
import {
  type BlockMatch,
  clearRuns,
  keepRun,
  lastRun,
  matchBlocks,
  type RunRecord,
  sameRange,
} from "./_runs.ts";
import { textFormat } from "./_text.ts";
import { type MeasureWithin, measureWithin } from "../text_splitters/_within.ts";
import { type DeltaSink, DocumentResponse } from "./response.ts";
import {
  type AnswerCache,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CONCURRENCY,
  type DocumentDelta,
  type DocumentEvent,
  type DocumentFormat,
  type DocumentOptions,
  MAX_CONCURRENCY,
} from "./types.ts";

/** Forgets the runs remembered and the documents parsed lately (for benches that start cold). */
export function clearDocumentMemos(): void {
  clearRuns();
  clearParses();
}

/** How the answer goes into the text: in place of each chunk, or after the text. */
export type DocumentMethod = "replace" | "append";

/** What a document run works on. */
export interface DocumentJob {
  /** The backend that answers. */
  backend: Backend;
  /** The instruction sent before each chunk. */
  prompt: string;
  /** `"replace"` or `"append"`. */
  method: DocumentMethod;
  /** The document. */
  text: string;
}

/** Document options, checked, with their defaults. */
export interface CheckedDocumentOptions {
  /** The format. */
  format: DocumentFormat;
  /** The caller's signal, when given. */
  signal: AbortSignal | undefined;
  /** Chunks in flight at once. */
  concurrency: number;
  /** The answer cache, when given. */
  cache: AnswerCache | undefined;
  /** The largest chunk asked for. */
  chunkSize: number;
  /** The metadata of every request, when given. */
  metadata: CallMetadata | undefined;
}

const FORMATS: readonly DocumentFormat[] = ["text", "html", "markdown"];

// The tokens a chat request adds around its two messages, as the OpenAI
// backend counts them (3 per message and its role, 3 to prime the reply), and
// a little more.
const FRAMING = 16;

/**
 * Checks the options of a run: `format` one of the three, `signal` an
 * `AbortSignal`, `concurrency` an integer from 1 to 64, `cache` with `get`
 * and `set`, `chunkSize` a positive integer.
 *
 * @throws {TypeError} for a value of the wrong kind, naming the option.
 * @throws {RangeError} for a number out of range, naming the option.
 */
export function checkDocumentOptions(options: DocumentOptions): CheckedDocumentOptions {
  const {
    format = "text",
    signal,
    concurrency = DEFAULT_CONCURRENCY,
    cache,
    chunkSize = DEFAULT_CHUNK_SIZE,
    metadata,
  } = options;
  if (typeof format !== "string" || !FORMATS.includes(format)) {
    throw new TypeError(
      `format must be "text", "html" or "markdown", got ${
        typeof format === "string" ? `"${format}"` : describeType(format)
      }`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError("signal must be an AbortSignal when given");
  }
  if (typeof concurrency !== "number") {
    throw new TypeError(`concurrency must be a number, got ${describeType(concurrency)}`);
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(
      `concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(concurrency)}`,
    );
  }
  if (
    cache !== undefined &&
    (cache === null || typeof cache !== "object" || typeof cache.get !== "function" ||
      typeof cache.set !== "function")
  ) {
    throw new TypeError("cache must be an object with get() and set() methods");
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  if (metadata !== undefined && (metadata === null || typeof metadata !== "object")) {
    throw new TypeError(`metadata must be an object, got ${describeType(metadata)}`);
  }
  return { format, signal, concurrency, cache, chunkSize, metadata };
}

function formatHandler(format: DocumentFormat): DocumentFormatHandler {
  if (format === "html") return htmlFormat();
  if (format === "markdown") return markdownFormat();
  return textFormat();
}

const CAP_KEYS = ["max_tokens", "max_completion_tokens"];

/**
 * The longest answer a backend's requests may have, in tokens: the smallest
 * of its `MAX_OUTPUT_TOKENS`, the `max_tokens` (or `max_completion_tokens`)
 * of its `PROMPT_KWARGS`, `INIT_KWARGS` or `OPTIONS`, and the model's own
 * output limit; undefined when none is known.
 */
export function answerCapOf(backend: Backend): number | undefined {
  const config = backend.config as {
    maxOutputTokens?: unknown;
    promptKwargs?: unknown;
    initKwargs?: unknown;
    options?: unknown;
  };
  const caps: number[] = [];
  const add = (value: unknown) => {
    if (typeof value === "number" && Number.isFinite(value) && value > 0) caps.push(value);
  };
  add(config.maxOutputTokens);
  for (const kwargs of [config.promptKwargs, config.initKwargs, config.options]) {
    if (kwargs === null || typeof kwargs !== "object") continue;
    for (const key of CAP_KEYS) add((kwargs as Record<string, unknown>)[key]);
  }
  add(getMaxOutputTokens(backend.config.modelId));
  return caps.length === 0 ? undefined : Math.min(...caps);
}

/**
 * The largest chunk: half of what the context window leaves after the prompt
 * (room for an answer as long as the chunk), at most three quarters of the
 * backend's answer cap (see {@link answerCapOf}), and at most the caller's
 * `chunkSize`.
 *
 * @throws {ContextLengthError} when the prompt leaves no room.
 */
function chunkLimit(backend: Backend, promptLength: number, chunkSize: number): number {
  const { tokenLimit, modelId } = backend.config;
  let max = Math.floor((tokenLimit - promptLength - FRAMING) / 2);
  const answerCap = answerCapOf(backend);
  if (answerCap !== undefined) max = Math.min(max, Math.floor(answerCap * 3 / 4));
  max = Math.min(max, chunkSize);
  if (max >= 1) return max;
  throw new ContextLengthError(
    `The prompt is ${promptLength} tokens: the context window of model "${modelId}" ` +
      `(${tokenLimit} tokens) leaves no room for a chunk of text and its answer: shorten the ` +
      `prompt or raise TOKEN_LIMIT`,
    {
      model: modelId,
      backend: backend.alias,
      promptTokens: promptLength + FRAMING,
      contextWindow: tokenLimit,
    },
  );
}

/**
 * A quick, generous guess at a text's length in tokens, for grouping blocks
 * (every chunk is then measured with the backend's length calculator): a
 * token for every 3.6 ASCII characters (English prose has about 4.5, markup
 * about 3), and one for every other character (CJK text has about one).
 */
export function estimateLength(text: string): number {
  const other = NON_ASCII.test(text) ? text.match(NON_ASCII_ALL)!.length : 0;
  return Math.ceil((text.length - other) / 3.6 + other * 1.1);
}
const NON_ASCII = /[^\t\n\r -~]/;
const NON_ASCII_ALL = /[^\t\n\r -~]/g;

/** The last run to take unchanged blocks and chunks from, and how the blocks match. */
interface Reuse {
  readonly record: RunRecord;
  readonly match: BlockMatch;
}

/** Chunk plans, and what the next run needs to reuse them. */
interface Planned {
  readonly plans: ChunkPlan[];
  /** For each plan of whole blocks, its range `"first:last"` of block indices. */
  readonly ranges: (string | undefined)[];
  /** For each plan, its range in the last run when it is the same blocks, else undefined. */
  readonly oldRanges: (string | undefined)[];
  /** The estimated lengths of the blocks and of the spaces after them, and their priorities. */
  readonly guesses: Float64Array;
  readonly gapGuesses: Float64Array;
  readonly bases: Float64Array;
  readonly priorities: Float64Array;
  /** The measured lengths of the chunks tried, by range. */
  readonly lengths: Map<string, number>;
}

/**
 * Groups the blocks of a document into chunk plans of at most `max`.
 *
 * The blocks are grouped by their estimated lengths (see {@link groupUnits}:
 * boundaries depend on the content, not on where the document starts); then
 * each chunk (a chunk of one block too) is measured once against `max` with
 * `within` (see {@link MeasureWithin}: the exact tokenizer counts a chunk only
 * until its counted part and the UTF-8 bytes of the rest prove it fits, or its
 * counted part alone proves it does not), and one over `max` is cut again at
 * its strongest boundary. A block too long alone is cut into pieces measured
 * exactly with `measure`. With `reuse`, the blocks and chunks that did not
 * change since the last run keep their estimates and measured lengths.
 * `within` defaults to `measure`, which measures exactly.
 */
export function planChunks(
  handler: DocumentFormatHandler,
  text: string,
  blocks: readonly Unit[],
  max: number,
  measure: (text: string) => number,
  reuse?: Reuse,
  within: MeasureWithin = measure,
): Planned {
  const n = blocks.length;
  const plans: ChunkPlan[] = [];
  const ranges: (string | undefined)[] = [];
  const oldRanges: (string | undefined)[] = [];
  const lengths = new Map<string, number>();
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    starts[i] = blocks[i].start;
    ends[i] = blocks[i].end;
  }
  const old = reuse?.match.old;
  const bases = new Float64Array(n).fill(NaN);
  if (old) { for (let i = 0; i < n; i++) if (old[i] >= 0) bases[i] = reuse!.record.bases[old[i]]; }
  const priorities = unitPriorities(
    blocks.map((block) => block.words),
    blocks.map((block) => block.sent.length),
    bases,
  );
  const guesses = new Float64Array(n);
  const gapGuesses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const was = old ? old[i] : -1;
    guesses[i] = was >= 0 ? reuse!.record.guesses[was] : estimateLength(blocks[i].sent);
    if (i + 1 === n) continue;
    const sameGap = was >= 0 && reuse!.match.old[i + 1] === was + 1 &&
      (ends[i + 1] < reuse!.match.prefix || starts[i] > reuse!.match.after);
    gapGuesses[i] = sameGap
      ? reuse!.record.gapGuesses[was]
      : estimateLength(handler.gap(text, blocks[i], blocks[i + 1]));
  }

  const push = (plan: ChunkPlan, range?: string, oldRange?: string) => {
    plans.push(plan);
    ranges.push(range);
    oldRanges.push(oldRange);
  };
  // Chunks of blocks `first` to `last` (document indices) that fit, measured;
  // cut at the strongest boundary until they do.
  const place = (first: number, last: number): void => {
    const range = `${first}:${last}`;
    const oldRange = reuse ? sameRange(reuse.match, starts, ends, first, last) : undefined;
    const plan = handler.chunk(text, blocks.slice(first, last + 1));
    const length = (oldRange === undefined ? undefined : reuse!.record.lengths.get(oldRange)) ??
      within(plan.sent, max);
    lengths.set(range, length);
    if (length <= max) {
      push(plan, range, oldRange);
      return;
    }
    // A block whose estimate fits but whose measure does not: cut into pieces.
    if (first === last) {
      longBlock(first);
      return;
    }
    let cut = first;
    for (let i = first + 1; i < last; i++) if (priorities[i] > priorities[cut]) cut = i;
    place(first, cut);
    place(cut + 1, last);
  };
  let runFrom = 0;
  const flush = (to: number) => {
    if (to <= runFrom) return;
    const sizes = new Float64Array(to - runFrom);
    for (let i = runFrom; i < to; i++) sizes[i - runFrom] = guesses[i] + gapGuesses[i];
    let from = runFrom;
    for (const last of groupUnits(sizes, priorities.subarray(runFrom, to), max)) {
      place(from, runFrom + last);
      from = runFrom + last + 1;
    }
  };
  // A block too long alone: its sentences, grouped among themselves.
  const longBlock = (i: number): void => {
    const block = blocks[i];
    const pieces = handler.pieces(text, block, max, measure);
    const piecePriorities = unitPriorities(
      pieces.map((piece) => piece.words),
      pieces.map((piece) => piece.sent.length),
    );
    const pieceSizes = pieces.map((piece) => estimateLength(piece.sent) + 1);
    const fit = (from: number, to: number): void => {
      const plan = handler.chunk(text, pieces.slice(from, to + 1), block);
      if (from === to || measure(plan.sent) <= max) {
        push(plan);
        return;
      }
      let cut = from;
      for (let k = from + 1; k < to; k++) if (piecePriorities[k] > piecePriorities[cut]) cut = k;
      fit(from, cut);
      fit(cut + 1, to);
    };
    let from = 0;
    for (const last of groupUnits(pieceSizes, piecePriorities, max)) {
      fit(from, last);
      from = last + 1;
    }
  };
  for (let i = 0; i < n; i++) {
    if (guesses[i] + gapGuesses[i] <= max || within(blocks[i].sent, max) <= max) continue;
    flush(i);
    runFrom = i + 1;
    longBlock(i);
  }
  flush(n);
  return { plans, ranges, oldRanges, guesses, gapGuesses, bases, priorities, lengths };
}

function eventOf(
  text: string,
  plan: { start: number; end: number },
  index: number,
  total: number,
  outcome: Outcome,
  cached: boolean,
): DocumentEvent {
  const original = text.slice(plan.start, plan.end);
  const event: {
    index: number;
    total: number;
    start: number;
    end: number;
    original: string;
    replacement: string;
    cached: boolean;
    kept?: DocumentEvent["kept"];
  } = {
    index,
    total,
    start: plan.start,
    end: plan.end,
    original,
    replacement: "replacement" in outcome ? outcome.replacement : original,
    cached,
  };
  if ("kept" in outcome) event.kept = outcome.kept;
  return event;
}

/**
 * `value` (a cache's answer, or a promise of it), or a rejection with the
 * signal's reason as soon as `signal` aborts: a cache that never answers
 * cannot hold a run that was stopped.
 */
function untilAborted<T>(value: T | PromiseLike<T>, signal: AbortSignal): Promise<T> {
  const thenable = value !== null && typeof value === "object" &&
    typeof (value as { then?: unknown }).then === "function";
  if (!thenable) return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve(value);
  const pending = Promise.resolve(value);
  if (signal.aborted) {
    pending.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A signal that aborts with `outer`, and can be aborted on its own; `unlink` ends the link. */
function linked(outer: AbortSignal): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  if (outer.aborted) {
    controller.abort(outer.reason);
    return { controller, unlink: () => {} };
  }
  const forward = () => controller.abort(outer.reason);
  outer.addEventListener("abort", forward, { once: true });
  return { controller, unlink: () => outer.removeEventListener("abort", forward) };
}

/** What a chunk's answer is: its text, and whether the output cap cut it. */
interface Answer {
  readonly text: string;
  readonly truncated: boolean;
}

/** The finish reasons of an answer cut by the output cap (OpenAI's, and Anthropic's own). */
const TRUNCATED = new Set(["length", "max_tokens"]);

/**
 * The whole text of a chunk's answer: streamed, each piece reported to
 * `deltas`, while a reader wants the text as it arrives; else read whole.
 * `truncated` when the service said the output cap cut it.
 */
async function answerOf(
  response: AIResponse,
  deltas: DeltaSink | undefined,
  at: Omit<DocumentDelta, "delta">,
): Promise<Answer> {
  if (deltas?.wanted) {
    for await (const delta of response) deltas.send({ ...at, delta });
  }
  const text = await response.text();
  // A custom backend's look-alike response may not say why it ended.
  const finish = typeof (response as Partial<AIResponse>).finishReason === "function"
    ? await response.finishReason()
    : undefined;
  return { text, truncated: finish !== undefined && TRUNCATED.has(finish) };
}

async function replaceRun(
  job: DocumentJob,
  options: CheckedDocumentOptions,
  emit: (event: DocumentEvent) => void,
  signal: AbortSignal,
  deltas?: DeltaSink,
): Promise<string> {
  const { backend, prompt, text } = job;
  const handler = formatHandler(options.format);
  const blocks = handler.blocks(text);
  if (blocks.length === 0) return text;
  const calculator = await backend.getSplitterLengthCalculator();
  signal.throwIfAborted();
  const measure = (piece: string) => calculator.getSplitterLength(piece);
  const within = measureWithin(calculator);
  const max = chunkLimit(backend, measure(prompt), options.chunkSize);
  // The last run of this prompt, format, model and size: what did not change is taken from it.
  const context: AnswerContext = {
    method: "replace",
    format: options.format,
    prompt,
    backend: backendIdentity(backend),
  };
  const runKey = JSON.stringify([
    options.format,
    context.backend,
    calculator.constructor.name,
    max,
    prompt,
  ]);
  const record = lastRun(runKey);
  let reuse: Reuse | undefined;
  if (record) {
    const starts = blocks.map((block) => block.start);
    const ends = blocks.map((block) => block.end);
    reuse = { record, match: matchBlocks(record, text, starts, ends) };
  }
  const planned = planChunks(handler, text, blocks, max, measure, reuse, within);
  const { plans, ranges, oldRanges } = planned;
  const total = plans.length;
  const outcomes: (Outcome | undefined)[] = new Array(total);
  const cachedAt: boolean[] = new Array(total).fill(false);
  const answers: (string | undefined)[] = new Array(total);
  let emitted = 0;
  const flush = () => {
    while (emitted < total && outcomes[emitted] !== undefined) {
      emit(eventOf(text, plans[emitted], emitted, total, outcomes[emitted]!, cachedAt[emitted]));
      emitted++;
    }
  };

  const cache = options.cache;
  let keys: string[] = [];
  const queue: number[] = [];
  if (cache) {
    keys = await Promise.all(plans.map((plan, i) => {
      const oldRange = oldRanges[i];
      const known = oldRange === undefined ? undefined : record!.keys.get(oldRange);
      return known ?? answerKey(context, plan.sent);
    }));
    const cached = await untilAborted(Promise.all(keys.map((key) => cache.get(key))), signal);
    signal.throwIfAborted();
    for (let i = 0; i < total; i++) {
      const answer = cached[i];
      let outcome: Outcome | undefined;
      if (typeof answer === "string") {
        const oldRange = oldRanges[i];
        const known = oldRange === undefined ? undefined : record!.replacements.get(oldRange);
        outcome = known !== undefined && known.answer === answer
          ? { replacement: known.replacement }
          : plans[i].apply(answer);
      }
      if (outcome !== undefined && "replacement" in outcome) {
        outcomes[i] = outcome;
        answers[i] = answer;
        cachedAt[i] = true;
      } else queue.push(i);
    }
  } else {
    for (let i = 0; i < total; i++) queue.push(i);
  }
  flush();

  const { controller, unlink } = linked(signal);
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && !controller.signal.aborted && next < queue.length) {
      const i = queue[next++];
      try {
        const answer = await answerOf(
          backend.promptWithContext({
            prePrompt: prompt,
            context: plans[i].sent,
            signal: controller.signal,
            ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
          }),
          deltas,
          { index: i, total, start: plans[i].start, end: plans[i].end },
        );
        const outcome: Outcome = answer.truncated
          ? { kept: "answer truncated" }
          : plans[i].apply(answer.text);
        if (cache && "replacement" in outcome) {
          await untilAborted(cache.set(keys[i], answer.text), controller.signal);
          answers[i] = answer.text;
        }
        outcomes[i] = outcome;
        flush();
      } catch (error) {
        if (failure === undefined && !controller.signal.aborted) {
          // The first failure stops the others; it is what the run rejects with.
          failure = { error };
          controller.abort(
            new DOMException("Another chunk of the document failed", "AbortError"),
          );
        }
        return;
      }
    }
  };
  try {
    const workers = Math.min(options.concurrency, queue.length);
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    unlink();
  }
  if (signal.aborted) throw signal.reason;
  if (failure !== undefined) throw failure.error;

  let out = "";
  let at = 0;
  const replacements = new Map<string, { answer: string; replacement: string }>();
  const keyed = new Map<string, string>();
  for (let i = 0; i < total; i++) {
    const outcome = outcomes[i]!;
    out += text.slice(at, plans[i].start);
    out += "replacement" in outcome
      ? outcome.replacement
      : text.slice(plans[i].start, plans[i].end);
    at = plans[i].end;
    const range = ranges[i];
    if (range === undefined || !cache) continue;
    keyed.set(range, keys[i]);
    if ("replacement" in outcome && answers[i] !== undefined) {
      replacements.set(range, { answer: answers[i]!, replacement: outcome.replacement });
    }
  }
  keepRun(runKey, {
    text,
    starts: Int32Array.from(blocks, (block) => block.start),
    ends: Int32Array.from(blocks, (block) => block.end),
    guesses: planned.guesses,
    gapGuesses: planned.gapGuesses,
    bases: planned.bases,
    lengths: planned.lengths,
    keys: keyed,
    replacements,
  });
  return out + text.slice(at);
}

async function appendRun(
  job: DocumentJob,
  options: CheckedDocumentOptions,
  emit: (event: DocumentEvent) => void,
  signal: AbortSignal,
  deltas?: DeltaSink,
): Promise<string> {
  const { backend, prompt, text } = job;
  const handler = formatHandler(options.format);
  const blocks = handler.blocks(text);
  if (blocks.length === 0) return text;
  const plan = handler.append(text, blocks);
  const calculator = await backend.getSplitterLengthCalculator();
  signal.throwIfAborted();
  const measure = (piece: string) => calculator.getSplitterLength(piece);
  const { tokenLimit, modelId } = backend.config;
  const needed = measure(prompt) + measure(plan.sent) + FRAMING;
  if (needed >= tokenLimit) {
    const over = needed - tokenLimit;
    throw new ContextLengthError(
      `Cannot run completion on text this long: the prompt and the text are ${needed} tokens, ` +
        (over > 0
          ? `over the context window of model "${modelId}" (${tokenLimit} tokens) by ${over} tokens`
          : `filling the whole context window of model "${modelId}" (${tokenLimit} tokens)`) +
        ": select less text, or use a model with a larger window",
      { model: modelId, backend: backend.alias, promptTokens: needed, contextWindow: tokenLimit },
    );
  }
  const cache = options.cache;
  const context: AnswerContext = {
    method: "append",
    format: options.format,
    prompt,
    backend: backendIdentity(backend),
  };
  const key = cache ? await answerKey(context, plan.sent) : undefined;
  let answer = cache ? await untilAborted(cache.get(key!), signal) : undefined;
  signal.throwIfAborted();
  let cached = typeof answer === "string";
  let outcome = cached ? plan.apply(answer!) : undefined;
  if (outcome === undefined || !("replacement" in outcome)) {
    cached = false;
    const fresh = await answerOf(
      backend.promptWithContext({
        prePrompt: prompt,
        context: plan.sent,
        signal,
        ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      }),
      deltas,
      { index: 0, total: 1, start: plan.at, end: plan.at },
    );
    answer = fresh.text;
    outcome = fresh.truncated ? { kept: "answer truncated" } : plan.apply(answer);
    if (cache && "replacement" in outcome) await untilAborted(cache.set(key!, answer), signal);
  }
  const at = outcome.at ?? plan.at;
  emit(eventOf(text, { start: at, end: at }, 0, 1, outcome, cached));
  return "replacement" in outcome ? text.slice(0, at) + outcome.replacement + text.slice(at) : text;
}

/**
 * Runs a prompt over a whole document: `replace` sends each chunk and puts
 * its answer in place; `append` sends the whole text and adds the answer
 * after it. Options are checked at the call; nothing is sent until the
 * response is read.
 *
 * @throws {TypeError} or {RangeError} for a wrong argument, naming it.
 */
export function processDocument(job: DocumentJob, options: DocumentOptions = {}): DocumentResponse {
  if (typeof job.text !== "string") {
    throw new TypeError(`text must be a string, got ${describeType(job.text)}`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("document options must be an object");
  }
  const checked = checkDocumentOptions(options);
  const run = job.method === "append" ? appendRun : replaceRun;
  return new DocumentResponse(
    { text: job.text, run: (emit, signal, deltas) => run(job, checked, emit, signal, deltas) },
    checked.signal === undefined ? {} : { signal: checked.signal },
  );
}
