// A provider with fallbacks and usage events (PROVIDERS.<alias>.fallbacks): completion(),
// completeObject() and stream() run attempt after attempt through the chain. A stream fails over only before
// its first text chunk reached the caller; from then on it is that alias's answer or its error.
import { type ChatCompletion, type ChatMessage, completionText, type TokenUsage } from "../chat.ts";
import { ContextLengthError } from "../errors.ts";
import { checkCallMetadata } from "../_json.ts";
import { getDefaultTokenLimit, getMaxOutputTokens } from "../tokens.ts";
import type { CompletionOptions, Provider, ProviderStreamEvent } from "../providers/types.ts";
import type { CompleteObjectOptions, ObjectCompletion } from "../structured.ts";
import {
  countMessageTokens,
  countMessageTokensNow,
  countSchemaTokens,
  countUnlessUnder,
  estimateAnswerUsage,
  fitsBySize,
} from "../_budget.ts";
import { completionUsage } from "../backends/_messages.ts";
import { BackendFeature } from "../backends/types.ts";
import { Call, type CallInfo, type ChainEntry, NO_METADATA, type Opened } from "./_call.ts";
import type { Operations } from "./_events.ts";
import { overlay } from "./_overlay.ts";
import type { FallbackOn } from "./_settings.ts";
import type { AttemptPlan } from "./_gate.ts";
import { DEFAULT_RESERVED_OUTPUT_TOKENS } from "./types.ts";

/** One alias of a provider chain. */
export interface ProviderEntry extends ChainEntry {
  /** The provider (built on first use). */
  provider(): Provider;
  /** `context_window` of the alias, when set (else the model's known window). */
  readonly contextWindow: number | undefined;
}

/** What one attempt sends: to which provider, with which options. */
interface Request {
  readonly entry: ProviderEntry;
  readonly provider: Provider;
  readonly options: CompletionOptions;
}

function featureOf(messages: unknown): string {
  if (Array.isArray(messages)) {
    for (const message of messages) {
      const content = (message as ChatMessage | null)?.content;
      if (Array.isArray(content) && content.some((part) => part?.type === "image_url")) {
        return BackendFeature.IMAGE_DESCRIPTION;
      }
    }
  }
  return BackendFeature.TEXT_COMPLETION;
}

/** The known context window of a model (`registerTokenLimit()` included), or undefined. */
function knownWindow(model: string): number | undefined {
  try {
    return getDefaultTokenLimit(model);
  } catch {
    return undefined;
  }
}

// One exact count per request, shared by the window check and the LIMITS plan (a number
// when it was counted at once).
const counts = new WeakMap<Request, number | Promise<number>>();

function promptCount(
  request: Request,
  messages: ChatMessage[],
  model: string,
): number | Promise<number> {
  let count = counts.get(request);
  if (count === undefined) {
    count = countMessageTokensNow(messages, model) ?? countMessageTokens(messages, model);
    counts.set(request, count);
  }
  return count;
}

/**
 * Refuses a request whose prompt does not fit the alias's window (counted
 * before sending), so the chain goes to the next alias without sending it.
 */
async function checkWindow(request: Request, exact: boolean): Promise<void> {
  const { entry, options } = request;
  const model = options.model ?? request.provider.model;
  const window = entry.contextWindow ?? knownWindow(model);
  if (window === undefined || !Array.isArray(options.messages)) return;
  // Its size alone proves it fits: not counted (no encoder loaded).
  if (fitsBySize(options.messages, window, 0)) return;
  // Counted only as far as the fit needs, unless LIMITS will take the exact count (then shared).
  const promptTokens = exact
    ? await promptCount(request, options.messages, model)
    : await countUnlessUnder(options.messages, model, window);
  if (promptTokens === undefined) return;
  counts.set(request, promptTokens);
  if (promptTokens < window) return;
  throw new ContextLengthError(
    `The prompt is ${promptTokens} tokens, over the context window of model "${model}" of ` +
      `PROVIDERS["${entry.alias}"] (${window} tokens): not sent`,
    { model, promptTokens, contextWindow: window, provider: request.provider.provider },
  );
}

