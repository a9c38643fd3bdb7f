// HTML documents: a one-pass tokenizer (text, tags, and the content of
// elements that is never sent), the blocks it makes, and how an answer goes
// back: the answer must have the same tags in the same order; then only the
// text between tags is taken from it, and every tag, every space between
// blocks and every element never sent is the original, byte for byte.
import {
  appendJoiner,
  type AppendPlan,
  type ChunkPlan,
  type DocumentFormatHandler,
  isSpace,
  leadingSpace,
  type Outcome,
  trailingSpace,
  unfence,
  type Unit,
} from "./_format.ts";
import { longBlockPieces, type Span } from "./_pieces.ts";
import { sharedEnds } from "./_runs.ts";

const TEXT = 0;
const TAG = 1;
const OPAQUE = 2;

/** A token: text, a tag (or comment, doctype), or the content of an element never sent. */
export interface Token {
  /** TEXT, TAG or OPAQUE. */
  kind: number;
  /** Start offset in the document. */
  start: number;
  /** End offset (exclusive). */
  end: number;
  /** A tag's name in lower case (`"!--"` for a comment, `"!"` or `"?"` for others); "" otherwise. */
  name: string;
  /** Whether the tag is a closing tag. */
  close: boolean;
}

// Elements whose content is never sent: raw text (no nesting), and elements
// whose content is code or not prose (nesting counted).
const RAW = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "noscript",
  "iframe",
  "noembed",
  "noframes",
]);
const NESTED = new Set([
  "pre",
  "code",
  "kbd",
  "samp",
  "svg",
  "math",
  "template",
  "object",
  "select",
  "video",
  "audio",
  "canvas",
  "head",
]);

// Elements that end a run of inline content.
const BLOCK = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "body",
  "caption",
  "center",
  "col",
  "colgroup",
  "dd",
  "details",
  "dialog",
  "dir",
  "div",
  "dl",
  "dt",
  "fieldset",
  "figcaption",
  "figure",
  "footer",
  "form",
  "frameset",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "head",
  "header",
  "hgroup",
  "hr",
  "html",
  "legend",
  "li",
  "listing",
  "main",
  "menu",
  "nav",
  "ol",
  "optgroup",
  "option",
  "p",
  "pre",
  "search",
  "section",
  "select",
  "summary",
  "table",
  "tbody",
  "td",
  "template",
  "tfoot",
  "th",
  "thead",
  "tr",
  "ul",
]);

// Elements that have no closing tag.
const VOID = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);

// Closing tags after the last block that an appended block of its own goes after.
const ENDS_AFTER = new Set([
  "p",
  "li",
  "ul",
  "ol",
  "dl",
  "dd",
  "dt",
  "table",
  "tbody",
  "thead",
  "tfoot",
  "tr",
  "td",
  "th",
  "blockquote",
  "figure",
  "figcaption",
  "details",
  "summary",
]);

function isNameStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 48 && code <= 57) || code === 45 || code === 58 ||
    code === 95 || code === 46;
}

/** The end of the tag starting at `lt` (after its `>`), or -1 when it never ends. */
function tagEnd(text: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === 62) return i + 1; // >
    if (code === 34 || code === 39) { // " '
      const close = text.indexOf(code === 34 ? '"' : "'", i + 1);
      if (close < 0 || close >= to) return text.indexOf(">", i) < 0 ? -1 : text.indexOf(">", i) + 1;
      i = close;
    }
  }
  return -1;
}

const closers = new Map<string, RegExp>();

/** Where the closing tag of the element `name` opened before `from` starts, or -1. */
function findClose(text: string, name: string, from: number, to: number): number {
  let pattern = closers.get(name);
  if (!pattern) {
    pattern = new RegExp(`<(/?)${name}(?=[\\s/>])`, "gi");
    closers.set(name, pattern);
  }
  const nested = NESTED.has(name);
  let depth = 1;
  pattern.lastIndex = from;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null && match.index < to) {
    if (match[1] === "/") {
      if (--depth === 0) return match.index;
    } else if (nested) {
      // An opening tag counts unless it closes itself.
      const end = tagEnd(text, match.index + 1, to);
      if (end > 0 && text.charCodeAt(end - 2) !== 47) depth++;
    }
  }
  return -1;
}

/** The tokens of `text`, in one pass. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  tokenizeInto(text, 0, tokens);
  return tokens;
}

/**
 * Appends the tokens of `text` from `from` (where a token starts) to
 * `tokens`. With `resync`, stops before a text or tag token for which
 * `resync(start)` is true (its tokens from there on are known) and returns
 * true.
 */
