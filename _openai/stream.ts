// One streamed chat request. http.ts sends it (retrying until the response
// starts) and hands back the started response; its body is read here, decoded by
// the shared SSE decoder (`_http/sse.ts`) and turned into text and usage
// events. Once the response has started nothing is retried.
//
// Bounds, each an APIError that ends the request at once: a line or event over
// `maxEventChars`, an answer over `maxAnswerChars`. The chunk timeout bounds each
// wait for bytes: any bytes count, a keep-alive comment or half an event
// included, so only a server that sends nothing for `timeoutMs` times out.
//
// Per stream there is one timer (re-armed only when it fires during a wait that
// has not lasted the timeout yet) and one listener on the caller's signal. A
// timeout, an abort or a reader that leaves cancels the body reader, which ends
// a pending read at once, and aborts the request.
import { toTokenUsage } from "../chat.ts";
import { APIError, StreamInterruptedError, TimeoutError } from "../errors.ts";
import { type ChunkReader, chunkReader } from "../_http/chunks.ts";
import { type ServerSentEvent, SSEDecoder, SSELimitError } from "../_http/sse.ts";
import { checkNetPermission, getClient } from "./client.ts";
import {
  abortReason,
  type ErrorContext,
  mapError,
  scrubText,
  serviceLabel,
  truncate,
} from "./errors.ts";
import {
  answerLimitOf,
  type ChatRequest,
  type ClientSettings,
  eventLimitOf,
  type StreamEvent,
  timeoutOf,
} from "./types.ts";
import { sendChat } from "./http.ts";
import { contentOf, requestBody, toUsage } from "./wire.ts";

// The abort reason of a stream ended from inside (done, timed out, its reader gone), made
// once: the caller never sees it (a timeout throws a TimeoutError, a reader that left
// gets nothing), and a DOMException built per stream costs a stack trace each.
const ENDED = new DOMException("The stream was ended", "AbortError");

/** The state of one stream: its request's controller, the body reader and the chunk timer. */
class StreamRun {
  /** Aborts the request (the client's fetch, or the body being read). */
  readonly controller: AbortController = new AbortController();
  /** The reader went away (break, return(), a cancelled ReadableStream). */
  left = false;
  /** The chunk timeout fired during a wait. */
  timedOut = false;
  reader: ChunkReader | undefined;
  #ms = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiting = false;
  #waitStart = 0;

  /** Ends the request; a pending read returns at once. */
  end(reason: unknown = ENDED): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
    this.reader?.cancel().catch(() => {});
    this.stopTimer();
  }

  /** The reader went away. */
  leave(): void {
    this.left = true;
    this.end();
  }

  /** Whether the stream was ended (abort, timeout or the reader leaving). */
  get ended(): boolean {
    return this.controller.signal.aborted;
  }

  /** Sets the bound of each wait for bytes. */
  setChunkTimeout(ms: number): void {
    this.#ms = ms;
  }

  /** A wait for bytes starts. */
  waitStarts(): void {
    this.#waiting = true;
    this.#waitStart = performance.now();
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  /** Bytes arrived (or the read ended). */
  waitEnds(): void {
    this.#waiting = false;
  }

  stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#fire, delay);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    // Not waiting (the caller is busy with a chunk): the next wait arms it again.
    if (!this.#waiting) return;
    const waited = performance.now() - this.#waitStart;
    if (waited >= this.#ms) {
      this.timedOut = true;
      this.end();
    } else {
      this.#arm(this.#ms - waited);
    }
  };
}

async function* streamEvents(
  settings: ClientSettings,
  request: ChatRequest,
  run: StreamRun,
): AsyncGenerator<StreamEvent, void, undefined> {
  const { signal } = request;
  if (signal?.aborted) throw abortReason(signal);
  // The caller's signal is forwarded by hand and unlinked at the end:
  // AbortSignal.any() would keep every stream alive for as long as a long-lived
  // caller signal lives.
  const onCaller = () => run.end(signal!.reason);
  signal?.addEventListener("abort", onCaller, { once: true });
  try {
    yield* streamBody(settings, request, run);
  } finally {
    signal?.removeEventListener("abort", onCaller);
    run.end();
  }
}

