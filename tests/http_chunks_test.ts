import assert from "node:assert/strict";
import { CHUNK_BUFFER_BYTES, chunkReader } from "../_http/chunks.ts";
import { stalledBody, startServer } from "./_hostile.ts";

const encoder = new TextEncoder();

/** A body that sends `parts` one write each, then ends. */
function parts(...texts: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < texts.length) controller.enqueue(encoder.encode(texts[i++]));
      else controller.close();
    },
  });
}

async function readAll(
  body: ReadableStream<Uint8Array>,
): Promise<{ text: string; sizes: number[] }> {
  const reader = chunkReader(body);
  const decoder = new TextDecoder();
  let text = "";
  const sizes: number[] = [];
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    sizes.push(value.buffer.byteLength);
    text += decoder.decode(value, { stream: true });
  }
  return { text: text + decoder.decode(), sizes };
}

Deno.test("chunkReader() reads a fetch body into its own reused buffer, not one buffer per read", async () => {
  await using server = await startServer(() =>
    new Response(parts("data: 1\n\n", "data: 2\n\n", "data: 3\n\n"))
  );
  const response = await fetch(`${server.origin}/`);
  const { text, sizes } = await readAll(response.body!);
  assert.equal(text, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  assert.ok(sizes.length >= 1);
  // The runtime's own reads would each come in a fresh buffer of its size (64 KiB in Deno).
  assert.ok(sizes.every((size) => size === CHUNK_BUFFER_BYTES), String(sizes));
});

Deno.test("chunkReader() reads a chunk larger than its buffer in parts", async () => {
  const big = "x".repeat(CHUNK_BUFFER_BYTES * 3 + 17);
  await using server = await startServer(() => new Response(parts(big, "end")));
  const response = await fetch(`${server.origin}/`);
  const { text, sizes } = await readAll(response.body!);
  assert.equal(text, big + "end");
  assert.ok(sizes.length >= 4, `read in ${sizes.length} parts`);
});

Deno.test("chunkReader() reads a body that is not a byte stream with a default reader", async () => {
  const { text } = await readAll(parts("a", "b", "c"));
  assert.equal(text, "abc");
});

Deno.test("chunkReader(): cancel() ends a pending read at once", async () => {
  const { body, release } = stalledBody(encoder.encode("first"));
  await using server = await startServer(() => new Response(body));
  try {
    const response = await fetch(`${server.origin}/`);
    const reader = chunkReader(response.body!);
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "first");
    const pending = reader.read();
    await reader.cancel();
    assert.deepEqual(await pending, { done: true, value: undefined });
  } finally {
    release();
  }
});
