/**
 * The lazy answer of a document run: progress events in document order, and
 * the whole new text.
 *
 * @module
 */
import type { DocumentDelta, DocumentEvent } from "./types.ts";

/**
 * Where a {@link DocumentResponse} gets its result from. Nothing runs until
 * the response is read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DocumentResponse, type DocumentSource } from "./response.ts";
 * let runs = 0;
 * const source: DocumentSource = {
 *   text: "Hi",
 *   run(emit) {
 *     runs++;
 *     emit({ index: 0, total: 1, start: 0, end: 2, original: "Hi", replacement: "Hello", cached: false });
 *     return Promise.resolve("Hello");
 *   },
 * };
 * const response = new DocumentResponse(source);
 * assert.equal(runs, 0); // nothing runs until it is read
 * assert.equal(await response.text(), "Hello");
 * ```
 */
export interface DocumentSource {
  /** The document the run works on, when known: {@link DocumentResponse.input}. */
  readonly text?: string;
  /**
   * Runs the document: calls `emit` once per chunk, in document order, and
   * resolves with the new text. `signal` aborts when the response's signal
   * does, and when every reader of the response stops early. `deltas`, when
   * given, takes the text of answers as it arrives, while a reader wants it.
   */
  run(
    emit: (event: DocumentEvent) => void,
    signal: AbortSignal,
    deltas?: DeltaSink,
  ): Promise<string>;
}

/**
 * Where a {@link DocumentSource} reports the text of its answers as it
 * arrives (see {@link DocumentResponse.stream}).
 *
 * @example A source that streams its one chunk when asked
 * ```ts
 * import assert from "node:assert/strict";
 * import { DocumentResponse } from "./response.ts";
 * const response = new DocumentResponse({
 *   run(emit, _signal, deltas) {
 *     const at = { index: 0, total: 1, start: 0, end: 2 };
 *     if (deltas?.wanted) for (const delta of ["He", "llo"]) deltas.send({ ...at, delta });
 *     emit({ ...at, original: "Hi", replacement: "Hello", cached: false });
 *     return Promise.resolve("Hello");
 *   },
 * });
 * const seen = await Array.fromAsync(response.stream());
 * assert.deepEqual(seen.map((item) => "delta" in item ? item.delta : "event"), [
 *   "He",
 *   "llo",
 *   "event",
 * ]);
 * ```
 */
export interface DeltaSink {
  /** Whether a reader wants the text as it arrives (a `stream()` is being read). */
  readonly wanted: boolean;
  /** Reports text that arrived for a chunk whose event has not been emitted yet. */
  send(delta: DocumentDelta): void;
}

/** One iteration of a response: whether it has left, and how to wake its wait. */
interface Reader {
  left: boolean;
  wake?: () => void;
}

/** What a `stream()` reader has still to yield, in order. */
interface Live {
  items: (DocumentEvent | DocumentDelta)[];
  next: number;
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
 * `stream()` gives the same events with the text of each chunk's answer as
 * it arrives between them, for a page that shows the words coming in; and
 * `toResponse()` sends a run as an HTTP response.
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
  /** The `stream()` readers, and the answer so far of each chunk not emitted yet. */
  readonly #live = new Set<Live>();
  readonly #partials = new Map<number, DocumentDelta>();

  /** Wraps a source; `options.signal` aborts the run. */
  constructor(source: DocumentSource, options: { signal?: AbortSignal } = {}) {
    this.#source = source;
    this.#signal = options.signal;
  }

  /**
   * The document the run works on (the `text` given to `ai.processText()`),
   * when its source says: with the events' `start` and `end`, what lies
   * between the chunks.
   */
  get input(): string | undefined {
    return this.#source.text;
  }

  /**
   * The progress events, in document order.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
   * });
   * const response = ai.processText({ prompt: "correction", text: "One.\n\nTwo." });
   * const originals: string[] = [];
   * for await (const event of response) originals.push(event.original);
   * assert.deepEqual(originals, ["One.\n\nTwo."]); // one chunk: both paragraphs fit
   * ```
   */
  [Symbol.asyncIterator](): AsyncGenerator<DocumentEvent, void, undefined> {
    return this.#reader((reader) => this.#read(reader));
  }

