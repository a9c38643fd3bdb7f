// Markdown documents: paragraphs, headings, list items and quotes are sent
// without their marks (the `#`, `-`, `1.`, `>` and indentation that make the
// structure); code fences, indented code, tables, HTML blocks, link
// definitions, thematic breaks and front matter are never sent. An answer must
// have as many paragraphs as its chunk, and each the same inline marks (code
// spans, links, emphasis) in the same order; then each line goes back after
// its original marks.
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
import { longBlockPieces, type Span } from "./_pieces.ts";
import { PARAGRAPH_BREAK } from "./_text.ts";

/** A paragraph, heading, list item or quote: its lines' text, without their marks. */
interface MarkdownUnit extends Unit {
  /** The text of each line (tight), in order. */
  readonly lines: readonly Span[];
  /** A heading (its answer must be one line). */
  readonly heading: boolean;
  /** What starts a line added to it (a newline and the marks of a continuation line). */
  readonly continuation: string;
}

const FENCE = /^(`{3,}|~{3,})/;
const ATX = /^(#{1,6})(?:[ \t]+|$)/;
const ATX_CLOSE = /[ \t]+#+[ \t]*$|^#+[ \t]*$/;
const THEMATIC = /^([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const SETEXT = /^(?:=+|-+)[ \t]*$/;
// A table's delimiter row: several cells, or one with a pipe or a colon (`---|`, `|---`, `:-:`;
// a bare `---` is a setext underline or a thematic break).
const TABLE_DELIMITER =
  /^\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)+\|?[ \t]*$|^(?=[^|:]*[|:])\|?[ \t]*:?-+:?[ \t]*\|?[ \t]*$/;
const HTML_BLOCK =
  /^(?:<!--|<[?!]|<\/?(?:address|article|aside|blockquote|body|canvas|center|details|dialog|div|dl|fieldset|figcaption|figure|footer|form|h[1-6]|head|header|hr|html|iframe|li|main|math|nav|noscript|ol|p|pre|script|section|style|summary|svg|table|tbody|td|template|textarea|tfoot|th|thead|tr|ul|video|audio)(?=[\s/>]|$))/i;
const LINK_DEFINITION = /^\[[^\]]+\]:[ \t]*\S/;
const LIST_MARKER = /^(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)/;

/** The inline marks an answer must keep: code spans (exactly), links, emphasis, HTML. */
const CODE_SPAN = /(`+)(?:[^`]|(?!\1)`+)*?\1(?!`)/g;
const MARKS =
  /\\[!-\/:-@\[-`{-~]|<[^>\n]*>|\]\([^)\n]*\)|\]\[[^\]\n]*\]|!\[|\[|\]|\*+|~~|(?<![\p{L}\p{N}])_+|_+(?![\p{L}\p{N}])/gu;

/** The marks of a paragraph, in order (code spans whole). */
export function inlineMarks(text: string): string[] {
  const marks: string[] = [];
  const rest = text.replace(CODE_SPAN, (span) => {
    marks.push(span);
    return "\u0000";
  });
  for (const match of rest.matchAll(MARKS)) marks.push(match[0]);
  return marks;
}

interface Line {
  start: number;
  end: number;
  /** Where the text starts, after the quote and list marks and indentation. */
  content: number;
  /** The text's end without trailing spaces. */
  contentEnd: number;
  /** Leading indentation in columns (a tab is 4). */
  indent: number;
  /** Whether the line starts a list item. */
  item: boolean;
}

function readLine(text: string, start: number, end: number): Line {
  let p = start;
  let indent = 0;
  while (p < end && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 9)) {
    indent += text.charCodeAt(p) === 9 ? 4 : 1;
    p++;
  }
  let item = false;
  while (p < end) {
    const code = text.charCodeAt(p);
    if (code === 62) { // >
      p++;
      if (text.charCodeAt(p) === 32) p++;
    } else if (!item) {
      const rest = text.slice(p, Math.min(end, p + 12));
      const marker = LIST_MARKER.exec(rest);
      if (!marker || THEMATIC.test(text.slice(p, end))) break;
      item = true;
      p += marker[0].length;
    } else break;
    while (p < end && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 9)) p++;
  }
  let contentEnd = end;
  while (contentEnd > p && isSpace(text.charCodeAt(contentEnd - 1))) contentEnd--;
  return { start, end, content: p, contentEnd, indent, item };
}

/** The marks of a continuation line, from those of a first line (list markers become spaces). */
function continuationOf(prefix: string): string {
  return prefix.replace(/(?:[-+*]|\d{1,9}[.)])(?=[ \t]|$)/, (marker) => " ".repeat(marker.length));
}

