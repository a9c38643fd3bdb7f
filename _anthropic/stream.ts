// One streamed Messages API request: the response's server-sent events read
// with one inactivity timer for the whole stream (re-armed lazily from the
// time of the last bytes, comments and pings included), turned into text and
// usage events. Once the response has started nothing is retried.
import type { TokenUsage } from "../chat.ts";
import { StreamInterruptedError } from "../errors.ts";
import { chunkReader } from "../_http/chunks.ts";
import { type ServerSentEvent, SSEDecoder, SSELimitError } from "../_http/sse.ts";
import {
  baseOptions,
  brokenStreamError,
  serviceLabel,
  streamEventError,
  streamTimeoutError,
  unusableAnswer,
} from "./errors.ts";
import { RequestControl, send, type StartedResponse } from "./http.ts";
import {
  answerLimitOf,
  type AnthropicSettings,
  type AnthropicStreamEvent,
  type AnthropicUsage,
  eventLimitOf,
  type MessagesRequest,
  timeoutOf,
} from "./types.ts";
import { checkUsage, finishReason, toTokenUsage } from "./wire.ts";

const LEFT = new DOMException("The reader left the stream.", "AbortError");

/** What the events so far say. */
interface StreamState {
  usage: AnthropicUsage | undefined;
  finished: boolean;
  /** The `stop_reason` of the message_delta, as an OpenAI finish_reason. */
  finishReason?: string;
  textLength: number;
}

function mergeUsage(
  known: AnthropicUsage | undefined,
  update: AnthropicUsage | undefined,
  raw: unknown,
): AnthropicUsage | undefined {
  if (update === undefined) return known;
  if (known === undefined) return update;
  // message_delta carries the final output count, and sometimes the input counts.
  const given = raw as Record<string, unknown>;
  return {
    input_tokens: "input_tokens" in given ? update.input_tokens : known.input_tokens,
    output_tokens: update.output_tokens,
    cache_creation_input_tokens: "cache_creation_input_tokens" in given
      ? update.cache_creation_input_tokens
      : known.cache_creation_input_tokens,
    cache_read_input_tokens: "cache_read_input_tokens" in given
      ? update.cache_read_input_tokens
      : known.cache_read_input_tokens,
  };
}

/** The text one event brings (undefined: none); updates the state; throws an `error` event. */
function handle(
  event: ServerSentEvent,
  state: StreamState,
  settings: AnthropicSettings,
  model: string,
): string | undefined {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw unusableAnswer(
      settings,
      model,
      `a "${event.event}" event of the stream is not valid JSON (${event.data.length} characters)`,
    );
  }
  if (!data || typeof data !== "object") return undefined;
  const type = typeof data.type === "string" ? data.type : event.event;
  switch (type) {
    case "message_start": {
      const message = data.message as Record<string, unknown> | undefined;
      const usage = message?.usage;
      state.usage = mergeUsage(state.usage, checkUsage(usage), usage);
      return undefined;
    }
    case "content_block_start": {
      const block = data.content_block as Record<string, unknown> | undefined;
      return block?.type === "text" && typeof block.text === "string" && block.text !== ""
        ? block.text
        : undefined;
    }
    case "content_block_delta": {
      const delta = data.delta as Record<string, unknown> | undefined;
      return delta?.type === "text_delta" && typeof delta.text === "string"
        ? delta.text
        : undefined;
    }
    case "message_delta": {
      const delta = data.delta as Record<string, unknown> | undefined;
      if (typeof delta?.stop_reason === "string") {
        state.finishReason = finishReason(delta.stop_reason) ?? undefined;
      }
      state.usage = mergeUsage(state.usage, checkUsage(data.usage), data.usage);
      return undefined;
    }
    case "message_stop":
      state.finished = true;
      return undefined;
    case "error":
      throw streamEventError(settings, model, data);
    default:
      // ping, content_block_stop, and event types added later.
      return undefined;
  }
}