function tokenizeInto(
  text: string,
  from: number,
  tokens: Token[],
  resync?: (start: number) => boolean,
): boolean {
  const to = text.length;
  let i = from;
  let textStart = from;
  const push = (kind: number, start: number, end: number, name: string, close: boolean) => {
    if (resync !== undefined && kind !== OPAQUE && resync(start)) return true;
    tokens.push({ kind, start, end, name, close });
    return false;
  };
  while (i < to) {
    const lt = text.indexOf("<", i);
    if (lt < 0) break;
    const next = text.charCodeAt(lt + 1);
    let end = -1;
    let name = "";
    let close = false;
    if (isNameStart(next) || (next === 47 && isNameStart(text.charCodeAt(lt + 2)))) {
      close = next === 47;
      let n = lt + (close ? 2 : 1);
      const nameStart = n;
      while (n < to && isNameChar(text.charCodeAt(n))) n++;
      name = text.slice(nameStart, n).toLowerCase();
      end = tagEnd(text, n, to);
    } else if (text.startsWith("!--", lt + 1)) {
      const close = text.indexOf("-->", lt + 4);
      end = close < 0 ? -1 : close + 3;
      name = "!--";
    } else if (next === 33 || next === 63) { // ! ?
      const close = text.indexOf(">", lt + 2);
      end = close < 0 ? -1 : close + 1;
      name = next === 33 ? "!" : "?";
    } else {
      i = lt + 1;
      continue;
    }
    if (end < 0) break; // an unterminated tag: the rest is text
    if (lt > textStart && push(TEXT, textStart, lt, "", false)) return true;
    if (push(TAG, lt, end, name, close)) return true;
    i = end;
    if (!close && (RAW.has(name) || NESTED.has(name)) && text.charCodeAt(end - 2) !== 47) {
      const closeAt = findClose(text, name, end, to);
      const contentEnd = closeAt < 0 ? to : closeAt;
      if (contentEnd > end) push(OPAQUE, end, contentEnd, "", false);
      i = contentEnd;
      if (closeAt >= 0) {
        const closeEnd = tagEnd(text, closeAt + 2 + name.length, to);
        const stop = closeEnd < 0 ? to : closeEnd;
        if (push(TAG, closeAt, stop, name, true)) return true;
        i = stop;
      }
    }
    textStart = i;
  }
  return to > textStart && push(TEXT, textStart, to, "", false);
}

const ATTRIBUTE = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

/** A tag as compared: its name and attributes, sorted, whatever the quoting and spacing. */
export function normalizeTag(raw: string, name: string, close: boolean): string {
  if (name === "!--" || name === "!" || name === "?") return raw;
  if (close) return `/${name}`;
  const inner = raw.slice(1 + name.length, raw.endsWith("/>") ? -2 : -1);
  const attributes: string[] = [];
  ATTRIBUTE.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = ATTRIBUTE.exec(inner)) !== null) {
    const value = match[2] ?? match[3] ?? match[4];
    attributes.push(
      value === undefined ? match[1].toLowerCase() : `${match[1].toLowerCase()}=${value}`,
    );
  }
  attributes.sort();
  return `${name} ${attributes.join(" ")}`;
}

function isBlockTag(token: Token): boolean {
  return token.kind === TAG && BLOCK.has(token.name);
}

function hasText(text: string, token: Token): boolean {
  if (token.kind !== TEXT) return false;
  for (let i = token.start; i < token.end; i++) if (!isSpace(text.charCodeAt(i))) return true;
  return false;
}

/** A block of an HTML document: a run of inline content, with its element's tags when it fills it. */
interface HtmlUnit extends Unit {
  /** The first token of its run. */
  readonly first: number;
  /** The last token of its run. */
  readonly last: number;
}

/** The parsed document, kept for the plans of its chunks. */
interface Parsed {
  text: string;
  tokens: Token[];
  /** The start offset of each token, for binary search. */
  starts: Int32Array;
  /** Its blocks. */
  blocks: HtmlUnit[];
}

const parsedDocuments = new WeakMap<object, Parsed>();

