/**
 * The lazy, streamable answer of a backend.
 *
 * @module
 */
import type { TokenUsage } from "../chat.ts";
import { APIError } from "../errors.ts";

/**
 * The default answer limit of an {@link AIResponse}: 16 MiB of text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_MAX_RESPONSE_CHARS } from "./response.ts";
 * assert.equal(DEFAULT_MAX_RESPONSE_CHARS, 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_RESPONSE_CHARS: number = 16 * 1024 * 1024;

/**
 * Options of an {@link AIResponse}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APIError } from "../errors.ts";
 * import { AIResponse } from "./response.ts";
 * const endless = new AIResponse({
 *   async *stream() {
 *     while (true) yield { type: "text", text: "more " };
 *   },
 * }, { maxChars: 1000 });
 * await assert.rejects(endless.text(), APIError);
 * ```
 */
export interface AIResponseOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
  /**
   * The longest answer kept, in characters (default 16 MiB): past it reading
   * fails with an `APIError` and the source is stopped (the chunks kept for
   * replay stay bounded).
   */
  maxChars?: number;
}

/**
 * One event of a response source: a piece of text, why the answer ended (an
 * OpenAI-style `finish_reason`: `"stop"`, or `"length"` when the output cap
 * cut it), or the usage at the end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse, type ResponseEvent } from "./response.ts";
 * const events: ResponseEvent[] = [
 *   { type: "text", text: "Hi" },
 *   { type: "finish", reason: "stop" },
 *   { type: "usage", usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } },
 * ];
 * const response = new AIResponse({
 *   async *stream() {
 *     yield* events;
 *   },
 * });
 * assert.equal(await response.text(), "Hi");
 * assert.equal(await response.finishReason(), "stop");
 * assert.equal((await response.usage())?.totalTokens, 4);
 * ```
 */
export type ResponseEvent =
  | { type: "text"; text: string }
  | { type: "finish"; reason: string }
  | { type: "usage"; usage: TokenUsage };

/**
 * A whole answer, for sources that can answer without streaming.
 *
 * @example A source that answers whole when read with text()
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse, type CompleteAnswer } from "./response.ts";
 * const answer: CompleteAnswer = {
 *   text: "Whole",
 *   usage: { inputTokens: 2, outputTokens: 1, totalTokens: 3 },
 * };
 * const response = new AIResponse({
 *   async *stream() {
 *     yield { type: "text", text: "Streamed" };
 *   },
 *   complete: () => Promise.resolve(answer),
 * });
 * assert.equal(await response.text(), "Whole");
 * ```
 */
export interface CompleteAnswer {
  /** The answer's text. */
  text: string;
  /** Token usage, when the service reported it. */
  usage?: TokenUsage;
  /** Why the answer ended (`"stop"`, `"length"`...), when the service said. */
  finishReason?: string;
}

/**
 * Who answers a request: the alias that was asked (a `PROVIDERS` alias when a
 * provider answers, provider backends included, else the `BACKENDS` alias),
 * the vendor and the model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AnswerInfo } from "./response.ts";
 * const info: AnswerInfo = { alias: "backup", provider: "mistral", model: "mistral-small-latest" };
 * assert.equal(info.alias, "backup");
 * ```
 */
export interface AnswerInfo {
  /** The alias that answered. */
  readonly alias: string;
  /** The vendor (`"openai"`, `"mistral"`, `"echo"`...). */
  readonly provider: string;
  /** The model asked. */
  readonly model: string;
  /** The `BACKENDS` alias, when a backend answered. */
  readonly backend?: string;
}

/**
 * An alias that was tried (or skipped) before the one that answered, and why:
 * `"error"` (a failure that fails over), `"context_window"` (the prompt does
 * not fit its window: nothing was sent) or `"cooldown"` (skipped after too many
 * failures in a row: nothing was sent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FallbackRecord } from "./response.ts";
 * const tried: FallbackRecord = {
 *   alias: "primary",
 *   reason: "error",
 *   error: { name: "APIError", message: "primary answered HTTP 503", status: 503 },
 * };
 * assert.equal(tried.error?.status, 503);
 * ```
 */
