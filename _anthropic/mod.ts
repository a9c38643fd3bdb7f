// The private Anthropic Messages API client, on plain `fetch` (no SDK): the
// one folder that speaks Anthropic's wire format. Providers call
// `createMessage()` and `streamMessage()`; no wire type leaves through the
// public API. Files: types.ts (settings and wire types), wire.ts (messages,
// options, usage), and, loaded on the first request so that importing the
// package loads none of it, client.ts: http.ts (sending with retries,
// timeouts, abort, guarded fetch, bounded bodies), errors.ts (error
// mapping, scrubbing), completion.ts and stream.ts (the two request kinds).
//
// Behaviour, as for the OpenAI client in ../_openai/:
// - Retries: up to `maxRetries` more attempts, exponential backoff with jitter,
//   honouring `retry-after-ms` / `retry-after` (seconds or an HTTP date, up to
//   60 s) and `x-should-retry`, for 408, 409, 429, 5xx, 529, connection errors
//   and timeouts; a stream only before its response starts.
// - `timeoutMs` bounds each attempt up to the complete JSON answer; for a stream
//   it bounds the wait for the response, then every wait for the next bytes.
// - Abort: the caller's signal ends the request or stream at once and it rejects
//   (or throws) with `signal.reason`.
// - Requests go through the shared guarded fetch (../_http/fetch.ts), as the
//   OpenAI client's: a redirect to another origin is refused (an APIError naming
//   the target host, not retried), so the key and the prompt never reach another
//   host; same-origin redirects are followed; JSON and error bodies are capped
//   (after decompression), a stream's by its reader (`maxAnswerChars`, `maxEventChars`).
// - Messages never contain the API key or a header value (replaced by "***").
import type {
  AnthropicMessage,
  AnthropicSettings,
  AnthropicStreamEvent,
  MessagesRequest,
} from "./types.ts";

export type {
  AnthropicMessage,
  AnthropicSettings,
  AnthropicStreamEvent,
  AnthropicToolUseBlock,
  AnthropicTurn,
  MessagesRequest,
} from "./types.ts";
export {
  checkUsage,
  finishReason,
  messageText,
  toAnthropicOptions,
  toConversation,
  toTokenUsage,
} from "./wire.ts";

type Client = typeof import("./client.ts");
let client: Promise<Client> | undefined;

/** The sending part of the client, loaded once on first use. */
export function loadClient(): Promise<Client> {
  client ??= import("./client.ts").catch((error) => {
    client = undefined;
    throw error;
  });
  return client;
}

/**
 * Sends one Messages API request and returns the checked answer. Rejects
 * with an errors.ts class, or with `signal.reason` when aborted.
 */
export async function createMessage(
  settings: AnthropicSettings,
  request: MessagesRequest,
): Promise<AnthropicMessage> {
  return await (await loadClient()).createMessage(settings, request);
}

/**
 * Streams one Messages API request: text events in order, then a usage
 * event. Each iteration sends a new request, made by `prepare` (which may
 * count tokens first), aborted by `signal`. A stream that ends without
 * `message_stop` throws `StreamInterruptedError`; an `error` event throws
 * `StreamInterruptedError` (overloaded, internal error) or `APIError`; an
 * abort throws `signal.reason`. Breaking out of the loop cancels the request,
 * also while a chunk is awaited.
 */
export function streamMessage(
  settings: AnthropicSettings,
  prepare: () => Promise<MessagesRequest>,
  signal?: AbortSignal,
): AsyncIterable<AnthropicStreamEvent> {
  return {
    [Symbol.asyncIterator]: () => {
      const left = new AbortController();
      const generator = (async function* () {
        const { streamEvents } = await loadClient();
        yield* streamEvents(settings, prepare, signal, left.signal);
      })();
      // A generator runs return() only after a pending next() settles (the next chunk,
      // or the timeout); a reader that leaves while waiting ends the request at once.
      const stop = generator.return.bind(generator);
      generator.return = (value) => {
        left.abort();
        return stop(value);
      };
      return generator;
    },
  };
}