async function* readEvents(
  settings: AnthropicSettings,
  model: string,
  started: StartedResponse,
  control: RequestControl,
): AsyncGenerator<AnthropicStreamEvent, void, undefined> {
  const { response, controller } = started;
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.includes("text/event-stream") || !response.body) {
    await response.body?.cancel().catch(() => {});
    throw unusableAnswer(
      settings,
      model,
      `it did not answer with an event stream (content-type "${contentType}")`,
      started.requestId,
    );
  }
  const timeout = timeoutOf(settings);
  const maxAnswer = answerLimitOf(settings);
  const maxEvent = eventLimitOf(settings);
  // When the current wait for bytes began; undefined while the consumer holds an
  // event (its pace is not the server's silence).
  let waitingSince: number | undefined = Date.now();
  let timedOut = false;
  // One timer for the whole stream: when it fires it looks at how long the current
  // wait for bytes has lasted and waits again for the rest (a full timeout when no
  // wait is under way), so reading a chunk only stores a number.
  const check = () => {
    const idle = waitingSince === undefined ? 0 : Date.now() - waitingSince;
    if (idle >= timeout) {
      timedOut = true;
      controller.abort(new DOMException("The stream timed out.", "TimeoutError"));
    } else {
      timer = setTimeout(check, timeout - idle);
    }
  };
  let timer = setTimeout(check, timeout);
  const reader = chunkReader(response.body);
  const decoder = new SSEDecoder({ maxLineLength: maxEvent, maxEventLength: maxEvent });
  const state: StreamState = { usage: undefined, finished: false, textLength: 0 };
  let ended = false;
  try {
    while (!state.finished) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        waitingSince = Date.now();
        chunk = await reader.read();
        waitingSince = undefined;
      } catch (error) {
        if (control.callerAborted) throw control.reason;
        if (control.aborted) return; // the reader left
        if (timedOut) throw streamTimeoutError(settings, model);
        throw brokenStreamError(settings, model, error);
      }
      let events: ServerSentEvent[];
      try {
        events = chunk.done ? decoder.end() : decoder.decode(chunk.value);
      } catch (error) {
        if (!(error instanceof SSELimitError)) throw error;
        throw unusableAnswer(settings, model, error.message, started.requestId);
      }
      for (const event of events) {
        const text = handle(event, state, settings, model);
        if (text !== undefined && text !== "") {
          state.textLength += text.length;
          if (state.textLength > maxAnswer) {
            throw unusableAnswer(
              settings,
              model,
              `the answer is longer than ${maxAnswer} characters`,
              started.requestId,
            );
          }
          yield { type: "text", text };
        }
        if (state.finished) break;
      }
      if (chunk.done) {
        ended = true;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    // Stopped early, or done while the server keeps the connection: end the body.
    if (!ended) controller.abort(LEFT);
    await reader.cancel().catch(() => {});
  }
  if (control.callerAborted) throw control.reason;
  if (!state.finished) {
    throw new StreamInterruptedError(
      `The stream from ${serviceLabel(settings)} for model "${model}" ended before it was ` +
        "complete (no message_stop)",
      { ...baseOptions(settings, model), retryable: true, requestId: started.requestId },
    );
  }
  if (state.finishReason !== undefined) yield { type: "finish", reason: state.finishReason };
  if (state.usage !== undefined) {
    const usage: TokenUsage = toTokenUsage(state.usage);
    yield { type: "usage", usage };
  }
}

/**
 * One streamed request: made by `prepare`, aborted by `signal`, left by the
 * reader when `left` aborts (then it ends quietly). See `streamMessage()` in
 * mod.ts for the whole behaviour.
 */
export async function* streamEvents(
  settings: AnthropicSettings,
  prepare: () => Promise<MessagesRequest>,
  signal: AbortSignal | undefined,
  left: AbortSignal,
): AsyncGenerator<AnthropicStreamEvent, void, undefined> {
  const control = new RequestControl(signal);
  const onLeft = () => control.stop(LEFT);
  left.addEventListener("abort", onLeft, { once: true });
  try {
    let started: StartedResponse;
    let request: MessagesRequest;
    try {
      if (control.aborted) throw control.reason;
      request = await prepare();
      started = await send(settings, request, control, { stream: true });
    } catch (error) {
      if (control.aborted && !control.callerAborted) return; // the reader left
      throw error;
    }
    yield* readEvents(settings, request.body.model, started, control);
  } finally {
    left.removeEventListener("abort", onLeft);
    control.dispose();
  }
}