/**
 * What a request will send, for LIMITS: its exact prompt count and its answer
 * cap (the `max_tokens` it asks for; else the model's maximum output; else
 * what the context window leaves; else {@link DEFAULT_RESERVED_OUTPUT_TOKENS}).
 *
 * A `completeObject()` request (`structured`) takes its cap from its chat
 * `options`, counts its schema, and reserves room for the one repair request
 * it may send: the prompt again with the refused answer (at most the cap) and
 * its issues, and a second answer.
 */
export function planOf(
  request: Request,
  structured = false,
): AttemptPlan | Promise<AttemptPlan> {
  const { options } = request;
  const model = options.model ?? request.provider.model;
  // The window check's count when it made one; else counted at once when the encoding is
  // loaded (no promise for LIMITS to wait on).
  const memo = counts.get(request);
  if (memo instanceof Promise) {
    return memo.then((counted) => planWith(request, model, counted, structured));
  }
  const now = memo ??
    (Array.isArray(options.messages) ? countMessageTokensNow(options.messages, model) : 0);
  if (now !== undefined && !structured) return planWith(request, model, now, false);
  return (async () => {
    const promptTokens = now ?? await countMessageTokens(options.messages, model);
    return await planWith(request, model, promptTokens, structured);
  })();
}

function planWith(
  request: Request,
  model: string,
  counted: number,
  structured: false,
): AttemptPlan;
function planWith(
  request: Request,
  model: string,
  counted: number,
  structured: boolean,
): AttemptPlan | Promise<AttemptPlan>;
function planWith(
  request: Request,
  model: string,
  counted: number,
  structured: boolean,
): AttemptPlan | Promise<AttemptPlan> {
  const { entry, options } = request;
  let promptTokens = counted;
  const chat = structured
    ? ((options as unknown as { options?: Record<string, unknown> }).options ?? {})
    : options;
  const caps = [chat.max_tokens, chat.max_completion_tokens].filter((cap): cap is number =>
    typeof cap === "number" && Number.isFinite(cap) && cap >= 0
  );
  let outputTokens = caps.length > 0 ? Math.min(...caps) : getMaxOutputTokens(model);
  if (outputTokens === undefined) {
    const window = entry.contextWindow ?? knownWindow(model);
    outputTokens = window === undefined
      ? DEFAULT_RESERVED_OUTPUT_TOKENS
      : Math.max(0, window - promptTokens);
  }
  if (!structured) return { model, promptTokens, outputTokens };
  const schema = (options as unknown as { schema?: unknown }).schema;
  const cap = outputTokens;
  return (async () => {
    // The schema goes with the request (a response format, a tool or the prompt), and the
    // repair's issues name its parts: counted once for each request.
    promptTokens += isJsonSchema(schema) ? await countSchemaTokens(schema, model) : 0;
    return { model, promptTokens: 2 * promptTokens + cap, outputTokens: 2 * cap };
  })();
}

/** A JSON Schema object (not a Standard Schema value, whose JSON Schema is the provider's to get). */
function isJsonSchema(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !("~standard" in value);
}

/**
 * `primary` (the first entry's provider) whose requests run through `entries`
 * with fallbacks, cooldowns and usage events.
 */
