// The editor page's reader of server-sent events (demo/editor/sse.js): CRLF, LF and CR line
// ends, a CRLF split between two reads, answers with "\r" (as toResponse() writes them).
import assert from "node:assert/strict";
// @ts-types="./_sse_js.d.ts"
import { sseEvents } from "../demo/editor/sse.js";
import { AIResponse, toResponse } from "../mod.ts";

function bodyOf(...parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(parts.map((part) => encoder.encode(part)));
}

Deno.test("the editor page reads server-sent events with CRLF, LF and CR line ends", async () => {
  const expected = [
    { event: "message", data: "one" },
    { event: "chunk", data: "two\nlines" },
    { event: "done", data: "{}" },
  ];
  for (const end of ["\n", "\r\n", "\r"]) {
    const stream = `data: one${end}${end}: a comment${end}event: chunk${end}data: two${end}` +
      `data:lines${end}${end}event: done${end}data: {}${end}${end}`;
    assert.deepEqual(
      await Array.fromAsync(sseEvents(bodyOf(stream))),
      expected,
      JSON.stringify(end),
    );
    // Cut anywhere, even between the CR and the LF of one line end.
    for (let cut = 1; cut < stream.length; cut++) {
      const events = await Array.fromAsync(
        sseEvents(bodyOf(stream.slice(0, cut), stream.slice(cut))),
      );
      assert.deepEqual(events, expected, `${JSON.stringify(end)} cut at ${cut}`);
    }
  }
});

Deno.test("toResponse() SSE of an answer with CR, CRLF and LF reads back with every line, as the page reads it", async () => {
  const answer = new AIResponse({
    async *stream() {
      yield { type: "text", text: "one\r\ntwo\rthree\nfour" };
    },
  });
  const response = await toResponse(answer, { format: "sse" });
  const events = await Array.fromAsync(sseEvents(response.body!));
  // An event's data cannot hold a CR: each line end arrives as "\n", no line lost or joined.
  assert.deepEqual(events[0], { event: "message", data: "one\ntwo\nthree\nfour" });
  assert.equal(events.at(-1)!.event, "done");
});
