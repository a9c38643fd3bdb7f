// Cutting a block that is too long for one chunk: at sentence ends, then at
// spaces, then anywhere, only inside its text (never inside a tag or a mark).
import { isSpace } from "./_format.ts";

/** A stretch of a document, [start, end). */
export type Span = readonly [number, number];

const SENTENCE_END = /[.!?…。！？]+["'’”»)\]]*\s+/g;
const SPACES = /\s+/g;

/**
 * The pieces of `[start, end)` of `text`, cut where `pattern` matches inside
 * one of the `texts` stretches (the text of the block, outside its markup):
 * each piece ends before the whitespace at its cut, and the next starts after
 * it. Without any cut, the one piece is the whole span.
 */
function cutAt(text: string, start: number, end: number, texts: readonly Span[], pattern: RegExp) {
  const pieces: [number, number][] = [];
  let from = start;
  for (const [s, e] of texts) {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (a >= b) continue;
    const stretch = text.slice(a, b);
    pattern.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(stretch)) !== null) {
      let spaceFrom = match.index + match[0].length;
      while (spaceFrom > match.index && isSpace(stretch.charCodeAt(spaceFrom - 1))) spaceFrom--;
      const cut = a + spaceFrom;
      const next = a + match.index + match[0].length;
      if (cut > from && next < end) {
        pieces.push([from, cut]);
        from = next;
      }
    }
  }
  pieces.push([from, end]);
  return pieces;
}

/** Cuts `[start, end)` into stretches of at most `size` UTF-16 units, inside `texts` only. */
function cutAnywhere(
  start: number,
  end: number,
  texts: readonly Span[],
  size: number,
  text: string,
) {
  const pieces: [number, number][] = [];
  let from = start;
  for (const [s, e] of texts) {
    let at = Math.max(s, start);
    const b = Math.min(e, end);
    while (at < b) {
      let cut = Math.min(b, Math.max(at, from) + size);
      if (cut >= end) break;
      // Never between the halves of a surrogate pair.
      const code = text.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff && cut < b) cut++;
      if (cut > from && cut < end) {
        pieces.push([from, cut]);
        from = cut;
      }
      at = cut;
    }
  }
  pieces.push([from, end]);
  return pieces;
}

/**
 * The pieces of a block `[start, end)` whose sent text is over `max`: its
 * sentences, a sentence still over `max` cut at spaces, a word still over it
 * cut anywhere. `length(span)` measures a piece as sent.
 */
export function longBlockPieces(
  text: string,
  start: number,
  end: number,
  texts: readonly Span[],
  max: number,
  length: (span: Span) => number,
): Span[] {
  const out: Span[] = [];
  for (const sentence of cutAt(text, start, end, texts, SENTENCE_END)) {
    if (length(sentence) <= max) {
      out.push(sentence);
      continue;
    }
    for (const word of cutAt(text, sentence[0], sentence[1], texts, SPACES)) {
      const measured = length(word);
      if (measured <= max) {
        out.push(word);
        continue;
      }
      const size = Math.max(1, Math.floor((word[1] - word[0]) * max / measured));
      out.push(...cutAnywhere(word[0], word[1], texts, size, text));
    }
  }
  return out;
}
