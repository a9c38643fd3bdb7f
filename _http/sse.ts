// Server-sent events (the text/event-stream format that OpenAI-compatible and
// Anthropic streams use), decoded incrementally from the bytes of a response
// body with bounded memory: a line, or the data of one event, longer than its
// limit is an SSELimitError at once instead of a buffer that grows without end.
//
// Follows the WHATWG HTML "event stream interpretation": lines end with CRLF,
// LF or CR (also when split across chunks); a line starting with ":" is a
// comment (servers send them as keep-alives); `data` lines of one event are
// joined with "\n"; a blank line dispatches the event (none when it has no
// data); an event without an `event` field is of type "message"; a leading
// byte order mark is dropped.

/** One decoded event. */
export interface ServerSentEvent {
  /** The `event` field, or `"message"` when the event had none. */
  event: string;
  /** The `data` lines, joined with "\n". */
  data: string;
  /** The last `id` field seen so far, when any. */
  id?: string;
}

/** Limits of {@link SSEDecoder}, in UTF-16 code units (a character is at least one byte). */
export interface SSELimits {
  /** The longest line (default 1 MiB). */
  maxLineLength?: number;
  /** The most data one event may hold (default 1 MiB). */
  maxEventLength?: number;
}

/** The default limit of a line and of one event's data: 1 MiB. */
export const DEFAULT_MAX_SSE_LINE: number = 1024 * 1024;

/** A line or an event over its {@link SSELimits}; the stream must be ended. */
export class SSELimitError extends Error {
  /** Which limit: `"line"` or `"event"`. */
  readonly limit: "line" | "event";
  /** The limit, in characters. */
  readonly max: number;

  /** Builds the error. */
  constructor(limit: "line" | "event", max: number) {
    super(
      limit === "line"
        ? `a line of the event stream is longer than ${max} characters`
        : `an event of the event stream holds more than ${max} characters of data`,
    );
    this.name = "SSELimitError";
    this.limit = limit;
    this.max = max;
  }
}

const LF = 10;
const CR = 13;

/** Decodes an event stream chunk by chunk. */
export class SSEDecoder {
  readonly #text = new TextDecoder();
  readonly #maxLine: number;
  readonly #maxEvent: number;
  /** The start of a line whose end has not arrived. */
  #partial = "";
  /** The last chunk ended with CR: a LF that starts the next one ends no new line. */
  #afterCR = false;
  #started = false;
  #data: string[] = [];
  #dataLength = 0;
  #event = "";
  #id: string | undefined;

  /** Builds a decoder with the given limits. */
  constructor(limits: SSELimits = {}) {
    this.#maxLine = limits.maxLineLength ?? DEFAULT_MAX_SSE_LINE;
    this.#maxEvent = limits.maxEventLength ?? DEFAULT_MAX_SSE_LINE;
  }

  /**
   * Decodes the next bytes of the stream and returns the events they complete
   * (often none: a comment, a keep-alive or half a line complete nothing).
   *
   * @throws {SSELimitError} when a line or an event's data is over its limit.
   */
  decode(bytes: Uint8Array): ServerSentEvent[] {
    let text = this.#text.decode(bytes, { stream: true });
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return this.#lines(text);
  }

  /**
   * Ends the stream: a last line without its line break is taken as a line.
   * An event that no blank line closed is not dispatched (as browsers do).
   */
  end(): ServerSentEvent[] {
    const events = this.#lines(this.#text.decode());
    if (this.#partial !== "") {
      const line = this.#partial;
      this.#partial = "";
      this.#line(line, events);
    }
    return events;
  }

  #lines(text: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let start = 0;
    if (this.#afterCR && text.length > 0) {
      this.#afterCR = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    const length = text.length;
    for (let i = start; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code !== LF && code !== CR) continue;
      let line = text.slice(start, i);
      if (this.#partial !== "") {
        line = this.#partial + line;
        this.#partial = "";
      }
      if (line.length > this.#maxLine) throw new SSELimitError("line", this.#maxLine);
      this.#line(line, events);
      if (code === CR) {
        if (i + 1 < length) {
          if (text.charCodeAt(i + 1) === LF) i++;
        } else {
          this.#afterCR = true;
        }
      }
      start = i + 1;
    }
    if (start < length) {
      const rest = length - start;
      if (this.#partial.length + rest > this.#maxLine) {
        this.#partial = "";
        throw new SSELimitError("line", this.#maxLine);
      }
      this.#partial += text.slice(start);
    }
    return events;
  }

  #line(line: string, events: ServerSentEvent[]): void {
    if (line === "") {
      if (this.#data.length > 0) {
        const event: ServerSentEvent = {
          event: this.#event === "" ? "message" : this.#event,
          data: this.#data.length === 1 ? this.#data[0] : this.#data.join("\n"),
        };
        if (this.#id !== undefined) event.id = this.#id;
        events.push(event);
      }
      this.#data = [];
      this.#dataLength = 0;
      this.#event = "";
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return; // ":" starts a comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case "data":
        this.#dataLength += value.length + 1;
        if (this.#dataLength > this.#maxEvent + 1) {
          throw new SSELimitError("event", this.#maxEvent);
        }
        this.#data.push(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      default:
        // "retry" and unknown fields are ignored.
    }
  }
}