async function* streamBody(
  settings: ClientSettings,
  request: ChatRequest,
  run: StreamRun,
): AsyncGenerator<StreamEvent, void, undefined> {
  const context: ErrorContext = {
    settings,
    model: request.model,
    signal: request.signal,
    streaming: false,
  };
  const { signal } = request;
  let response: Response;
  try {
    const client = getClient(settings);
    checkNetPermission(settings, request.model);
    if (run.left) return;
    const body = JSON.stringify({
      ...requestBody(request),
      stream: true,
      stream_options: { include_usage: true },
    });
    response = await sendChat(
      settings,
      client,
      { model: request.model, body, stream: true, signal: run.controller.signal },
      (started) => started,
    );
  } catch (error) {
    if (run.left && !signal?.aborted) return;
    throw mapError(error, context);
  }

  // From here on the response has started: nothing is ever retried.
  context.streaming = true;
  const label = serviceLabel(settings);
  const labels = {
    provider: settings.provider,
    backend: settings.backend,
    model: request.model,
  };
  const body = response.body;
  if (body === null) {
    throw new StreamInterruptedError(
      `The stream from ${label} for model "${request.model}" has no body`,
      { ...labels, retryable: true },
    );
  }
  const reader = chunkReader(body);
  run.reader = reader;
  const timeout = timeoutOf(settings);
  run.setChunkTimeout(timeout);
  const maxAnswer = answerLimitOf(settings);
  const maxEvent = eventLimitOf(settings);
  const decoder = new SSEDecoder({ maxLineLength: maxEvent, maxEventLength: maxEvent });
  let answerLength = 0;
  let finished = false;

  /** Why the stream was ended from outside: throws, or returns (the reader left). */
  const stopped = (): void => {
    if (signal?.aborted) throw abortReason(signal);
    if (run.timedOut) {
      throw new TimeoutError(
        `The stream from ${label} for model "${request.model}" sent nothing for ${timeout} ms`,
        { ...labels, retryable: true },
      );
    }
  };
  const fail = (what: string): APIError =>
    new APIError(
      `The stream from ${label} for model "${request.model}" ${what}: the request was ended`,
      { ...labels, status: response.status, retryable: false },
    );

  if (run.ended) {
    stopped();
    return;
  }
  reading: while (true) {
    run.waitStarts();
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      run.waitEnds();
      if (run.ended) {
        stopped();
        return;
      }
      throw mapError(error, context);
    }
    run.waitEnds();
    if (run.ended) {
      stopped();
      return;
    }
    let events: ServerSentEvent[];
    try {
      events = chunk.done ? decoder.end() : decoder.decode(chunk.value);
    } catch (error) {
      if (!(error instanceof SSELimitError)) throw error;
      throw fail(
        error.limit === "line"
          ? `sent a line longer than ${error.max} characters`
          : `sent an event with more than ${error.max} characters of data`,
      );
    }
    for (const event of events) {
      if (event.data === "[DONE]") break reading;
      // deno-lint-ignore no-explicit-any
      let data: any;
      try {
        data = JSON.parse(event.data);
      } catch {
        // The parser's message quotes the data, which may hold anything.
        throw fail("sent malformed JSON (an event that is not JSON)");
      }
      if (event.event === "error" || (data && typeof data === "object" && data.error)) {
        const detail = data?.error ?? data;
        const message = typeof detail?.message === "string" ? detail.message : "an error event";
        throw new APIError(
          `${label} reported an error for model "${request.model}": ${
            truncate(scrubText(message, settings))
          }`,
          labels,
        );
      }
      const choices = Array.isArray(data?.choices) ? data.choices : [];
      for (const choice of choices) {
        if ((choice?.index ?? 0) !== 0) continue;
        const text = contentOf(choice?.delta?.content);
        if (text) {
          answerLength += text.length;
          if (answerLength > maxAnswer) {
            throw fail(`sent an answer longer than ${maxAnswer} characters`);
          }
          yield { type: "text", text };
          if (run.ended) {
            stopped();
            return;
          }
        }
        if (choice?.finish_reason) {
          finished = true;
          if (typeof choice.finish_reason === "string") {
            yield { type: "finish", reason: choice.finish_reason };
            if (run.ended) {
              stopped();
              return;
            }
          }
        }
      }
      const usage = toUsage(data?.usage);
      if (usage) {
        yield { type: "usage", usage: toTokenUsage(usage) };
        if (run.ended) {
          stopped();
          return;
        }
      }
    }
    if (chunk.done) break;
  }
  if (!finished) {
    throw new StreamInterruptedError(
      `The stream from ${label} for model "${request.model}" ended before it was complete ` +
        "(no finish_reason)",
      { ...labels, retryable: true },
    );
  }
}

/**
 * Streams one chat request: text events in order, then a usage event when the
 * service reports usage. Each iteration sends a new request. A stream that ends
 * without a finish reason throws `StreamInterruptedError`; other failures are
 * errors.ts classes; an abort throws `signal.reason`. Breaking out of the loop
 * cancels the request.
 */
export function chatStream(
  settings: ClientSettings,
  request: ChatRequest,
): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]: () => {
      const run = new StreamRun();
      const generator = streamEvents(settings, request, run);
      // A generator runs return() only after a pending next() settles (the next chunk,
      // or the timeout); a reader that leaves while waiting (a cancelled ReadableStream)
      // ends the request at once instead.
      const stop = generator.return.bind(generator);
      generator.return = (value) => {
        run.leave();
        return stop(value);
      };
      return generator;
    },
  };
}
