import assert from "node:assert/strict";
import { type ServerSentEvent, SSEDecoder, SSELimitError } from "../_http/sse.ts";

const encoder = new TextEncoder();

/** Decodes `chunks` (strings or bytes) with one decoder and returns every event. */
function decodeAll(
  chunks: readonly (string | Uint8Array)[],
  decoder = new SSEDecoder(),
): ServerSentEvent[] {
  const events: ServerSentEvent[] = [];
  for (const chunk of chunks) {
    events.push(...decoder.decode(typeof chunk === "string" ? encoder.encode(chunk) : chunk));
  }
  events.push(...decoder.end());
  return events;
}

Deno.test("SSEDecoder decodes data events, named events, ids and multi-line data", () => {
  const events = decodeAll([
    'data: {"a":1}\n\n',
    "event: message_start\ndata: x\n\n",
    "id: 7\ndata: one\ndata: two\n\n",
    "data:no-space\n\n",
    "data: [DONE]\n\n",
  ]);
  assert.deepEqual(events, [
    { event: "message", data: '{"a":1}' },
    { event: "message_start", data: "x" },
    { event: "message", data: "one\ntwo", id: "7" },
    { event: "message", data: "no-space", id: "7" },
    { event: "message", data: "[DONE]", id: "7" },
  ]);
});

Deno.test("SSEDecoder takes CRLF, CR and LF line ends, also split across chunks", () => {
  const text = "data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\r\n";
  const whole = decodeAll([text]);
  assert.deepEqual(whole.map((event) => event.data), ["a", "b", "c", "d"]);
  // Every split point, including between CR and LF.
  for (let cut = 1; cut < text.length; cut++) {
    const split = decodeAll([text.slice(0, cut), text.slice(cut)]);
    assert.deepEqual(split, whole, `cut at ${cut}`);
  }
  // Byte by byte, with a multi-byte character split across chunks.
  const bytes = encoder.encode("data: caf\u00e9 \u{1f600}\n\n");
  const events = decodeAll([...bytes].map((byte) => new Uint8Array([byte])));
  assert.deepEqual(events, [{ event: "message", data: "caf\u00e9 \u{1f600}" }]);
});

Deno.test("SSEDecoder skips comments and keep-alives, blank events and a byte order mark", () => {
  const events = decodeAll([
    "\ufeff: keepalive\n\n",
    ":\n",
    "\n\n",
    "event: ping\n\n",
    "data: x\n\n",
  ]);
  assert.deepEqual(events, [{ event: "message", data: "x" }]);
  const decoder = new SSEDecoder();
  assert.deepEqual(decoder.decode(encoder.encode(": still thinking\n")), []);
  assert.deepEqual(decoder.decode(encoder.encode("data: hal")), []);
  assert.deepEqual(decoder.decode(encoder.encode("f\n\n")), [{ event: "message", data: "half" }]);
});

Deno.test("SSEDecoder drops an event that no blank line closed, and ends a last line without a break", () => {
  assert.deepEqual(decodeAll(["data: cut off"]), []);
  assert.deepEqual(decodeAll(["data: a\n\ndata: b\n"]), [{ event: "message", data: "a" }]);
});

Deno.test("SSEDecoder refuses a line over its limit at once, without waiting for its end", () => {
  const decoder = new SSEDecoder({ maxLineLength: 100 });
  assert.deepEqual(decoder.decode(encoder.encode("data: " + "x".repeat(50))), []);
  assert.throws(
    () => decoder.decode(encoder.encode("x".repeat(50))),
    (error: unknown) =>
      error instanceof SSELimitError && error.limit === "line" && error.max === 100 &&
      /longer than 100 characters/.test(error.message),
  );
  // A complete long line in one chunk.
  assert.throws(
    () => new SSEDecoder({ maxLineLength: 10 }).decode(encoder.encode("data: 12345678\n\n")),
    { name: "SSELimitError" },
  );
  // Exactly at the limit is fine.
  assert.deepEqual(decodeAll(["data: 1234\n\n"], new SSEDecoder({ maxLineLength: 10 })), [
    { event: "message", data: "1234" },
  ]);
});

Deno.test("SSEDecoder refuses an event whose data lines add up over its limit", () => {
  const decoder = new SSEDecoder({ maxEventLength: 10 });
  assert.deepEqual(decoder.decode(encoder.encode("data: 12345\n")), []);
  assert.throws(
    () => decoder.decode(encoder.encode("data: 67890\n")),
    (error: unknown) => error instanceof SSELimitError && error.limit === "event",
  );
  // Many events each under the limit are fine.
  const events = decodeAll(
    Array.from({ length: 100 }, () => "data: 123456789\n\n"),
    new SSEDecoder({ maxEventLength: 10 }),
  );
  assert.equal(events.length, 100);
});