function tokenIndexAt(parsed: Parsed, offset: number): number {
  // The last token starting at or before `offset`.
  const starts = parsed.starts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** One item of a chunk as sent: an original stretch, or a tag added at a cut. */
interface Item {
  /** TEXT, TAG or OPAQUE; SYNTHETIC for an added tag. */
  kind: number;
  start: number;
  end: number;
  /** For an added tag: its text. */
  synthetic?: string;
  /** For tags: the token's name and whether it closes. */
  name: string;
  close: boolean;
  /** Whether the stretch is in a block (not in the space between two blocks). */
  inBlock: boolean;
}

const SYNTHETIC = 3;

/** The items of `[start, end)` (token stretches cut to it), marking what is inside `blocks`. */
function itemsOf(parsed: Parsed, start: number, end: number, blocks: readonly Span[]): Item[] {
  const items: Item[] = [];
  if (start >= end) return items;
  let b = 0;
  for (let t = tokenIndexAt(parsed, start); t < parsed.tokens.length; t++) {
    const token = parsed.tokens[t];
    if (token.start >= end) break;
    const s = Math.max(token.start, start);
    const e = Math.min(token.end, end);
    if (s >= e) continue;
    // Text may straddle a block's edge (the spaces around an inline run): cut it there.
    let at = s;
    while (at < e) {
      while (b < blocks.length && blocks[b][1] <= at) b++;
      const block = b < blocks.length ? blocks[b] : undefined;
      const inBlock = block !== undefined && block[0] <= at;
      let stop = e;
      if (token.kind === TEXT && block !== undefined) {
        stop = Math.min(e, inBlock ? block[1] : block[0]);
      }
      items.push({
        kind: token.kind,
        start: at,
        end: stop,
        name: token.name,
        close: token.close,
        inBlock,
      });
      at = stop;
    }
  }
  return items;
}

function sentOf(text: string, items: readonly Item[]): string {
  let out = "";
  for (const item of items) {
    if (item.kind === SYNTHETIC) out += item.synthetic!;
    else if (item.kind !== OPAQUE) out += text.slice(item.start, item.end);
  }
  return out;
}

/** Whether tokens `from` to `to` (inclusive) hold content never sent. */
function holdsOpaque(tokens: readonly Token[], from: number, to: number): boolean {
  for (let k = Math.max(0, from); k <= to && k < tokens.length; k++) {
    if (tokens[k].kind === OPAQUE) return true;
  }
  return false;
}

/** The sent text of `[start, end)`, whose tokens are `first` to `last`: the stretch itself unless content never sent is in it. */
function sentBetween(
  parsed: Parsed,
  start: number,
  end: number,
  first: number,
  last: number,
): string {
  if (!holdsOpaque(parsed.tokens, first, last)) return parsed.text.slice(start, end);
  return sentOf(parsed.text, itemsOf(parsed, start, end, []));
}

/** The text stretches of tokens `first` to `last` within `[start, end)`. */
function textsOf(parsed: Parsed, first: number, last: number, start: number, end: number): Span[] {
  const texts: Span[] = [];
  for (let k = first; k <= last; k++) {
    const token = parsed.tokens[k];
    if (token.kind !== TEXT) continue;
    const s = Math.max(token.start, start);
    const e = Math.min(token.end, end);
    if (s < e) texts.push([s, e]);
  }
  return texts;
}

/** The first words of a run (its priority's input): up to 64 units of its text. */
function firstWords(
  parsed: Parsed,
  first: number,
  last: number,
  start: number,
  end: number,
): string {
  let out = "";
  for (let k = first; k <= last && out.length < 64; k++) {
    const token = parsed.tokens[k];
    if (token.kind !== TEXT) continue;
    const s = Math.max(token.start, start);
    const e = Math.min(token.end, end, s + 64 - out.length);
    if (s < e) out += parsed.text.slice(s, e);
  }
  return out;
}

/**
 * The blocks of a parsed document, from token `from` (the start, or a
 * block-level tag) on. With `stop`, ends at the first block-level tag at or
 * after token `stop`, and returns that tag's index as `stopped` (else the
 * number of tokens).
 */
function blocksIn(
  parsed: Parsed,
  from = 0,
  stop = Infinity,
): { units: HtmlUnit[]; stopped: number } {
  const { text, tokens } = parsed;
  const units: HtmlUnit[] = [];
  let t = from;
  while (t < tokens.length) {
    // A run: tokens up to the next block-level tag.
    if (isBlockTag(tokens[t])) {
      if (t >= stop) return { units, stopped: t };
      t++;
      continue;
    }
    const runStart = t;
    let found = false;
    while (t < tokens.length && !isBlockTag(tokens[t])) {
      if (!found && hasText(text, tokens[t])) found = true;
      t++;
    }
    if (!found) continue;
    const runEnd = t - 1;
    const before = runStart > 0 ? tokens[runStart - 1] : undefined;
    const after = t < tokens.length ? tokens[t] : undefined;
    const opens = before !== undefined && !before.close && !VOID.has(before.name);
    let start: number;
    let end: number;
    if (opens) start = before.start;
    else {
      // From the first non-space character of the run.
      let k = runStart;
      while (tokens[k].kind === TEXT && !hasText(text, tokens[k])) k++;
      start = tokens[k].start;
      if (tokens[k].kind === TEXT) {
        while (isSpace(text.charCodeAt(start))) start++;
      }
    }
    if (opens && after !== undefined && after.close && after.name === before.name) end = after.end;
    else {
      let k = runEnd;
      while (tokens[k].kind === TEXT && !hasText(text, tokens[k])) k--;
      end = tokens[k].end;
      if (tokens[k].kind === TEXT) {
        while (isSpace(text.charCodeAt(end - 1))) end--;
      }
    }
    units.push({
      start,
      end,
      sent: sentBetween(parsed, start, end, runStart, runEnd),
      words: firstWords(parsed, runStart, runEnd, start, end),
      first: runStart,
      last: runEnd,
    });
  }
  return { units, stopped: tokens.length };
}

/** Documents parsed lately, to parse an edited one again from them (the last few). */
const recent: Parsed[] = [];
const RECENT = 4;

/** Forgets the documents parsed lately. */
export function clearParses(): void {
  recent.length = 0;
}

/** The index of the token that starts at `offset`, or -1. */
function tokenStartingAt(parsed: Parsed, offset: number): number {
  const at = tokenIndexAt(parsed, offset);
  return parsed.starts[at] === offset ? at : -1;
}

function finish(text: string, tokens: Token[], blocks?: HtmlUnit[]): Parsed {
  const starts = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) starts[i] = tokens[i].start;
  const parsed: Parsed = { text, tokens, starts, blocks: [] };
  parsed.blocks = blocks ?? blocksIn(parsed).units;
  return parsed;
}