  /**
   * The progress events as the iterator gives them, with the text of each
   * chunk's answer as it arrives between them ({@link DocumentDelta}s: tell
   * them apart with `"delta" in item`): for a page that shows a chunk being
   * rewritten while the model writes. While a `stream()` is read, answers are
   * asked for as streams. A reader that joins late gets the events so far,
   * then one delta with the answer so far of each chunk in flight. Leaving
   * early cancels the run as the iterator does.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
   * });
   * let answer = "";
   * for await (const item of ai.processText({ prompt: "correction", text: "Hi" }).stream()) {
   *   if ("delta" in item) answer += item.delta; // the echo backend streams word by word
   *   else assert.equal(item.replacement, answer);
   * }
   * assert.equal(answer, "This is an echo backend: Hi");
   * ```
   */
  stream(): AsyncGenerator<DocumentEvent | DocumentDelta, void, undefined> {
    return this.#reader((reader) => this.#readLive(reader));
  }

  #reader<T>(
    read: (reader: Reader) => AsyncGenerator<T, void, undefined>,
  ): AsyncGenerator<T, void, undefined> {
    const reader: Reader = { left: false };
    const generator = read(reader);
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

  async *#readLive(reader: Reader): AsyncGenerator<DocumentEvent | DocumentDelta, void, undefined> {
    const live: Live = { items: [...this.#events, ...this.#partials.values()], next: 0 };
    // Registered before the run starts, so that its first requests already stream.
    this.#live.add(live);
    this.#readers++;
    let finished = false;
    try {
      this.#start();
      while (true) {
        if (live.next < live.items.length) {
          const item = live.items[live.next++];
          if (live.next > 1024 && live.next * 2 > live.items.length) {
            live.items.splice(0, live.next);
            live.next = 0;
          }
          yield item;
          continue;
        }
        const state: State = this.#state;
        if (state.kind === "done") break;
        if (state.kind === "failed") throw state.error;
        if (reader.left) return;
        await this.#wait(reader);
        if (reader.left) return;
      }
      finished = true;
    } finally {
      this.#live.delete(live);
      this.#left(finished);
    }
  }

  #wait(reader: Reader): Promise<void> {
    return new Promise<void>((resolve) => {
      reader.wake = resolve;
      this.#waiting.add(resolve);
    }).then(() => {
      reader.wake = undefined;
    });
  }

  /** A reader is done; one that stopped early, the last one, cancels the run. */
  #left(finished: boolean): void {
    this.#readers--;
    if (!finished && this.#readers === 0 && this.#state.kind === "running") this.#cancel();
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
        await this.#wait(reader);
        if (reader.left) return;
      }
      finished = true;
    } finally {
      this.#left(finished);
    }
  }

  /**
   * The whole new document (one run, however often it is called).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { createAI } from "../mod.ts";
   * const ai = createAI({
   *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 4096 } } },
   * });
   * const response = ai.processText({ prompt: "completion", text: "Once upon a time" });
   * assert.equal(
   *   await response.text(),
   *   "Once upon a time This is an echo backend: Once upon a time",
   * );
   * ```
   */
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
      const frozen = Object.freeze({ ...event });
      this.#events.push(frozen);
      this.#partials.delete(frozen.index);
      for (const live of this.#live) live.items.push(frozen);
      this.#wakeAll();
    };
    const live = this.#live;
    const partials = this.#partials;
    const events = this.#events;
    const deltas: DeltaSink = {
      get wanted() {
        return live.size > 0;
      },
      send: (delta) => {
        // Text of a chunk already emitted (or of a run that ended) is stale.
        if (this.#state.kind !== "running" || delta.index < events.length) return;
        if (typeof delta.delta !== "string" || delta.delta === "") return;
        const frozen = Object.freeze({ ...delta });
        const soFar = partials.get(frozen.index);
        partials.set(
          frozen.index,
          Object.freeze({ ...frozen, delta: (soFar?.delta ?? "") + frozen.delta }),
        );
        for (const reader of live) reader.items.push(frozen);
        this.#wakeAll();
      },
    };
    let running: Promise<string>;
    try {
      running = this.#source.run(emit, stop.signal, deltas);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (text) => this.#settle({ kind: "done", text }),
      (error) => this.#settle({ kind: "failed", error }),
    );
  }

  #settle(state: State): void {
    this.#partials.clear();
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
    this.#partials.clear();
    this.#stop?.abort(error);
    this.#unlink?.();
    this.#unlink = undefined;
    this.#wakeAll();
  }
}