function unitOf(text: string, lines: Span[], heading: boolean, continuation: string): MarkdownUnit {
  const sent = lines.map(([s, e]) => text.slice(s, e)).join("\n");
  return {
    start: lines[0][0],
    end: lines[lines.length - 1][1],
    sent,
    words: sent,
    lines,
    heading,
    continuation,
  };
}

/** The blocks of a Markdown document. */
export function markdownBlocks(text: string): MarkdownUnit[] {
  const units: MarkdownUnit[] = [];
  const n = text.length;
  let paragraph: { lines: Span[]; first: Line; second?: Line } | undefined;
  let fence: { char: string; length: number } | undefined;
  let mode: "html" | "table" | "front" | undefined;
  let listContext = false;
  /** The column where the text of the last list item starts. */
  let listContent = 0;
  let previousBlank = true;
  const close = () => {
    if (!paragraph) return;
    const first = paragraph.first;
    const continuation = paragraph.second
      ? text.slice(paragraph.second.start, paragraph.second.content)
      : continuationOf(text.slice(first.start, first.content));
    units.push(unitOf(text, paragraph.lines, false, "\n" + continuation));
    paragraph = undefined;
  };
  let start = 0;
  let index = 0;
  while (start <= n) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = n;
    const line = readLine(text, start, end);
    const content = text.slice(line.content, line.contentEnd);
    const blank = line.content === line.contentEnd;
    const next = () => {
      previousBlank = blank;
      start = end + 1;
      index++;
    };
    if (fence) {
      const closing = FENCE.exec(content);
      if (
        closing && closing[1][0] === fence.char && closing[1].length >= fence.length &&
        content.slice(closing[1].length).trim() === ""
      ) fence = undefined;
      next();
      continue;
    }
    if (mode === "front") {
      if (/^(?:---|\.\.\.)[ \t]*$/.test(text.slice(start, end))) mode = undefined;
      next();
      continue;
    }
    if (mode === "html") {
      if (blank) mode = undefined;
      next();
      continue;
    }
    if (mode === "table") {
      if (!blank && content.includes("|")) {
        next();
        continue;
      }
      mode = undefined;
    }
    if (
      index === 0 && /^---[ \t]*$/.test(text.slice(start, end)) &&
      /\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.test(text.slice(end))
    ) {
      mode = "front";
      next();
      continue;
    }
    if (blank) {
      close();
      next();
      continue;
    }
    if (
      !paragraph && previousBlank && !line.item &&
      line.indent >= (listContext ? listContent + 4 : 4)
    ) {
      next(); // indented code (in a list item: four columns past the item's text)
      continue;
    }
    const fenceOpen = FENCE.exec(content);
    if (
      fenceOpen && !(fenceOpen[1][0] === "`" && content.slice(fenceOpen[1].length).includes("`"))
    ) {
      close();
      fence = { char: fenceOpen[1][0], length: fenceOpen[1].length };
      next();
      continue;
    }
    const atx = ATX.exec(content);
    if (atx) {
      close();
      const from = line.content + atx[0].length;
      const closing = ATX_CLOSE.exec(text.slice(from, line.contentEnd));
      const to = closing ? from + closing.index : line.contentEnd;
      let tight = to;
      while (tight > from && isSpace(text.charCodeAt(tight - 1))) tight--;
      if (tight > from) units.push(unitOf(text, [[from, tight]], true, "\n"));
      listContext = false;
      next();
      continue;
    }
    if (THEMATIC.test(content) || (paragraph && !line.item && SETEXT.test(content))) {
      close();
      next();
      continue;
    }
    const following = end < n ? text.indexOf("\n", end + 1) : -1;
    const nextLine = end < n ? readLine(text, end + 1, following < 0 ? n : following) : undefined;
    if (
      content.includes("|") && nextLine &&
      TABLE_DELIMITER.test(text.slice(nextLine.content, nextLine.contentEnd))
    ) {
      close();
      mode = "table";
      next();
      continue;
    }
    if (!paragraph && (HTML_BLOCK.test(content) || LINK_DEFINITION.test(content))) {
      if (HTML_BLOCK.test(content)) mode = "html";
      next();
      continue;
    }
    if (line.item) {
      close();
      listContext = true;
      listContent = line.content - line.start;
    } else if (!paragraph && line.indent === 0) listContext = false;
    if (paragraph) {
      paragraph.lines.push([line.content, line.contentEnd]);
      paragraph.second ??= line;
    } else paragraph = { lines: [[line.content, line.contentEnd]], first: line };
    next();
  }
  close();
  return units;
}