/**
 * Parses `text`; when it is an edit of a document parsed lately, only the
 * part around the edit is read again: the tokens and blocks before it are
 * taken as they were, and those after it shifted. The result is the same as
 * reading the whole text (`tests/document_formats_test.ts` checks it).
 */
function parse(text: string): Parsed {
  let best: Parsed | undefined;
  let bestShared = 0;
  let ends = { prefix: 0, suffix: 0 };
  for (const old of recent) {
    if (old.text === text) return old;
    const shared = sharedEnds(old.text, text);
    if (shared.prefix + shared.suffix > bestShared) {
      best = old;
      bestShared = shared.prefix + shared.suffix;
      ends = shared;
    }
  }
  const parsed = best !== undefined && bestShared * 2 >= text.length
    ? reparse(best, text, ends.prefix, ends.suffix)
    : finish(text, tokenize(text));
  recent.unshift(parsed);
  if (recent.length > RECENT) recent.pop();
  return parsed;
}

/** Whether reading starts afresh after token `at`: a tag that opens no content never sent. */
function freshAfter(parsed: Parsed, at: number): boolean {
  const token = parsed.tokens[at];
  if (token.kind !== TAG) return false;
  if (token.close || !(RAW.has(token.name) || NESTED.has(token.name))) return true;
  return parsed.text.charCodeAt(token.end - 2) === 47; // <pre/> opens nothing
}

/** Parses `text` whole, and as an edit of `old` (for tests: the two must agree). */
export function parseBoth(
  old: string,
  text: string,
): { whole: { tokens: Token[]; blocks: Unit[] }; edited: { tokens: Token[]; blocks: Unit[] } } {
  const before = finish(old, tokenize(old));
  const { prefix, suffix } = sharedEnds(old, text);
  return { whole: finish(text, tokenize(text)), edited: reparse(before, text, prefix, suffix) };
}

