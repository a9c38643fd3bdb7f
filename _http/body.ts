// Reading a response body as text within a byte limit, for the service
// clients: a whole answer (refused past the limit) or the start of an error
// body (cut at the limit).
import { BodyTooLargeError } from "./fetch.ts";

/** Reads a body as text, at most `max` bytes; over it (or over the fetch's cap): `undefined` when `cut` is false, else the start. */
export async function readBounded(
  response: Response,
  max: number,
  cut: boolean,
): Promise<string | undefined> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        // The guarded fetch's own cap (of the whole body) was reached first.
        if (error instanceof BodyTooLargeError && !cut) return undefined;
        if (error instanceof BodyTooLargeError) break;
        throw error;
      }
      const { done, value } = result;
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        if (!cut) return undefined;
        chunks.push(value.subarray(0, value.byteLength - (total - max)));
        break;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(Math.min(total, max));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
