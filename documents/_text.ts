// Plain-text documents: paragraphs separated by blank lines. The spaces
// between paragraphs are never sent for a chunk of one paragraph, and are
// kept as they were when an answer has as many paragraphs as its chunk.
import {
  appendJoiner,
  type AppendPlan,
  type ChunkPlan,
  type DocumentFormatHandler,
  isSpace,
  type Outcome,
  unfence,
  type Unit,
} from "./_format.ts";
import { longBlockPieces } from "./_pieces.ts";

/** A blank line (with any spaces), as paragraphs are split. */
export const PARAGRAPH_BREAK = /\n\s*\n/;

/** The paragraphs of `text` (tight: no spaces at their ends). */
export function paragraphs(text: string): Unit[] {
  const units: Unit[] = [];
  let start = -1;
  let end = -1;
  let line = 0;
  const n = text.length;
  while (line <= n) {
    let lineEnd = text.indexOf("\n", line);
    if (lineEnd < 0) lineEnd = n;
    let first = line;
    while (first < lineEnd && isSpace(text.charCodeAt(first))) first++;
    if (first === lineEnd) {
      if (start >= 0) units.push(unitOf(text, start, end));
      start = -1;
    } else {
      if (start < 0) start = first;
      let last = lineEnd;
      while (last > first && isSpace(text.charCodeAt(last - 1))) last--;
      end = last;
    }
    line = lineEnd + 1;
  }
  if (start >= 0) units.push(unitOf(text, start, end));
  return units;
}

function unitOf(text: string, start: number, end: number): Unit {
  const sent = text.slice(start, end);
  return { start, end, sent, words: sent };
}

/** An answer split into paragraphs mapped onto `units`, keeping the spaces between them. */
function replaceParagraphs(text: string, units: readonly Unit[], answer: string): string {
  const parts = answer.split(PARAGRAPH_BREAK);
  if (units.length === 1 || parts.length !== units.length) return answer;
  let out = parts[0].trim();
  for (let i = 1; i < units.length; i++) {
    out += text.slice(units[i - 1].end, units[i].start) + parts[i].trim();
  }
  return out;
}

/** The plain-text format. */
export function textFormat(): DocumentFormatHandler {
  return {
    blocks: paragraphs,
    gap: (text, a, b) => text.slice(a.end, b.start),
    pieces(text, block, max, measure): Unit[] {
      return longBlockPieces(
        text,
        block.start,
        block.end,
        [[block.start, block.end]],
        max,
        ([s, e]) => measure(text.slice(s, e)),
      ).map(([s, e]) => unitOf(text, s, e));
    },
    chunk(text, units, parent): ChunkPlan {
      const start = units[0].start;
      const end = units[units.length - 1].end;
      const sent = text.slice(start, end);
      const logical = parent ? [unitOf(text, start, end)] : units;
      return {
        start,
        end,
        sent,
        apply(raw: string): Outcome {
          const answer = unfence(raw, sent).trim();
          if (answer === "") return { kept: "empty answer" };
          return { replacement: replaceParagraphs(text, logical, answer) };
        },
      };
    },
    append(text, units): AppendPlan {
      const at = units[units.length - 1].end;
      return {
        at,
        sent: text,
        apply(raw: string): Outcome {
          const answer = unfence(raw, text).trim();
          if (answer === "") return { kept: "empty answer" };
          const joiner = appendJoiner(text.slice(0, at), answer, PARAGRAPH_BREAK.test(answer));
          return { replacement: joiner + answer };
        },
      };
    },
  };
}
