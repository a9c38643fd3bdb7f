/**
 * The lazy answer of a document run: progress events in document order, and
 * the whole new text.
 *
 * @module
 */
import type { DocumentEvent } from "./types.ts";

/**
 * Where a {@link DocumentResponse} gets its result from. Nothing runs until
 * the response is read.
 */
export interface DocumentSource {
  /**
   * Runs the document: calls `emit` once per chunk, in document order, and
   * resolves with the new text. `signal` aborts when the response's signal
   * does, and when every reader of the response stops early.
   */
  run(emit: (event: DocumentEvent) => void, signal: AbortSignal): Promise<string>;
}

/** One iteration of a response: whether it has left, and how to wake its wait. */
interface Reader {
  left: boolean;
  wake?: () => void;
}

type State =
  | { kind: "idle" }
  | { kind: "running" }
  | { kind: "done"; text: string }
  | { kind: "failed"; error: unknown };

/**
 * The result of `ai.processText()`: a lazy run over a whole document.
 * Iterate it for one {@link DocumentEvent} per chunk, in document order, as
 * the chunks are done; await `text()` for the whole new document. It runs
 * once however it is read: `text()` after iteration returns the result of the
 * same run, iterating again replays the events, and an error is kept and
 * thrown again to every reader (no half-replaced text is ever returned).
 *
 * The run starts at the first read. Its `signal` aborts every request in
 * flight and rejects with the signal's reason. Leaving a `for await` loop
 * early (`break`) cancels the run when no other reader (another loop, or a
 * `text()` call already waiting) still wants it; reading it afterwards throws
 * an `AbortError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DocumentResponse } from "./response.ts";
 * let runs = 0;
 * const response = new DocumentResponse({
 *   run(emit) {
 *     runs++;
 *     emit({
 *       index: 0,
 *       total: 1,
 *       start: 0,
 *       end: 2,
 *       original: "Hi",
 *       replacement: "Hello",
 *       cached: false,
 *     });
 *     return Promise.resolve("Hello");
 *   },
 * });
 * const replacements: string[] = [];
 * for await (const event of response) replacements.push(event.replacement);
 * assert.deepEqual(replacements, ["Hello"]);
 * assert.equal(await response.text(), "Hello");
 * assert.equal(runs, 1);
 * ```
 */
export class DocumentResponse implements AsyncIterable<DocumentEvent> {
  readonly #source: DocumentSource;
  readonly #signal: AbortSignal | undefined;
  readonly #events: DocumentEvent[] = [];
  readonly #waiting = new Set<() => void>();
  #state: State = { kind: "idle" };
  #stop: AbortController | undefined;
  #unlink: (() => void) | undefined;
  #readers = 0;

  /** Wraps a source; `options.signal` aborts the run. */
  constructor(source: DocumentSource, options: { signal?: AbortSignal } = {}) {
    this.#source = source;
    this.#signal = options.signal;
  }

  /** The progress events, in document order. */
  [Symbol.asyncIterator](): AsyncGenerator<DocumentEvent, void, undefined> {
    const reader: Reader = { left: false };
    const generator = this.#read(reader);
    const stop = generator.return.bind(generator);
    // A generator runs return() only after a pending next() settles; a reader
    // that leaves while waiting stops waiting at once instead.
    generator.return = (value) => {
      reader.left = true;
      reader.wake?.();
      return stop(value);
    };
    return generator;
  }

  async *#read(reader: Reader): AsyncGenerator<DocumentEvent, void, undefined> {
    this.#start();
    let index = 0;
    this.#readers++;
    let finished = false;
    try {
      while (true) {
        if (index < this.#events.length) {
          yield this.#events[index++];
          continue;
        }
        const state: State = this.#state;
        if (state.kind === "done") break;
        if (state.kind === "failed") throw state.error;
        if (reader.left) return;
        await new Promise<void>((resolve) => {
          reader.wake = resolve;
          this.#waiting.add(resolve);
        });
        reader.wake = undefined;
        if (reader.left) return;
      }
      finished = true;
    } finally {
      this.#readers--;
      if (!finished && this.#readers === 0 && this.#state.kind === "running") this.#cancel();
    }
  }

  /** The whole new document (one run, however often it is called). */
  async text(): Promise<string> {
    this.#start();
    // text() is a reader too: an iterator that stops early must not cancel the run under it.
    this.#readers++;
    try {
      while (this.#state.kind === "running") {
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
      }
    } finally {
      this.#readers--;
    }
    const state: State = this.#state;
    if (state.kind === "failed") throw state.error;
    return (state as { kind: "done"; text: string }).text;
  }

  #wakeAll(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of waiting) wake();
  }

  #start(): void {
    if (this.#state.kind !== "idle") return;
    this.#state = { kind: "running" };
    const stop = new AbortController();
    this.#stop = stop;
    // The caller's signal is forwarded by hand and the listener removed at the
    // end, so a long-lived signal does not keep every response alive.
    const user = this.#signal;
    if (user) {
      if (user.aborted) stop.abort(user.reason);
      else {
        const forward = () => stop.abort(user.reason);
        user.addEventListener("abort", forward, { once: true });
        this.#unlink = () => user.removeEventListener("abort", forward);
      }
    }
    const emit = (event: DocumentEvent): void => {
      if (this.#state.kind !== "running") return;
      this.#events.push(Object.freeze({ ...event }));
      this.#wakeAll();
    };
    let running: Promise<string>;
    try {
      running = this.#source.run(emit, stop.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (text) => this.#settle({ kind: "done", text }),
      (error) => this.#settle({ kind: "failed", error }),
    );
  }

  #settle(state: State): void {
    this.#unlink?.();
    this.#unlink = undefined;
    if (this.#state.kind === "running") this.#state = state;
    this.#wakeAll();
  }

  #cancel(): void {
    const error = new DOMException(
      "The document run was cancelled: its reader stopped early",
      "AbortError",
    );
    this.#state = { kind: "failed", error };
    this.#stop?.abort(error);
    this.#unlink?.();
    this.#unlink = undefined;
    this.#wakeAll();
  }
}
