// Server-sent events of a fetch response, for the editor page (served as /sse.js) and its tests.
// Lines end with CRLF, LF or CR, as the EventSource standard reads them (a CRLF split across two
// reads of the body counts once); a blank line ends an event; "data:" lines are joined with "\n";
// a comment (":") and unknown fields are skipped.

/**
 * The events of a `text/event-stream` body: `{event, data}`, `event` "message" unless named.
 *
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<{event: string, data: string}>}
 */
export async function* sseEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "";
  let data = [];
  let hasData = false;
  // A CR was the last character read: an LF that starts the next read belongs to it.
  let afterCR = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      if (afterCR && buffer.startsWith("\n")) buffer = buffer.slice(1);
      afterCR = false;
      let start = 0;
      while (true) {
        const cr = buffer.indexOf("\r", start);
        const lf = buffer.indexOf("\n", start);
        if (cr < 0 && lf < 0) break;
        const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
        const line = buffer.slice(start, end);
        if (buffer[end] === "\r") {
          if (end + 1 === buffer.length) afterCR = true;
          start = buffer[end + 1] === "\n" ? end + 2 : end + 1;
        } else start = end + 1;
        if (line === "") {
          if (hasData) yield { event: event || "message", data: data.join("\n") };
          event = "";
          data = [];
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") event = text;
        else if (field === "data") {
          data.push(text);
          hasData = true;
        }
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
  }
}