function reparse(old: Parsed, text: string, prefix: number, suffix: number): Parsed {
  const shift = text.length - old.text.length;
  const after = text.length - suffix; // the changed part ends here
  // Tokens that end before the edit (the character after each is unchanged too) stay, up to
  // a tag after which reading starts afresh: not text (where it ends depends on what follows),
  // nor the tag that opens content never sent.
  let kept = tokenIndexAt(old, prefix);
  if (kept < old.tokens.length && old.tokens[kept].end < prefix) kept++;
  while (kept > 0 && (old.tokens[kept - 1].end >= prefix || !freshAfter(old, kept - 1))) kept--;
  const tokens = old.tokens.slice(0, kept);
  let resumed = -1; // the old token the new tokens join
  const stopped = tokenizeInto(text, kept > 0 ? old.tokens[kept - 1].end : 0, tokens, (start) => {
    if (start < after) return false;
    const at = tokenStartingAt(old, start - shift);
    if (at < 0 || old.tokens[at].kind === OPAQUE) return false;
    resumed = at;
    return true;
  });
  const joined = tokens.length; // where the old tokens from `resumed` go
  const tokenShift = joined - resumed;
  if (stopped) {
    for (let k = resumed; k < old.tokens.length; k++) {
      const token = old.tokens[k];
      tokens.push({
        kind: token.kind,
        start: token.start + shift,
        end: token.end + shift,
        name: token.name,
        close: token.close,
      });
    }
  }
  const parsed = finish(text, tokens, []);
  // Blocks whose run (and the tags around it) lie in the tokens kept stay.
  let same = 0;
  while (same < old.blocks.length && old.blocks[same].last + 1 < kept) same++;
  const blocks = old.blocks.slice(0, same);
  const from = same > 0 ? old.blocks[same - 1].last + 1 : 0;
  const middle = blocksIn(parsed, from, stopped ? joined : Infinity);
  blocks.push(...middle.units);
  if (stopped && middle.stopped < tokens.length) {
    // Blocks from the old run past the same tag, moved.
    const oldStop = middle.stopped - tokenShift;
    for (const block of old.blocks) {
      if (block.first <= oldStop) continue;
      const start = block.start + shift;
      const end = block.end + shift;
      const first = block.first + tokenShift;
      const last = block.last + tokenShift;
      blocks.push({
        start,
        end,
        sent: sentBetween(parsed, start, end, first, last),
        words: (" " + block.words).slice(1),
        first,
        last,
      });
    }
  }
  parsed.blocks = blocks;
  return parsed;
}

/** The open inline tags (as items) at `offset` inside the block `[start, end)`. */
function openTagsAt(parsed: Parsed, start: number, offset: number): Item[] {
  const stack: Item[] = [];
  for (const item of itemsOf(parsed, start, offset, [[start, offset]])) {
    if (item.kind !== TAG || item.name === "!--" || item.name === "!" || item.name === "?") {
      continue;
    }
    if (VOID.has(item.name) || parsed.text.charCodeAt(item.end - 2) === 47) continue;
    if (!item.close) stack.push(item);
    else {
      const at = stack.findLastIndex((open) => open.name === item.name);
      if (at >= 0) stack.length = at;
    }
  }
  return stack;
}

function tagText(text: string, item: Item): string {
  return item.kind === SYNTHETIC ? item.synthetic! : text.slice(item.start, item.end);
}

function tagsMatch(
  text: string,
  sent: readonly Item[],
  answer: string,
  answerTags: Token[],
): boolean {
  if (sent.length !== answerTags.length) return false;
  for (let i = 0; i < sent.length; i++) {
    const a = tagText(text, sent[i]);
    const tag = answerTags[i];
    const b = answer.slice(tag.start, tag.end);
    if (a === b) continue;
    if (sent[i].name !== tag.name || sent[i].close !== tag.close) return false;
    if (normalizeTag(a, sent[i].name, sent[i].close) !== normalizeTag(b, tag.name, tag.close)) {
      return false;
    }
  }
  return true;
}

/**
 * An answer's text as HTML text: every `<` written `&lt;`, so that no part of
 * it (an unterminated tag, `</ p>`, `<!--`) can become markup, however a
 * browser reads it. Entities the model kept (`&amp;`) stay as they are.
 */
export function escapeText(text: string): string {
  return text.includes("<") ? text.replaceAll("<", "&lt;") : text;
}

/**
 * Puts an answer back into the items it was asked about: the original tags,
 * spaces between blocks and content never sent, with the answer's text
 * between each pair of tags.
 */