export interface FallbackRecord {
  /** The alias tried or skipped. */
  readonly alias: string;
  /** Why the next alias was asked. */
  readonly reason: "error" | "context_window" | "cooldown";
  /** The error, for `"error"` and `"context_window"` (never a secret). */
  readonly error?: {
    /** The error class's name (`"RateLimitError"`...). */
    readonly name: string;
    /** Its message. */
    readonly message: string;
    /** The HTTP status, when the service answered. */
    readonly status?: number;
  };
}

/**
 * What {@link AIResponse.usage} gives: the token counts and, for the built-in
 * backends, who answered (`alias`, `provider`, `model`, `backend`) and the
 * aliases tried before (`fallbackFrom`, empty when the first one answered).
 * When the service reported no usage, the counts are estimated (the exact
 * prompt count and a count of the answer's text) and `estimated` is `true`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ResponseUsage } from "./response.ts";
 * const usage: ResponseUsage = {
 *   inputTokens: 12,
 *   outputTokens: 3,
 *   totalTokens: 15,
 *   alias: "default",
 *   provider: "openai",
 *   model: "gpt-4.1-mini",
 *   fallbackFrom: [],
 * };
 * assert.equal(usage.estimated, undefined);
 * ```
 */
export interface ResponseUsage extends TokenUsage {
  /** The alias that answered. */
  alias?: string;
  /** The vendor that answered. */
  provider?: string;
  /** The model that answered. */
  model?: string;
  /** The `BACKENDS` alias, when a backend answered. */
  backend?: string;
  /** The aliases tried or skipped before, in order, and why. */
  fallbackFrom?: FallbackRecord[];
  /** `true` when the service reported no usage and the counts are estimated. */
  estimated?: true;
}

/**
 * Where an {@link AIResponse} gets its answer from. Nothing is sent until the
 * response is read.
 *
 * @example A source that says who answers and can estimate its usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse, type ResponseSource } from "./response.ts";
 * const source: ResponseSource = {
 *   answeredBy: { alias: "house", provider: "in-house", model: "house-1" },
 *   async *stream() {
 *     yield { type: "text", text: "Hello there" };
 *   },
 *   estimateUsage: (text) =>
 *     Promise.resolve({ inputTokens: 1, outputTokens: text.split(" ").length, totalTokens: 3 }),
 * };
 * const usage = await new AIResponse(source).usage();
 * assert.equal(usage?.alias, "house");
 * assert.equal(usage?.estimated, true);
 * ```
 */
export interface ResponseSource {
  /**
   * Streams the answer. The signal aborts when the response's signal does, and
   * when every reader of the response stops early.
   */
  stream(signal?: AbortSignal): AsyncIterable<ResponseEvent>;
  /** Answers in one piece; when absent, `text()` drains `stream()`. */
  complete?(signal?: AbortSignal): Promise<CompleteAnswer>;
  /** Who answers, added to what {@link AIResponse.usage} gives. */
  readonly answeredBy?: AnswerInfo;
  /**
   * Estimates the token counts of the answer `text` when the service reported
   * none (called by {@link AIResponse.usage} only then, after the answer).
   */
  estimateUsage?(text: string): Promise<TokenUsage>;
  /**
   * Builds the request without sending it and says what it will send (for
   * `LIMITS`, which reserve before sending): the model, the prompt's exact
   * token count and the answer's cap. The next `stream()` or `complete()`
   * with the same signal sends that request. Without it, the limits count
   * the call's prompt themselves.
   */
  prepare?(signal?: AbortSignal): Promise<RequestPlan>;
}

/**
 * What a request will send, as {@link ResponseSource.prepare} says: the
 * model, the prompt's exact token count and the answer's cap in tokens.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RequestPlan } from "./response.ts";
 * const plan: RequestPlan = { model: "gpt-4.1-mini", promptTokens: 42, maxOutputTokens: 800 };
 * assert.equal(plan.promptTokens + plan.maxOutputTokens, 842);
 * ```
 */
export interface RequestPlan {
  /** The model asked. */
  readonly model: string;
  /** The prompt's exact token count. */
  readonly promptTokens: number;
  /** The most tokens the answer may have (the cap sent, or what the model and window allow). */
  readonly maxOutputTokens: number;
}

/**
 * Package-private: how the operations layer (fallbacks, usage events) watches
 * an answer. Each method is called at most once per attempt; with an observer,
 * the response asks it for the source of each attempt.
 */