/** The part of a unit's lines in `[start, end)` (for pieces of a long block). */
function clip(unit: MarkdownUnit, start: number, end: number): Span[] {
  const out: Span[] = [];
  for (const [s, e] of unit.lines) {
    const a = Math.max(s, start);
    const b = Math.min(e, end);
    if (a < b) out.push([a, b]);
  }
  return out;
}

const LIST_START = /^(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)/;

/**
 * What makes a line start a block of its own (or end the one it is in) in
 * Markdown: a heading's `#`, a list marker, a quote's `>`, a fence, a
 * thematic break, a setext underline, a table's delimiter row, an HTML
 * block's tag; "" for a line of paragraph text.
 */
export function blockMarkOf(line: string): string {
  const trimmed = line.trimStart();
  for (const pattern of [ATX, LIST_START, FENCE, HTML_BLOCK]) {
    const match = pattern.exec(trimmed);
    if (match) return match[0].trim();
  }
  if (trimmed.startsWith(">")) return ">";
  if (THEMATIC.test(trimmed) || SETEXT.test(trimmed) || TABLE_DELIMITER.test(trimmed)) {
    return trimmed.trim();
  }
  return "";
}

/** A unit's new text for one answer paragraph, or undefined when its marks or blocks changed. */
function replaceUnit(text: string, unit: MarkdownUnit, answer: string): string | undefined {
  const marks = inlineMarks(unit.sent);
  const said = inlineMarks(answer);
  if (marks.length !== said.length || marks.some((mark, i) => mark !== said[i])) return undefined;
  // The answer's lines must not start blocks its chunk's lines did not: a
  // paragraph that became a heading, a list, a quote or a fence is refused.
  const sentLines = unit.sent.split("\n");
  const answerLines = answer.split("\n");
  for (let i = 0; i < answerLines.length; i++) {
    const mark = blockMarkOf(answerLines[i]);
    if (mark !== "" && mark !== blockMarkOf(sentLines[i] ?? "")) return undefined;
  }
  let lines = answerLines.map((line) => line.trim());
  if (unit.heading) lines = [lines.join(" ")];
  if (lines.length === unit.lines.length) {
    let out = lines[0];
    for (let i = 1; i < lines.length; i++) {
      out += text.slice(unit.lines[i - 1][1], unit.lines[i][0]) + lines[i];
    }
    return out;
  }
  return lines.join(unit.continuation);
}

/** The Markdown format. */
export function markdownFormat(): DocumentFormatHandler {
  return {
    blocks: markdownBlocks,
    gap: () => "\n\n",
    pieces(text, block, max, measure): Unit[] {
      const unit = block as MarkdownUnit;
      const sentOf = (start: number, end: number) =>
        clip(unit, start, end).map(([s, e]) => text.slice(s, e)).join("\n");
      return longBlockPieces(
        text,
        unit.start,
        unit.end,
        unit.lines,
        max,
        ([s, e]) => measure(sentOf(s, e)),
      ).map(([s, e]) => unitOf(text, clip(unit, s, e), unit.heading, unit.continuation));
    },
    chunk(text, units, parent): ChunkPlan {
      const start = units[0].start;
      const end = units[units.length - 1].end;
      const logical = (parent
        ? [
          unitOf(
            text,
            clip(parent as MarkdownUnit, start, end),
            (parent as MarkdownUnit).heading,
            (parent as MarkdownUnit).continuation,
          ),
        ]
        : units) as MarkdownUnit[];
      const sent = logical.map((unit) => unit.sent).join("\n\n");
      return {
        start,
        end,
        sent,
        apply(raw: string): Outcome {
          const answer = unfence(raw, sent).trim();
          if (answer === "") return { kept: "empty answer" };
          const parts = answer.split(PARAGRAPH_BREAK);
          if (parts.length !== logical.length) return { kept: "markup changed" };
          let out = "";
          for (let i = 0; i < logical.length; i++) {
            const replaced = replaceUnit(text, logical[i], parts[i].trim());
            if (replaced === undefined) return { kept: "markup changed" };
            if (i > 0) out += text.slice(logical[i - 1].end, logical[i].start);
            out += replaced;
          }
          return { replacement: out };
        },
      };
    },
    append(text, units): AppendPlan {
      const last = units[units.length - 1] as MarkdownUnit;
      // After the end of the text: a code block or a table may follow the last paragraph.
      let at = text.length;
      while (at > last.end && isSpace(text.charCodeAt(at - 1))) at--;
      return {
        at,
        sent: text,
        apply(raw: string): Outcome {
          const answer = unfence(raw, text).trim();
          if (answer === "") return { kept: "empty answer" };
          const paragraph = last.heading || at > last.end || PARAGRAPH_BREAK.test(answer);
          return { replacement: appendJoiner(text.slice(0, at), answer, paragraph) + answer };
        },
      };
    },
  };
}