function reassemble(
  text: string,
  items: readonly Item[],
  rawAnswer: string,
  sent: string,
): Outcome {
  const answer = unfence(rawAnswer, sent);
  if (answer.trim() === "") return { kept: "empty answer" };
  const answerTokens = tokenize(answer);
  const answerTags = answerTokens.filter((token) => token.kind === TAG);
  const sentTags = items.filter((item) => item.kind === TAG || item.kind === SYNTHETIC);
  if (!tagsMatch(text, sentTags, answer, answerTags)) return { kept: "markup changed" };
  // The answer's text between each pair of tags (its content never sent is ignored).
  const slots: string[] = [""];
  for (const token of answerTokens) {
    if (token.kind === TAG) slots.push("");
    else if (token.kind === TEXT) slots[slots.length - 1] += answer.slice(token.start, token.end);
  }
  let out = "";
  let slot = 0;
  let group: Item[] = [];
  // Text before the first tag is in a block only when the chunk starts with text.
  let previousTagInBlock = false;
  const flush = (nextTagInBlock: boolean): boolean => {
    const said = slots[slot];
    const block = group.find((item) => item.kind === TEXT && item.inBlock);
    const opaque = group.find((item) => item.kind === OPAQUE);
    if (opaque) {
      for (const item of group) out += text.slice(item.start, item.end);
    } else if (block) {
      const original = text.slice(block.start, block.end);
      const lead = leadingSpace(original);
      const trail = lead.length === original.length ? "" : trailingSpace(original);
      for (const item of group) {
        if (item === block) out += lead + escapeText(said.trim()) + trail;
        else out += text.slice(item.start, item.end);
      }
    } else if (group.length === 0 && previousTagInBlock && nextTagInBlock) {
      out += escapeText(said); // text the answer put between two tags of a block
    } else {
      if (said.trim() !== "") return false; // text between blocks
      for (const item of group) out += text.slice(item.start, item.end);
    }
    group = [];
    return true;
  };
  for (const item of items) {
    if (item.kind === TAG || item.kind === SYNTHETIC) {
      if (!flush(item.inBlock)) return { kept: "markup changed" };
      if (item.kind === TAG) out += text.slice(item.start, item.end);
      previousTagInBlock = item.inBlock;
      slot++;
    } else group.push(item);
  }
  if (!flush(false)) return { kept: "markup changed" };
  return { replacement: out };
}

/** Whether two tags are the same: the same text, or the same name and attributes. */
function sameTag(a: string, aName: string, aClose: boolean, b: string, bToken: Token): boolean {
  if (a === b) return true;
  if (aName !== bToken.name || aClose !== bToken.close) return false;
  return normalizeTag(a, aName, aClose) === normalizeTag(b, bToken.name, bToken.close);
}

/**
 * {@link reassemble} for a chunk of whole blocks, walking the document's
 * tokens (no items): the same result, with less to allocate.
 */
function reassembleBlocks(
  parsed: Parsed,
  start: number,
  end: number,
  spans: readonly Span[],
  rawAnswer: string,
  sent: string,
): Outcome {
  const text = parsed.text;
  const answer = unfence(rawAnswer, sent);
  if (answer.trim() === "") return { kept: "empty answer" };
  const said = tokenize(answer);
  let a = 0; // the next answer token
  // The answer's text up to its next tag (content never sent is skipped).
  const nextSlot = (): string => {
    let slot = "";
    while (a < said.length && said[a].kind !== TAG) {
      if (said[a].kind === TEXT) slot += answer.slice(said[a].start, said[a].end);
      a++;
    }
    return slot;
  };
  let out = "";
  // The original slot between two tags: gap text before its block text, the
  // block text, gap text after it, or content never sent.
  let before = "";
  let blockFrom = -1;
  let blockTo = -1;
  let after = "";
  let opaque = "";
  let hasOpaque = false;
  let previousTagInBlock = false;
  const flush = (nextTagInBlock: boolean): boolean => {
    const slot = nextSlot();
    if (hasOpaque) out += before + opaque + after;
    else if (blockFrom >= 0) {
      const original = text.slice(blockFrom, blockTo);
      if (slot === original) out += before + original + after;
      else {
        const lead = leadingSpace(original);
        const trail = lead.length === original.length ? "" : trailingSpace(original);
        out += before + lead + escapeText(slot.trim()) + trail + after;
      }
    } else if (before === "" && previousTagInBlock && nextTagInBlock) {
      out += escapeText(slot); // text the answer put between two tags of a block
    } else {
      if (slot.trim() !== "") return false; // text between blocks
      out += before;
    }
    before = after = opaque = "";
    blockFrom = blockTo = -1;
    hasOpaque = false;
    return true;
  };
  let b = 0;
  const tokens = parsed.tokens;
  for (let t = tokenIndexAt(parsed, start); t < tokens.length; t++) {
    const token = tokens[t];
    if (token.start >= end) break;
    const s = Math.max(token.start, start);
    const e = Math.min(token.end, end);
    if (s >= e) continue;
    while (b < spans.length && spans[b][1] <= s) b++;
    if (token.kind === TAG) {
      const inBlock = b < spans.length && spans[b][0] <= s;
      if (!flush(inBlock)) return { kept: "markup changed" };
      if (a >= said.length) return { kept: "markup changed" };
      const tag = said[a++];
      if (
        !sameTag(text.slice(s, e), token.name, token.close, answer.slice(tag.start, tag.end), tag)
      ) {
        return { kept: "markup changed" };
      }
      out += text.slice(s, e);
      previousTagInBlock = inBlock;
    } else if (token.kind === OPAQUE) {
      opaque += text.slice(s, e);
      hasOpaque = true;
    } else {
      // Text, cut where a block starts or ends inside it.
      let at = s;
      while (at < e) {
        while (b < spans.length && spans[b][1] <= at) b++;
        const span = b < spans.length ? spans[b] : undefined;
        if (span !== undefined && span[0] <= at) {
          const stop = Math.min(e, span[1]);
          blockFrom = at;
          blockTo = stop;
          at = stop;
        } else {
          const stop = span === undefined ? e : Math.min(e, span[0]);
          if (blockFrom >= 0) after += text.slice(at, stop);
          else before += text.slice(at, stop);
          at = stop;
        }
      }
    }
  }
  if (!flush(false)) return { kept: "markup changed" };
  // The answer has more tags than the chunk.
  if (a < said.length) return { kept: "markup changed" };
  return { replacement: out };
}