export interface AnswerObserver {
  /** The source of the first attempt (it may differ from the one given, say after a cooldown). */
  begin(signal: AbortSignal | undefined): ResponseSource | Promise<ResponseSource>;
  /** The first text chunk of the attempt arrived. */
  firstChunk(): void;
  /**
   * The attempt answered, with the usage the service reported (if any) and
   * its text. Resolves to the usage to keep (estimated when missing) and who
   * answered.
   */
  answered(
    usage: TokenUsage | undefined,
    text: () => string,
    source: ResponseSource,
  ): Promise<AnswerOutcome>;
  /**
   * The attempt failed (`started`: a chunk had reached the response; `text`:
   * the answer's text so far). Resolves to the next attempt's source, or to
   * undefined to fail with `error`; it rejects to fail with another error.
   */
  failed(
    error: unknown,
    started: boolean,
    text: () => string,
  ): Promise<ResponseSource | undefined>;
}

/** What {@link AnswerObserver.answered} resolves to. */
export interface AnswerOutcome {
  /** The usage to report (the reported one, or an estimate). */
  usage?: TokenUsage & { estimated?: true };
  /** Who answered, and the aliases tried before. */
  answeredBy?: AnswerInfo & { fallbackFrom?: FallbackRecord[] };
}

/** One iteration of a response: whether it has left, and how to wake its wait. */
interface Reader {
  left: boolean;
  wake?: () => void;
}

type State =
  | { kind: "idle" }
  | { kind: "streaming" }
  | { kind: "completing"; promise: Promise<void> }
  | { kind: "done" }
  | { kind: "failed"; error: unknown };

// The states that carry nothing, shared by every response.
const IDLE: State = { kind: "idle" };
const STREAMING: State = { kind: "streaming" };
const DONE: State = { kind: "done" };

let observe: (response: AIResponse, observer: AnswerObserver) => void;
let sourceOf: (response: AIResponse) => ResponseSource;

/**
 * A lazy answer. Iterate it for text chunks as they arrive, or await
 * `text()` for the whole. It sends one request however it is read: after
 * iteration, `text()` returns the collected text; iterating again replays the
 * chunks; an error is kept and thrown again to every reader.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AIResponse } from "./response.ts";
 * let requests = 0;
 * const response = new AIResponse({
 *   async *stream() {
 *     requests++;
 *     yield { type: "text", text: "Hello" };
 *     yield { type: "text", text: " world" };
 *   },
 * });
 * const chunks: string[] = [];
 * for await (const chunk of response) chunks.push(chunk);
 * assert.ok(chunks.join("|") === "Hello| world");
 * assert.ok(await response.text() === "Hello world" && requests === 1);
 * ```
 */
export class AIResponse implements AsyncIterable<string> {
  #source: ResponseSource;
  #observer: AnswerObserver | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #maxChars: number;
  readonly #chunks: string[] = [];
  #length = 0;
  #usage: (TokenUsage & { estimated?: true }) | undefined;
  #finishReason: string | undefined;
  #answeredBy: (AnswerInfo & { fallbackFrom?: FallbackRecord[] }) | undefined;
  #final: Promise<ResponseUsage | undefined> | undefined;
  #state: State = IDLE;
  #iterator: AsyncIterator<ResponseEvent> | undefined;
  #stop: AbortController | undefined;
  #unlink: (() => void) | undefined;
  #pull: Promise<void> | undefined;
  #readers = 0;
  /** The text so far. */

  static {
    observe = (response, observer) => {
      response.#observer = observer;
    };
    sourceOf = (response) => response.#source;
  }

  /** Wraps a source; `options.signal` aborts the request, `options.maxChars` bounds the answer. */
  constructor(source: ResponseSource, options: AIResponseOptions = {}) {
    this.#source = source;
    this.#signal = options.signal;
    const max = options.maxChars;
    this.#maxChars = typeof max === "number" && Number.isSafeInteger(max) && max > 0
      ? max
      : DEFAULT_MAX_RESPONSE_CHARS;
  }

