// What each document format provides to the engine (process.ts): its blocks,
// the text sent between two blocks of one chunk, the pieces of a block that
// is too long, the plan of a chunk, and how an answer goes back in.
import type { KeptReason } from "./types.ts";

/** A block of the document (or a piece of a long block), as the engine groups it. */
export interface Unit {
  /** Where it starts in the document (UTF-16 offset). */
  readonly start: number;
  /** Where it ends (exclusive). */
  readonly end: number;
  /** Its text as sent (markup the model must keep; content never sent left out). */
  readonly sent: string;
  /** Its words without markup: they set the boundary priority (see _chunker.ts). */
  readonly words: string;
}

/** What an answer becomes: the chunk's new text, or why the original stays. */
export type Outcome = { replacement: string } | { kept: KeptReason };

/** One request's worth of the document. */
export interface ChunkPlan {
  /** Where the chunk starts in the document. */
  readonly start: number;
  /** Where it ends (exclusive). */
  readonly end: number;
  /** The text sent with the prompt. */
  readonly sent: string;
  /** Puts an answer back: the chunk's new text, or why it keeps its original. */
  apply(answer: string): Outcome;
}

/** Where an `append` answer goes, and what is sent. */
export interface AppendPlan {
  /** The insertion point in the document (the answer may choose another: `at` of its outcome). */
  readonly at: number;
  /** The text sent with the prompt (the whole document, content never sent left out). */
  readonly sent: string;
  /** What is inserted for an answer (with its joining space) and where, or why nothing is. */
  apply(answer: string): Outcome & { at?: number };
}

/** A document format: html, markdown or text. */
export interface DocumentFormatHandler {
  /** The blocks of `text`, in order. */
  blocks(text: string): Unit[];
  /** What is sent between blocks `a` and `b` (next to each other) of one chunk. */
  gap(text: string, a: Unit, b: Unit): string;
  /**
   * The pieces of a block too long for one chunk, cut at sentence ends (then
   * at spaces, then anywhere) so that each is at most `max` long where it can
   * be; they tile the block, with the spaces at the cuts between them.
   */
  pieces(text: string, block: Unit, max: number, measure: (text: string) => number): Unit[];
  /** The plan of a chunk of blocks `units` (or of pieces of block `parent`). */
  chunk(text: string, units: readonly Unit[], parent?: Unit): ChunkPlan;
  /** The plan of an `append` run over blocks `units` (at least one). */
  append(text: string, units: readonly Unit[]): AppendPlan;
}

/**
 * An answer wrapped in a code fence (as models often do) without the fence,
 * unless the text sent began with one too.
 */
export function unfence(answer: string, sent: string): string {
  const trimmed = answer.trim();
  if (!trimmed.startsWith("```") || sent.trimStart().startsWith("```")) return answer;
  const firstLine = trimmed.indexOf("\n");
  if (firstLine < 0 || !/^```[\w-]*$/.test(trimmed.slice(0, firstLine).trimEnd())) return answer;
  const body = trimmed.slice(firstLine + 1);
  const close = body.lastIndexOf("\n");
  if (close < 0 || body.slice(close + 1).trim() !== "```") {
    return body.trimEnd().endsWith("```") ? body.trimEnd().slice(0, -3) : answer;
  }
  return body.slice(0, close);
}

/** Leading whitespace of `text` (from its start). */
export function leadingSpace(text: string): string {
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return text.slice(0, i);
}

/** Trailing whitespace of `text`. */
export function trailingSpace(text: string): string {
  let i = text.length;
  while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
  return text.slice(i);
}

/** Whether a UTF-16 unit is whitespace (as `String.prototype.trim` sees it, for the common cases). */
export function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 ||
    code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/** The joining space between a text and an answer appended to it. */
export function appendJoiner(before: string, answer: string, paragraph: boolean): string {
  if (paragraph) return "\n\n";
  if (answer === "" || isSpace(answer.charCodeAt(0))) return "";
  if (before === "" || isSpace(before.charCodeAt(before.length - 1))) return "";
  return " ";
}
