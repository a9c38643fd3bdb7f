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

/** One event of a response source: a piece of text, or the usage at the end. */
export type ResponseEvent = { type: "text"; text: string } | { type: "usage"; usage: TokenUsage };

/** A whole answer, for sources that can answer without streaming. */
export interface CompleteAnswer {
  /** The answer's text. */
  text: string;
  /** Token usage, when the service reported it. */
  usage?: TokenUsage;
}

/**
 * Where an {@link AIResponse} gets its answer from. Nothing is sent until the
 * response is read.
 */
export interface ResponseSource {
  /**
   * Streams the answer. The signal aborts when the response's signal does, and
   * when every reader of the response stops early.
   */
  stream(signal?: AbortSignal): AsyncIterable<ResponseEvent>;
  /** Answers in one piece; when absent, `text()` drains `stream()`. */
  complete?(signal?: AbortSignal): Promise<CompleteAnswer>;
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
  readonly #source: ResponseSource;
  readonly #signal: AbortSignal | undefined;
  readonly #maxChars: number;
  readonly #chunks: string[] = [];
  #length = 0;
  #usage: TokenUsage | undefined;
  #state: State = { kind: "idle" };
  #iterator: AsyncIterator<ResponseEvent> | undefined;
  #stop: AbortController | undefined;
  #unlink: (() => void) | undefined;
  #pull: Promise<void> | undefined;
  #readers = 0;

  /** Wraps a source; `options.signal` aborts the request. */
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

  /** Streams the answer's text chunks. */
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

  /** The whole text of the answer (one request, however often it is called). */
  async text(): Promise<string> {
    await this.#settle();
    return this.#chunks.join("");
  }

  /** Token usage, when the service reported it; reads the answer if needed. */
  async usage(): Promise<TokenUsage | undefined> {
    await this.#settle();
    return this.#usage;
  }

  async #settle(): Promise<void> {
    if (this.#state.kind === "idle" && this.#source.complete) {
      const complete = this.#source.complete.bind(this.#source);
      const promise = (async () => {
        try {
          const answer = await complete(this.#signal);
          if (answer.text.length > this.#maxChars) throw this.#tooLong();
          if (answer.text !== "") this.#chunks.push(answer.text);
          this.#usage = answer.usage;
          this.#state = { kind: "done" };
        } catch (error) {
          this.#state = { kind: "failed", error };
        }
      })();
      this.#state = { kind: "completing", promise };
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

  #start(): void {
    this.#state = { kind: "streaming" };
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
    this.#pull ??= (async () => {
      try {
        const next = await this.#iterator!.next();
        if (this.#state.kind !== "streaming") return;
        if (next.done) {
          this.#state = { kind: "done" };
          this.#release();
        } else if (next.value.type === "text") {
          const text = next.value.text;
          this.#length += text.length;
          if (this.#length > this.#maxChars) this.#fail(this.#tooLong());
          else if (text !== "") this.#chunks.push(text);
        } else this.#usage = next.value.usage;
      } catch (error) {
        if (this.#state.kind === "streaming") {
          this.#state = { kind: "failed", error };
          this.#release();
        }
      } finally {
        this.#pull = undefined;
      }
    })();
    return this.#pull;
  }

  #cancel(): void {
    this.#fail(
      new DOMException("The response was cancelled: its reader stopped early", "AbortError"),
    );
  }

  /** Fails the response with `error` and stops its source. */
  #fail(error: unknown): void {
    this.#state = { kind: "failed", error };
    this.#stop?.abort(error);
    this.#release();
    const iterator = this.#iterator;
    if (iterator?.return) {
      Promise.resolve(this.#pull).then(() => iterator.return!()).catch(() => {});
    }
  }
}