  #tooLong(): APIError {
    return new APIError(
      `The answer is longer than ${this.#maxChars} characters: reading it was stopped`,
      { retryable: false },
    );
  }

  /**
   * Streams the answer's text chunks.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse } from "./response.ts";
   * const response = new AIResponse({
   *   async *stream() {
   *     yield { type: "text", text: "a" };
   *     yield { type: "text", text: "b" };
   *   },
   * });
   * const first: string[] = [];
   * for await (const chunk of response) first.push(chunk);
   * const again: string[] = [];
   * for await (const chunk of response) again.push(chunk); // replayed, not sent again
   * assert.deepEqual(first, ["a", "b"]);
   * assert.deepEqual(again, first);
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<string, void, undefined> {
    const reader: Reader = { left: false };
    const generator = this.#read(reader);
    const stop = generator.return.bind(generator);
    // A generator runs return() only after a pending next() settles, that is after
    // the next chunk arrives. A reader that leaves while waiting (a cancelled
    // ReadableStream, an iterator's return()) stops waiting at once instead.
    generator.return = (value) => {
      reader.left = true;
      reader.wake?.();
      return stop(value);
    };
    return generator;
  }

  async *#read(reader: Reader): AsyncGenerator<string, void, undefined> {
    if (this.#state.kind === "idle") this.#start();
    if (this.#state.kind === "completing") await this.#state.promise;
    let index = 0;
    this.#readers++;
    let finished = false;
    try {
      while (true) {
        if (index < this.#chunks.length) {
          yield this.#chunks[index++];
          continue;
        }
        const state: State = this.#state;
        if (state.kind === "done") break;
        if (state.kind === "failed") throw state.error;
        if (reader.left) return;
        await new Promise<void>((resolve) => {
          reader.wake = resolve;
          this.#pullOnce().then(resolve);
        });
        reader.wake = undefined;
        if (reader.left) return;
      }
      finished = true;
    } finally {
      this.#readers--;
      if (!finished && this.#readers === 0 && this.#state.kind === "streaming") {
        this.#cancel();
      }
    }
  }

  /**
   * The whole text of the answer (one request, however often it is called).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse } from "./response.ts";
   * let requests = 0;
   * const response = new AIResponse({
   *   async *stream() {
   *     requests++;
   *     yield { type: "text", text: "Once" };
   *   },
   * });
   * assert.equal(await response.text(), "Once");
   * assert.equal(await response.text(), "Once");
   * assert.equal(requests, 1);
   * ```
   */
  async text(): Promise<string> {
    // A whole answer (the common case) is awaited directly, without the stream's loop.
    if (this.#state.kind === "idle" && this.#source.complete) {
      this.#state = { kind: "completing", promise: this.#complete() };
    }
    if (this.#state.kind === "completing") await this.#state.promise;
    if (this.#state.kind !== "done") await this.#settle();
    return this.#chunks.length === 1 ? this.#chunks[0] : this.#chunks.join("");
  }

  /**
   * Why the answer ended, as the service said (OpenAI's `finish_reason`;
   * Anthropic's `stop_reason` under the same names): `"stop"` for a whole
   * answer, `"length"` when the output cap (`max_tokens`) cut it, or
   * undefined when the source did not say. Reads the answer if needed.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AIResponse } from "./response.ts";
   * const response = new AIResponse({
   *   async *stream() {
   *     yield { type: "text", text: "Once upon a" };
   *     yield { type: "finish", reason: "length" };
   *   },
   * });
   * assert.equal(await response.finishReason(), "length");
   * ```
   */
  async finishReason(): Promise<string | undefined> {
    await this.#settle();
    return this.#finishReason;
  }

  /**
   * Token usage and who answered (see {@link ResponseUsage}); reads the answer
   * if needed. Undefined when the source reports no usage and cannot estimate
   * it (a custom source).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
   * });
   * const answer = ai.getBackend().promptWithContext({ prePrompt: "", context: "Hello there" });
   * const usage = await answer.usage(); // reads the answer first
   * assert.equal(usage?.alias, "default");
   * assert.equal(usage?.estimated, true); // the echo backend reports no usage: counted here
   * assert.ok(usage!.outputTokens > 0);
   * ```
   */
  async usage(): Promise<ResponseUsage | undefined> {
    await this.#settle();
    this.#final ??= this.#finalUsage();
    return await this.#final;
  }

  async #finalUsage(): Promise<ResponseUsage | undefined> {
    let usage: ResponseUsage | undefined = this.#usage;
    const source = this.#source;
    if (usage === undefined && source.estimateUsage) {
      try {
        usage = { ...await source.estimateUsage(this.#chunks.join("")), estimated: true };
      } catch {
        usage = undefined;
      }
    }
    const by = this.#answeredBy ?? source.answeredBy;
    if (usage === undefined || by === undefined) return usage;
    return { ...usage, ...by, fallbackFrom: [...(this.#answeredBy?.fallbackFrom ?? [])] };
  }

  async #settle(): Promise<void> {
    if (this.#state.kind === "idle" && this.#source.complete) {
      this.#state = { kind: "completing", promise: this.#complete() };
    }
    if (this.#state.kind === "idle") this.#start();
    if (this.#state.kind === "completing") await this.#state.promise;
    // text() and usage() are readers too: an iterator that stops early must not
    // cancel the stream under them.
    this.#readers++;
    try {
      while (this.#state.kind === "streaming") await this.#pullOnce();
    } finally {
      this.#readers--;
    }
    const state: State = this.#state;
    if (state.kind === "failed") throw state.error;
  }

  /** Answers in one piece; with an observer, attempt after attempt. */
  async #complete(): Promise<void> {
    const signal = this.#signal;
    const observer = this.#observer;
    try {
      let source = this.#source;
      if (observer) source = this.#source = await observer.begin(signal);
      while (true) {
        let answer: CompleteAnswer;
        try {
          answer = source.complete
            ? await source.complete(signal)
            : await completeFrom(source, signal);
        } catch (error) {
          const next = observer && await observer.failed(error, false, () => this.#chunks.join(""));
          if (!next) throw error;
          source = this.#source = next;
          continue;
        }
        if (answer.text.length > this.#maxChars) throw this.#tooLong();
        if (answer.text !== "") this.#chunks.push(answer.text);
        this.#usage = answer.usage;
        this.#finishReason = answer.finishReason;
        if (observer) await this.#answered(observer);
        this.#state = DONE;
        return;
      }
    } catch (error) {
      this.#state = { kind: "failed", error };
    }
  }

  async #answered(observer: AnswerObserver): Promise<void> {
    const outcome = await observer.answered(
      this.#usage,
      () => this.#chunks.join(""),
      this.#source,
    );
    if (outcome.usage) this.#usage = outcome.usage;
    this.#answeredBy = outcome.answeredBy;
  }

  #start(): void {
    this.#state = STREAMING;
    // The source's signal also aborts when every reader stops early.
    const stop = new AbortController();
    this.#stop = stop;
    // The caller's signal is forwarded by hand, and the listener removed when
    // the stream ends: AbortSignal.any() would keep every response alive for as
    // long as a long-lived caller signal (an app-wide shutdown signal) lives.
    const user = this.#signal;
    if (user) {
      if (user.aborted) stop.abort(user.reason);
      else {
        const forward = () => stop.abort(user.reason);
        user.addEventListener("abort", forward, { once: true });
        this.#unlink = () => user.removeEventListener("abort", forward);
      }
    }
    // With an observer, the first pull asks it for the source (it may wait for a store).
    if (this.#observer) return;
    try {
      this.#iterator = this.#source.stream(stop.signal)[Symbol.asyncIterator]();
    } catch (error) {
      this.#state = { kind: "failed", error };
      this.#release();
    }
  }

  /** Drops the link to the caller's signal once the stream has ended. */
  #release(): void {
    this.#unlink?.();
    this.#unlink = undefined;
  }

  #pullOnce(): Promise<void> {
    this.#pull ??= this.#pullNext();
    return this.#pull;
  }

  async #pullNext(): Promise<void> {
    try {
      if (this.#iterator === undefined) {
        // Only with an observer: the first attempt's source comes from it.
        this.#source = await this.#observer!.begin(this.#stop!.signal);
        const state: State = this.#state;
        if (state.kind !== "streaming") {
          // Cancelled while the attempt began: it ends here.
          if (state.kind === "failed") {
            this.#observer!.failed(state.error, true, () => this.#chunks.join("")).catch(() => {});
          }
          return;
        }
        this.#iterator = this.#source.stream(this.#stop!.signal)[Symbol.asyncIterator]();
      }
      const next = await this.#iterator.next();
      if (this.#state.kind !== "streaming") return;
      if (next.done) {
        if (this.#observer) {
          await this.#answered(this.#observer);
          if (this.#state.kind !== "streaming") return;
        }
        this.#state = DONE;
        this.#release();
      } else if (next.value.type === "text") {
        const text = next.value.text;
        this.#length += text.length;
        if (this.#length > this.#maxChars) this.#fail(this.#tooLong());
        else if (text !== "") {
          if (this.#chunks.length === 0) this.#observer?.firstChunk();
          this.#chunks.push(text);
        }
      } else if (next.value.type === "finish") this.#finishReason = next.value.reason;
      else this.#usage = next.value.usage;
    } catch (error) {
      if (this.#state.kind === "streaming") {
        const failure = this.#observer ? await this.#failover(this.#observer, error) : error;
        if (failure !== FAILED_OVER && this.#state.kind === "streaming") {
          this.#state = { kind: "failed", error: failure };
          this.#release();
        }
      }
    } finally {
      this.#pull = undefined;
    }
  }

  /**
   * Asks the observer for the next attempt after a failure: resolves to
   * {@link FAILED_OVER} when the stream goes on from a new source, else to the
   * error to fail with.
   */
  async #failover(observer: AnswerObserver, error: unknown): Promise<unknown> {
    let failure = error;
    while (true) {
      let next: ResponseSource | undefined;
      try {
        next = await observer.failed(failure, this.#chunks.length > 0, () => this.#chunks.join(""));
      } catch (replacement) {
        return replacement;
      }
      if (next === undefined || this.#state.kind !== "streaming") return failure;
      this.#source = next;
      try {
        this.#iterator = next.stream(this.#stop!.signal)[Symbol.asyncIterator]();
        return FAILED_OVER;
      } catch (thrown) {
        failure = thrown;
      }
    }
  }

  #cancel(): void {
    this.#fail(
      new DOMException("The response was cancelled: its reader stopped early", "AbortError"),
    );
  }

  /** Fails the response with `error` and stops its source (a cancel, an answer too long). */
  #fail(error: unknown): void {
    this.#state = { kind: "failed", error };
    this.#stop?.abort(error);
    this.#release();
    // The attempt ends here: the observer reports it (and offers no other).
    this.#observer?.failed(error, true, () => this.#chunks.join("")).catch(() => {});
    const iterator = this.#iterator;
    if (iterator?.return) {
      Promise.resolve(this.#pull).then(() => iterator.return!()).catch(() => {});
    }
  }
}

const FAILED_OVER = Symbol("failed over");

/** One whole answer from a source: `complete()`, or its stream drained. */
async function completeFrom(
  source: ResponseSource,
  signal: AbortSignal | undefined,
): Promise<CompleteAnswer> {
  if (source.complete) return await source.complete(signal);
  const texts: string[] = [];
  const answer: CompleteAnswer = { text: "" };
  for await (const event of source.stream(signal)) {
    if (event.type === "text") texts.push(event.text);
    else if (event.type === "finish") answer.finishReason = event.reason;
    else answer.usage = event.usage;
  }
  answer.text = texts.join("");
  return answer;
}

/**
 * Package-private: a response whose attempts an observer runs (fallbacks,
 * usage events). `source` is the first attempt's, which decides whether
 * `text()` alone asks for one whole answer or drains a stream.
 */
export function observedResponse(
  source: ResponseSource,
  observer: AnswerObserver,
  signal?: AbortSignal,
): AIResponse {
  const response = new AIResponse(source, signal === undefined ? {} : { signal });
  observe(response, observer);
  return response;
}

/**
 * Package-private: the source of a response (to run it under an observer).
 * Reading the response itself and reading its source both send a request.
 */
export function responseSource(response: AIResponse): ResponseSource {
  if (response instanceof AIResponse) return sourceOf(response);
  // Not ours (a custom backend's look-alike): read it as it reads itself.
  const other = response as AsyncIterable<string> & {
    usage?: () => Promise<unknown>;
    finishReason?: () => Promise<unknown>;
  };
  return {
    async *stream(): AsyncGenerator<ResponseEvent> {
      for await (const text of other) yield { type: "text", text };
      const reason = await other.finishReason?.();
      if (typeof reason === "string") yield { type: "finish", reason };
      const usage = await other.usage?.();
      if (isUsage(usage)) yield { type: "usage", usage };
    },
  };
}

function isUsage(value: unknown): value is TokenUsage {
  return typeof value === "object" && value !== null &&
    typeof (value as TokenUsage).inputTokens === "number";
}