/** Tags an appended answer may use (see {@link safeAppend}). */
interface AllowedTags {
  /** Names whose tags may come without attributes (and whose closing tags may come). */
  readonly names: Set<string>;
  /** Tags with attributes that the document has: each as {@link normalizeTag} writes it, to its text. */
  readonly exact: Map<string, string>;
}

// Elements an answer may add without attributes though the document has none.
const PLAIN = ["p", "br", "strong", "em", "b", "i"];

/** The tags of a document that an appended answer may use: its own, sent ones. */
function allowedTags(parsed: Parsed): AllowedTags {
  const names = new Set(PLAIN);
  const exact = new Map<string, string>();
  for (const token of parsed.tokens) {
    if (token.kind !== TAG || token.close || !isNameStart(token.name.charCodeAt(0))) continue;
    if (RAW.has(token.name) || NESTED.has(token.name)) continue;
    if (token.name === "html" || token.name === "body" || token.name === "head") continue;
    const raw = parsed.text.slice(token.start, token.end);
    names.add(token.name);
    const normal = normalizeTag(raw, token.name, false);
    if (!exact.has(normal)) exact.set(normal, raw);
  }
  return { names, exact };
}

/**
 * An appended answer with only the markup the document itself uses: a tag
 * is kept when the document has the same tag (name and attributes), or it is
 * a tag of an element the document uses, without attributes (or `p`, `br`,
 * `strong`, `em`, `b`, `i`); every other tag, comment, and the content of
 * elements never sent (`<script>`...) is written as text (`<` as `&lt;`), as
 * is every `<` of the text. So no answer adds an element or an attribute (an
 * event handler, a `javascript:` link) that the document did not have.
 */
export function safeAppend(answer: string, allowed: AllowedTags): string {
  let out = "";
  for (const token of tokenize(answer)) {
    const raw = answer.slice(token.start, token.end);
    const name = token.name;
    if (
      token.kind === TAG && isNameStart(name.charCodeAt(0)) && !RAW.has(name) && !NESTED.has(name)
    ) {
      // Written as the document writes it (or bare), never as the answer does.
      if (token.close) {
        if (allowed.names.has(name)) {
          out += `</${name}>`;
          continue;
        }
      } else {
        const normal = normalizeTag(raw, name, false);
        const own = allowed.exact.get(normal);
        if (own !== undefined) {
          out += own;
          continue;
        }
        if (allowed.names.has(name) && normal === `${name} `) {
          out += raw.endsWith("/>") ? `<${name} />` : `<${name}>`;
          continue;
        }
      }
    }
    out += escapeText(raw);
  }
  return out;
}

function parsedFor(text: string, anchor: object): Parsed {
  let parsed = parsedDocuments.get(anchor);
  if (!parsed || parsed.text !== text) {
    parsed = parse(text);
    parsedDocuments.set(anchor, parsed);
  }
  return parsed;
}