export function chainProvider(
  primary: Provider,
  entries: readonly ProviderEntry[],
  fallbackOn: FallbackOn,
  ops: Operations,
): Provider {
  const windows = entries.length > 1;
  /** The options for `entry`: a per-call model is the asked alias's only. */
  const optionsFor = (entry: ChainEntry, options: CompletionOptions): CompletionOptions => {
    if (entry === entries[0] || options.model === undefined) return options;
    const { model: _, ...rest } = options;
    return rest as CompletionOptions;
  };
  const opener = (options: CompletionOptions) => (entry: ChainEntry): Opened<Request> => {
    const provider = (entry as ProviderEntry).provider();
    const sent = optionsFor(entry, options);
    return {
      target: { entry: entry as ProviderEntry, provider, options: sent },
      who: { alias: entry.alias, provider: provider.provider, model: sent.model ?? provider.model },
    };
  };
  const infoOf = (options: CompletionOptions, metadata: CallInfo["metadata"] | undefined) => ({
    feature: featureOf(options.messages),
    metadata: metadata ?? NO_METADATA,
    prompt: ops.includePrompts ? () => options.messages : undefined,
  });

  /**
   * A request answered whole (`completion()`, `completeObject()`): attempt
   * after attempt until an alias answers.
   */
  async function whole<O extends CompletionOptions | CompleteObjectOptions<unknown>, R>(
    method: "completion" | "completeObject",
    options: O,
    send: (provider: Provider, options: O) => Promise<R>,
    usageOf: (answer: R) => TokenUsage | undefined,
    textOf: (answer: R) => string,
  ): Promise<R> {
    // Wrong arguments reject, as the provider's own method does.
    if (typeof options !== "object" || options === null) return await send(primary, options);
    const metadata = checkCallMetadata(options.metadata, method);
    const { metadata: _, ...rest } = options;
    const call = new Call(ops, entries, fallbackOn, infoOf(rest, metadata));
    call.signal = rest.signal;
    const open = opener(rest as CompletionOptions);
    let request = await call.begin(open);
    while (true) {
      let answer: R;
      try {
        if (windows) await checkWindow(request, call.gated);
        if (call.gated) {
          const planned = request;
          const admitted = call.admit(() => planOf(planned, method === "completeObject"));
          if (admitted !== undefined) await admitted;
        }
        answer = await send(request.provider, request.options as O);
      } catch (error) {
        request = await call.failover(error, false, open);
        continue;
      }
      const messages = request.options.messages;
      const model = request.options.model ?? request.provider.model;
      await call.answered(
        usageOf(answer),
        () => textOf(answer),
        (text) => estimateAnswerUsage(model, undefined, () => Promise.resolve(messages), text),
      );
      return answer;
    }
  }

  const completion = (options: CompletionOptions): Promise<ChatCompletion> =>
    whole(
      "completion",
      options,
      (provider, sent) => provider.completion(sent),
      (answer) => completionUsage(answer.usage),
      completionText,
    );

  const completeObject = <T>(options: CompleteObjectOptions<T>): Promise<ObjectCompletion<T>> =>
    whole(
      "completeObject",
      options as CompleteObjectOptions<unknown>,
      (provider, sent) => provider.completeObject(sent),
      (answer) => answer.usage,
      (answer) => JSON.stringify(answer.object) ?? "",
    ) as Promise<ObjectCompletion<T>>;

  function stream(options: CompletionOptions): AsyncIterable<ProviderStreamEvent> {
    // Wrong arguments throw at the call, as the provider's own stream() does.
    if (typeof options !== "object" || options === null) return primary.stream(options);
    const metadata = checkCallMetadata(options.metadata, "stream");
    const { metadata: _, ...rest } = options;
    const first = primary.stream(rest);
    return {
      [Symbol.asyncIterator]: () =>
        new ChainStream(
          new Call(ops, entries, fallbackOn, infoOf(rest, metadata)),
          opener(rest),
          entries[0],
          first,
          windows,
          ops.observed || ops.gate !== undefined,
          rest.signal,
        ),
    };
  }

  return overlay(primary, { completion, completeObject, stream });
}

/**
 * The iterator of a chained stream. Events pass through as the provider
 * yields them; a failure before the first text chunk opens the next alias.
 */
