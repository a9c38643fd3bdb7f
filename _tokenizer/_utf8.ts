/**
 * UTF-8 encoding of a slice of a string into a reusable buffer, as
 * `TextEncoder` does it (a lone surrogate becomes U+FFFD).
 *
 * @module
 */

/**
 * Writes the UTF-8 bytes of `text.slice(from, to)` into `buf` (which must hold
 * `3 * (to - from)` bytes) and returns how many were written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeUtf8Into } from "./_utf8.ts";
 * const buf = new Uint8Array(12);
 * assert.equal(encodeUtf8Into("aé😀", 0, 4, buf), 7);
 * ```
 */
export function encodeUtf8Into(text: string, from: number, to: number, buf: Uint8Array): number {
  let j = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[j++] = c;
    } else if (c < 0x800) {
      buf[j++] = 0xc0 | (c >> 6);
      buf[j++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[j++] = 0xe0 | (c >> 12);
      buf[j++] = 0x80 | ((c >> 6) & 0x3f);
      buf[j++] = 0x80 | (c & 0x3f);
    } else {
      const d = i + 1 < to ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        buf[j++] = 0xf0 | (cp >> 18);
        buf[j++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[j++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[j++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        // A lone surrogate: U+FFFD, as TextEncoder writes it.
        buf[j++] = 0xef;
        buf[j++] = 0xbf;
        buf[j++] = 0xbd;
      }
    }
  }
  return j;
}