/** The HTML format. One handler per run: it keeps the tokens of the document it read. */
export function htmlFormat(): DocumentFormatHandler {
  const anchor = {};
  return {
    blocks(text: string): Unit[] {
      return parsedFor(text, anchor).blocks;
    },
    gap(text: string, a: Unit, b: Unit): string {
      const first = (a as HtmlUnit).last;
      return sentBetween(parsedFor(text, anchor), a.end, b.start, first, (b as HtmlUnit).first);
    },
    pieces(text: string, block: Unit, max: number, measure: (text: string) => number): Unit[] {
      const parsed = parsedFor(text, anchor);
      const { first, last } = block as HtmlUnit;
      const texts = textsOf(parsed, first, last, block.start, block.end);
      const spanSent = (span: Span) => sentOf(text, itemsOf(parsed, span[0], span[1], [span]));
      return longBlockPieces(
        text,
        block.start,
        block.end,
        texts,
        max,
        (span) => measure(spanSent(span)),
      ).map((span): HtmlUnit => ({
        start: span[0],
        end: span[1],
        sent: spanSent(span),
        words: firstWords(parsed, first, last, span[0], span[1]),
        first,
        last,
      }));
    },
    chunk(text: string, units: readonly Unit[], parent?: Unit): ChunkPlan {
      const parsed = parsedFor(text, anchor);
      const start = units[0].start;
      const end = units[units.length - 1].end;
      if (!parent) {
        // The items are built when an answer comes (an answer from the cache may need none).
        const first = (units[0] as HtmlUnit).first;
        const last = (units[units.length - 1] as HtmlUnit).last;
        // The text sent is built when first read (a chunk kept from the last run may need none).
        let sent: string | undefined;
        const sentText = () => sent ??= sentBetween(parsed, start, end, first, last);
        return {
          start,
          end,
          get sent(): string {
            return sentText();
          },
          apply: (answer) =>
            reassembleBlocks(
              parsed,
              start,
              end,
              units.map((unit): Span => [unit.start, unit.end]),
              answer,
              sentText(),
            ),
        };
      }
      // Pieces of one block: close the tags open at the cuts, and open them again.
      const opening = start > parent.start ? openTagsAt(parsed, parent.start, start) : [];
      const closing = end < parent.end ? openTagsAt(parsed, parent.start, end) : [];
      const items = [
        ...opening.map((tag): Item => ({
          ...tag,
          kind: SYNTHETIC,
          synthetic: text.slice(tag.start, tag.end),
          inBlock: true,
        })),
        ...itemsOf(parsed, start, end, [[start, end]]),
        ...closing.reverse().map((tag): Item => ({
          ...tag,
          kind: SYNTHETIC,
          synthetic: `</${text.slice(tag.start + 1, tag.start + 1 + tag.name.length)}>`,
          close: true,
          inBlock: true,
        })),
      ];
      const sent = sentOf(text, items);
      return { start, end, sent, apply: (answer) => reassemble(text, items, answer, sent) };
    },
    append(text: string, units: readonly Unit[]): AppendPlan {
      const parsed = parsedFor(text, anchor);
      const sent = sentOf(text, itemsOf(parsed, 0, text.length, []));
      const last = units[units.length - 1];
      const lastToken = parsed.tokens[tokenIndexAt(parsed, last.end - 1)];
      // Inline text goes inside the last block, before its closing tag.
      const inlineAt = lastToken.kind === TAG && lastToken.close && lastToken.end === last.end &&
          BLOCK.has(lastToken.name)
        ? lastToken.start
        : last.end;
      // A block of its own goes after the lists, tables and quotes that end the document.
      let blockAt = last.end;
      for (let t = tokenIndexAt(parsed, last.end); t < parsed.tokens.length; t++) {
        const token = parsed.tokens[t];
        if (token.end <= blockAt) continue;
        if (token.kind === TEXT && !hasText(text, token)) continue;
        if (token.kind === TAG && token.close && ENDS_AFTER.has(token.name)) {
          blockAt = token.end;
          continue;
        }
        break;
      }
      const allowed = allowedTags(parsed);
      return {
        at: inlineAt,
        sent,
        apply(rawAnswer: string): Outcome & { at?: number } {
          const answer = safeAppend(unfence(rawAnswer, sent).trim(), allowed);
          if (answer.trim() === "") return { kept: "empty answer" };
          const tokens = tokenize(answer);
          const stack: string[] = [];
          let block = false;
          for (const token of tokens) {
            if (token.kind !== TAG || token.name.startsWith("!") || token.name === "?") continue;
            if (BLOCK.has(token.name)) block = true;
            if (VOID.has(token.name) || answer.charCodeAt(token.end - 2) === 47) continue;
            if (!token.close) stack.push(token.name);
            else if (stack.pop() !== token.name) return { kept: "markup changed" };
          }
          if (stack.length > 0) return { kept: "markup changed" };
          const at = block ? blockAt : inlineAt;
          const joiner = block ? "\n" : appendJoiner(text.slice(0, at), answer, false);
          return { replacement: joiner + answer, at };
        },
      };
    },
  };
}
