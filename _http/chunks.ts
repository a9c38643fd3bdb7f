// Reading a streamed response body chunk by chunk into one buffer of the
// reader's own, reused from read to read.
//
// A default reader of a fetch body gets each chunk in a buffer the runtime
// allocates for that read (64 KiB in Deno, whatever the chunk's size), which
// lives until the garbage collector frees it: 500 event streams read at once
// hold hundreds of megabytes of such buffers between collections. A BYOB
// reader reads into a buffer it passes in and gets back: one buffer per
// stream. A body that is not a byte stream (a runtime whose fetch body is
// not one, or a body rewrapped by the guarded fetch) is read with a default
// reader, as before.

/** The size of a stream's reused read buffer. */
export const CHUNK_BUFFER_BYTES = 16 * 1024;

/** Reads a body's chunks; `read()` resolves as a default reader's does. */
export interface ChunkReader {
  /**
   * The next chunk, or `done`. The chunk is valid until the next `read()`:
   * the next read reuses its memory, so it must be used (decoded) first.
   */
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  /** Cancels the body: a pending read ends at once. */
  cancel(reason?: unknown): Promise<void>;
}

/** A chunk reader of `body`: BYOB into one reused buffer when the body allows it. */
export function chunkReader(body: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    return body.getReader();
  }
  let buffer: ArrayBuffer | undefined = new ArrayBuffer(CHUNK_BUFFER_BYTES);
  return {
    async read() {
      // The buffer is handed to the stream (detached) for the read and comes back in the result.
      const result = await byob.read(new Uint8Array(buffer ?? new ArrayBuffer(CHUNK_BUFFER_BYTES)));
      buffer = undefined;
      if (result.done) return { done: true, value: undefined };
      buffer = result.value.buffer as ArrayBuffer;
      return { done: false, value: result.value as Uint8Array };
    },
    cancel(reason?: unknown) {
      return byob.cancel(reason);
    },
  };
}