class ChainStream implements AsyncIterator<ProviderStreamEvent> {
  readonly #call: Call;
  readonly #open: (entry: ChainEntry) => Opened<Request>;
  /** The asked alias, and its stream made at the call (its arguments checked there). */
  readonly #primary: ChainEntry;
  #first: AsyncIterable<ProviderStreamEvent> | undefined;
  readonly #windows: boolean;
  readonly #collect: boolean;
  #request: Request | undefined;
  #iterator: AsyncIterator<ProviderStreamEvent> | undefined;
  #started = false;
  #ended = false;
  #usage: TokenUsage | undefined;
  readonly #texts: string[] = [];

  constructor(
    call: Call,
    open: (entry: ChainEntry) => Opened<Request>,
    primary: ChainEntry,
    first: AsyncIterable<ProviderStreamEvent>,
    windows: boolean,
    collect: boolean,
    signal: AbortSignal | undefined,
  ) {
    this.#call = call;
    this.#open = open;
    this.#primary = primary;
    this.#first = first;
    this.#windows = windows;
    this.#collect = collect;
    call.signal = signal;
  }

  next(): Promise<IteratorResult<ProviderStreamEvent>> {
    const iterator = this.#iterator;
    if (iterator === undefined) return this.#begin();
    return iterator.next().then(this.#onResult, this.#onError);
  }

  async #begin(): Promise<IteratorResult<ProviderStreamEvent>> {
    if (this.#ended) return { done: true, value: undefined };
    await this.#attempt(await this.#call.begin(this.#open));
    return this.next();
  }

  /** Starts `request`: the window check, then its stream; a failure fails over. */
  async #attempt(request: Request): Promise<void> {
    let current = request;
    while (true) {
      this.#request = current;
      try {
        if (this.#windows) await checkWindow(current, this.#call.gated);
        if (this.#call.gated) {
          const planned = current;
          const admitted = this.#call.admit(() => planOf(planned));
          if (admitted !== undefined) await admitted;
        }
        const events = current.entry === this.#primary && this.#first !== undefined
          ? this.#first
          : current.provider.stream(current.options);
        this.#first = undefined;
        this.#iterator = events[Symbol.asyncIterator]();
        return;
      } catch (error) {
        this.#first = undefined;
        current = await this.#call.failover(error, false, this.#open);
      }
    }
  }

  /** The text so far (collected when events or LIMITS need it). */
  readonly #text = (): string => this.#texts.join("");

  readonly #onResult = async (
    result: IteratorResult<ProviderStreamEvent>,
  ): Promise<IteratorResult<ProviderStreamEvent>> => {
    if (result.done) {
      if (!this.#ended) {
        this.#ended = true;
        const request = this.#request!;
        const messages = request.options.messages;
        const model = request.options.model ?? request.provider.model;
        await this.#call.answered(
          this.#usage,
          () => this.#texts.join(""),
          (text) => estimateAnswerUsage(model, undefined, () => Promise.resolve(messages), text),
        );
      }
      return result;
    }
    const event = result.value;
    if (event.type === "text") {
      if (event.text !== "") {
        if (!this.#started) {
          this.#started = true;
          this.#call.firstChunk();
        }
        if (this.#collect) this.#texts.push(event.text);
      }
    } else if (event.type === "usage") this.#usage = event.usage;
    return result;
  };

  readonly #onError = async (error: unknown): Promise<IteratorResult<ProviderStreamEvent>> => {
    try {
      await this.#attempt(
        await this.#call.failover(error, this.#started, this.#open, this.#text),
      );
    } catch (final) {
      this.#ended = true;
      throw final;
    }
    return this.next();
  };

  async return(): Promise<IteratorResult<ProviderStreamEvent>> {
    const iterator = this.#iterator;
    if (!this.#ended) {
      this.#ended = true;
      const stopped = new DOMException("The stream's reader stopped early", "AbortError");
      this.#call.failover(stopped, true, this.#open, this.#text).catch(() => {});
    }
    await iterator?.return?.();
    return { done: true, value: undefined };
  }
}
