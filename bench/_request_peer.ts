/**
 * The instant OpenAI-compatible server of the request benchmarks (issue 16),
 * in a process of its own: `deno run -A bench/_request_peer.ts` prints its
 * origin on a line and stops when its stdin closes.
 *
 * Every answer is built once, at start, so the server spends next to nothing
 * per request: it reads the request body (all of it: a 2 MB prompt is read),
 * then answers `POST <origin>/<kind>/v1/chat/completions` at once. A request
 * whose body asks for a stream (`"stream":true`) gets a chat-completion event
 * stream, each event its own write; any other a JSON completion. The path's
 * first part picks the stream:
 *
 * - `/s<N>/v1`: N text chunks, then the finish, usage and `[DONE]` events
 *   (`/json/v1` and any other: 50).
 * - `/hold-<id>/v1`: the role and first text chunk at once, then nothing until
 *   `GET <origin>/release/<id>`, then the other 49 chunks (the memory row:
 *   streams held open together, released by that event, not by a timer).
 *
 * @module
 */

const encoder = new TextEncoder();
const MODEL = "gpt-4o-mini";

function chunkEvent(delta: Record<string, unknown>, finish: string | null): Uint8Array {
  return encoder.encode(
    `data: ${
      JSON.stringify({
        id: "chatcmpl-bench",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: MODEL,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
    }\n\n`,
  );
}

const USAGE = { prompt_tokens: 20, completion_tokens: 50, total_tokens: 70 };
const ROLE = chunkEvent({ role: "assistant", content: "" }, null);
const FINISH = chunkEvent({}, "stop");
const TAIL = [
  encoder.encode(
    `data: ${
      JSON.stringify({
        id: "chatcmpl-bench",
        object: "chat.completion.chunk",
        created: 1_700_000_000,
        model: MODEL,
        choices: [],
        usage: USAGE,
      })
    }\n\n`,
  ),
  encoder.encode("data: [DONE]\n\n"),
];
const JSON_BODY = encoder.encode(JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1_700_000_000,
  model: MODEL,
  choices: [{
    index: 0,
    message: { role: "assistant", content: "A short answer." },
    finish_reason: "stop",
  }],
  usage: USAGE,
}));

const streams = new Map<number, Uint8Array[]>();
/** The events of a stream of `n` text chunks (the word `w<i>` each), built once per n. */
function streamOf(n: number): Uint8Array[] {
  let events = streams.get(n);
  if (events === undefined) {
    events = [ROLE];
    for (let i = 0; i < n; i++) {
      events.push(chunkEvent({ content: i === 0 ? "w0" : ` w${i}` }, null));
    }
    events.push(FINISH, ...TAIL);
    streams.set(n, events);
  }
  return events;
}

// The held streams by id, each released by `GET /release/<id>`.
const held = new Map<string, { promise: Promise<void>; release: () => void }>();
function group(id: string): { promise: Promise<void>; release: () => void } {
  let entry = held.get(id);
  if (entry === undefined) {
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    entry = { promise, release };
    held.set(id, entry);
  }
  return entry;
}

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const JSON_HEADERS = { "content-type": "application/json" };

async function answer(request: Request): Promise<Response> {
  const body = await request.text();
  const path = new URL(request.url).pathname.split("/");
  const kind = path[1] ?? "";
  if (kind === "release") {
    group(path[2] ?? "").release();
    held.delete(path[2] ?? "");
    return new Response("released\n");
  }
  if (
    !/"stream"\s*:\s*true/.test(body.slice(0, 4096)) &&
    !/"stream"\s*:\s*true/.test(body.slice(-4096))
  ) {
    return new Response(JSON_BODY, { headers: JSON_HEADERS });
  }
  const holdMatch = /^hold-(\w+)$/.exec(kind);
  const count = Number(/^s(\d+)$/.exec(kind)?.[1] ?? 50);
  const events = streamOf(holdMatch ? 50 : count);
  const readable = new ReadableStream<Uint8Array>({
    async start(controller) {
      if (holdMatch) {
        controller.enqueue(events[0]);
        controller.enqueue(events[1]);
        await group(holdMatch[1]).promise;
        for (let i = 2; i < events.length; i++) controller.enqueue(events[i]);
      } else {
        for (const event of events) controller.enqueue(event);
      }
      controller.close();
    },
  });
  return new Response(readable, { headers: SSE_HEADERS });
}

if (import.meta.main) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => answer(request),
  );
  console.log(`http://127.0.0.1:${server.addr.port}`);
  for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
  await server.shutdown();
}
