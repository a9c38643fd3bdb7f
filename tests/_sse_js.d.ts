/** The events of a `text/event-stream` body (demo/editor/sse.js). */
export function sseEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ event: string; data: string }>;
