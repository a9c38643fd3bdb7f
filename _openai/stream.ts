// One streamed chat request: the response's chunks read with a per-chunk
// timeout and the caller's abort, turned into text and usage events. Once the
// response has started nothing is retried.
import { toTokenUsage } from "../chat.ts";
import { StreamInterruptedError, TimeoutError } from "../errors.ts";
import { checkNetPermission, getClient } from "./client.ts";
import { abortReason, type ErrorContext, mapError, serviceLabel } from "./errors.ts";
import {
  type ChatRequest,
  type ClientSettings,
  type OpenAIModule,
  type StreamEvent,
  timeoutOf,
} from "./types.ts";
import { contentOf, requestBody, toUsage } from "./wire.ts";

const TIMED_OUT = Symbol("timed out");
const ABORTED = Symbol("aborted");

/** Waits for the next chunk, at most `ms`, or until `signal` aborts. */
function nextChunk<T>(
  iterator: AsyncIterator<T>,
  ms: number,
  signal: AbortSignal,
): Promise<IteratorResult<T> | typeof TIMED_OUT | typeof ABORTED> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = { resolve: () => {} };
  const guard = new Promise<typeof TIMED_OUT | typeof ABORTED>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    onAbort.resolve = () => resolve(ABORTED);
    if (signal.aborted) resolve(ABORTED);
    else signal.addEventListener("abort", onAbort.resolve, { once: true });
  });
  return Promise.race([iterator.next(), guard]).finally(() => {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort.resolve);
  });
}

async function* streamEvents(
  settings: ClientSettings,
  request: ChatRequest,
  left: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  const { signal } = request;
  if (!signal) return yield* streamBody(settings, request, left, left);
  // Aborts when the caller's signal does or when the reader leaves. Forwarded by
  // hand and unlinked at the end: AbortSignal.any() would keep every stream alive
  // for as long as a long-lived caller signal lives.
  const stop = new AbortController();
  const onCaller = () => stop.abort(signal.reason);
  const onLeft = () => stop.abort(left.reason);
  if (signal.aborted) stop.abort(signal.reason);
  else signal.addEventListener("abort", onCaller, { once: true });
  left.addEventListener("abort", onLeft, { once: true });
  try {
    return yield* streamBody(settings, request, left, stop.signal);
  } finally {
    signal.removeEventListener("abort", onCaller);
    left.removeEventListener("abort", onLeft);
  }
}

async function* streamBody(
  settings: ClientSettings,
  request: ChatRequest,
  left: AbortSignal,
  stop: AbortSignal,
): AsyncGenerator<StreamEvent, void, undefined> {
  const context: ErrorContext = {
    settings,
    model: request.model,
    signal: request.signal,
    streaming: false,
  };
  const { signal } = request;
  if (signal?.aborted) throw abortReason(signal);
  checkNetPermission(settings, request.model);
  let mod: OpenAIModule | undefined;
  // deno-lint-ignore no-explicit-any
  let stream: any;
  try {
    const [loaded, client] = await getClient(settings);
    mod = loaded;
    if (signal?.aborted) throw abortReason(signal);
    if (left.aborted) return;
    stream = await client.chat.completions.create(
      {
        ...requestBody(request),
        stream: true,
        stream_options: { include_usage: true },
        // deno-lint-ignore no-explicit-any
      } as any,
      { signal: stop },
    );
  } catch (error) {
    if (left.aborted && !signal?.aborted) return;
    throw mapError(mod, error, context);
  }

  // From here on the response has started: nothing is ever retried.
  context.streaming = true;
  const label = serviceLabel(settings);
  const iterator: AsyncIterator<unknown> = stream[Symbol.asyncIterator]();
  let finished = false;
  let ended = false;
  try {
    while (true) {
      let next: IteratorResult<unknown> | typeof TIMED_OUT | typeof ABORTED;
      try {
        next = await nextChunk(iterator, timeoutOf(settings), stop);
      } catch (error) {
        if (left.aborted && !signal?.aborted) return;
        throw mapError(mod, error, context);
      }
      if (next === ABORTED) {
        if (signal?.aborted) throw abortReason(signal);
        return; // The reader left.
      }
      if (next === TIMED_OUT) {
        throw new TimeoutError(
          `The stream from ${label} for model "${request.model}" sent nothing for ${
            timeoutOf(settings)
          } ms`,
          {
            provider: settings.provider,
            backend: settings.backend,
            model: request.model,
            retryable: true,
          },
        );
      }
      if (next.done) {
        ended = true;
        break;
      }
      // deno-lint-ignore no-explicit-any
      const chunk = next.value as any;
      const choices = Array.isArray(chunk?.choices) ? chunk.choices : [];
      for (const choice of choices) {
        if ((choice?.index ?? 0) !== 0) continue;
        const text = contentOf(choice?.delta?.content);
        if (text) yield { type: "text", text };
        if (choice?.finish_reason) finished = true;
      }
      const usage = toUsage(chunk?.usage);
      if (usage) yield { type: "usage", usage: toTokenUsage(usage) };
    }
  } finally {
    if (!ended) {
      // Stopped early (break, abort, timeout, error): cancel the HTTP request.
      stream.controller?.abort();
      await iterator.return?.().catch(() => {});
    }
  }
  // The client ends a stream quietly when its request is aborted.
  if (signal?.aborted) throw abortReason(signal);
  if (!finished) {
    throw new StreamInterruptedError(
      `The stream from ${label} for model "${request.model}" ended before it was complete ` +
        "(no finish_reason)",
      {
        provider: settings.provider,
        backend: settings.backend,
        model: request.model,
        retryable: true,
      },
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
      const left = new AbortController();
      const generator = streamEvents(settings, request, left.signal);
      // A generator runs return() only after a pending next() settles (the next chunk,
      // or the timeout); a reader that leaves while waiting (a cancelled ReadableStream)
      // ends the request at once instead.
      const stop = generator.return.bind(generator);
      generator.return = (value) => {
        left.abort();
        return stop(value);
      };
      return generator;
    },
  };
}
