/**
 * Pre-tokenisers: split text into the pieces the encoding's regular
 * expression would match, one piece at a time.
 *
 * Each scanner decides ASCII pieces by hand (letters, digits, punctuation,
 * whitespace, following the regex's alternatives in order) and hands any
 * position where a non-ASCII character could change the answer to the
 * encoding's own regex (sticky, Unicode), so the pieces are always exactly the
 * regex's matches.
 *
 * @module
 */

/** Finds the end of the piece that starts at `pos` (`pos < text.length`). */
export type Scanner = (text: string, pos: number) => number;

/**
 * Unicode White_Space, what `\s` is in the Rust regex that tiktoken (and so
 * the service) uses: JavaScript's `\s` also has U+FEFF and lacks U+0085.
 */
const WHITE_SPACE = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/**
 * The encoding's regex source with `\s` and `\S` spelled out as tiktoken
 * reads them (Unicode White_Space), for a JavaScript `u` regex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tiktokenRegex } from "./_pretokenize.ts";
 * const re = new RegExp(tiktokenRegex("\\s+"), "u");
 * assert.ok(re.test("\u0085") && !re.test("\ufeff"));
 * ```
 */
export function tiktokenRegex(pattern: string): string {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      i++;
      if (next === "s") out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (next === "S" && !inClass) out += `[^${WHITE_SPACE}]`;
      else if (next === "S") {
        throw new Error("tiktokenRegex(): \\S inside a class is not supported");
      } else out += c + next;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return out;
}

const UPPER = 1;
const LOWER = 2;
const LETTER = UPPER | LOWER;
const DIGIT = 4;
const SPACE = 8; // \t \n \v \f \r and " "
const PUNCT = 16; // ASCII that is not a letter, digit or whitespace

const CLASS = /* @__PURE__ */ (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (c >= 65 && c <= 90) table[c] = UPPER;
    else if (c >= 97 && c <= 122) table[c] = LOWER;
    else if (c >= 48 && c <= 57) table[c] = DIGIT;
    else if ((c >= 9 && c <= 13) || c === 32) table[c] = SPACE;
    else table[c] = PUNCT;
  }
  return table;
})();

/** Whether `'` at `at - 1` starts a contraction; returns its end or -1. */
function contractionEnd(text: string, at: number): number {
  const d = text.charCodeAt(at);
  switch (d) {
    case 115: // s
    case 83:
    case 116: // t
    case 84:
    case 109: // m
    case 77:
    case 100: // d
    case 68:
      return at + 1;
    case 114: // r
    case 82:
    case 118: // v
    case 86:
      return (text.charCodeAt(at + 1) | 0x20) === 101 ? at + 2 : -1;
    case 108: // l
    case 76:
      return (text.charCodeAt(at + 1) | 0x20) === 108 ? at + 2 : -1;
    default:
      return -1;
  }
}

/**
 * A scanner for `cl100k_base`, given its regex source (`pat_str`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import cl100k from "js-tiktoken/ranks/cl100k_base";
 * import { cl100kScanner } from "./_pretokenize.ts";
 * const scan = cl100kScanner(cl100k.pat_str);
 * assert.equal(scan("don't", 0), 3); // "don", then "'t"
 * ```
 */
export function cl100kScanner(pattern: string): Scanner {
  const re = new RegExp(tiktokenRegex(pattern), "uy");
  const viaRegex = (text: string, pos: number): number => {
    re.lastIndex = pos;
    re.test(text);
    return re.lastIndex;
  };
  const punctRun = (text: string, pos: number, from: number, n: number): number => {
    let e = from;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== PUNCT) break;
      e++;
    }
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d !== 10 && d !== 13) break;
      e++;
    }
    return e;
  };
  const letterRun = (text: string, pos: number, from: number, n: number): number => {
    let e = from;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if ((CLASS[d] & LETTER) === 0) break;
      e++;
    }
    return e;
  };
  return (text, pos) => {
    const n = text.length;
    const c = text.charCodeAt(pos);
    if (c >= 128) return viaRegex(text, pos);
    const k = CLASS[c];
    if (k & LETTER) return letterRun(text, pos, pos + 1, n);
    if (k === DIGIT) {
      const limit = pos + 3 < n ? pos + 3 : n;
      let e = pos + 1;
      while (e < limit) {
        const d = text.charCodeAt(e);
        if (d >= 128) return viaRegex(text, pos);
        if (CLASS[d] !== DIGIT) break;
        e++;
      }
      return e;
    }
    if (c === 39 && pos + 1 < n) {
      const e = contractionEnd(text, pos + 1);
      if (e > 0) return e;
    }
    if (c !== 10 && c !== 13 && pos + 1 < n) {
      const d = text.charCodeAt(pos + 1);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] & LETTER) return letterRun(text, pos, pos + 2, n);
      if (c === 32 && CLASS[d] === PUNCT) return punctRun(text, pos, pos + 2, n);
    }
    if (k === PUNCT) return punctRun(text, pos, pos + 1, n);
    // Whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
    let e = pos;
    let lastNewline = -1;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== SPACE) break;
      if (d === 10 || d === 13) lastNewline = e;
      e++;
    }
    if (lastNewline >= 0) return lastNewline + 1;
    if (e === n || e - pos === 1) return e;
    return e - 1;
  };
}

/**
 * A scanner for `o200k_base`, given its regex source (`pat_str`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import o200k from "js-tiktoken/ranks/o200k_base";
 * import { o200kScanner } from "./_pretokenize.ts";
 * const scan = o200kScanner(o200k.pat_str);
 * assert.equal(scan("don't", 0), 5); // the contraction stays with the word
 * ```
 */
export function o200kScanner(pattern: string): Scanner {
  const re = new RegExp(tiktokenRegex(pattern), "uy");
  const viaRegex = (text: string, pos: number): number => {
    re.lastIndex = pos;
    re.test(text);
    return re.lastIndex;
  };
  const punctRun = (text: string, pos: number, from: number, n: number): number => {
    let e = from;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== PUNCT) break;
      e++;
    }
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d !== 10 && d !== 13 && d !== 47) break;
      e++;
    }
    return e;
  };
  // [Lu Lt Lm Lo M]*[Ll Lm Lo M]+ | [Lu Lt Lm Lo M]+[Ll Lm Lo M]*, then a
  // contraction; in ASCII, upper case letters then lower case letters.
  const letterRun = (text: string, pos: number, from: number, n: number): number => {
    let e = from;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== UPPER) break;
      e++;
    }
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== LOWER) break;
      e++;
    }
    if (e + 1 < n && text.charCodeAt(e) === 39) {
      const end = contractionEnd(text, e + 1);
      if (end > 0) return end;
    }
    return e;
  };
  return (text, pos) => {
    const n = text.length;
    const c = text.charCodeAt(pos);
    if (c >= 128) return viaRegex(text, pos);
    const k = CLASS[c];
    if (k & LETTER) return letterRun(text, pos, pos, n);
    if (k === DIGIT) {
      const limit = pos + 3 < n ? pos + 3 : n;
      let e = pos + 1;
      while (e < limit) {
        const d = text.charCodeAt(e);
        if (d >= 128) return viaRegex(text, pos);
        if (CLASS[d] !== DIGIT) break;
        e++;
      }
      return e;
    }
    if (c !== 10 && c !== 13 && pos + 1 < n) {
      const d = text.charCodeAt(pos + 1);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] & LETTER) return letterRun(text, pos, pos + 1, n);
      if (c === 32 && CLASS[d] === PUNCT) return punctRun(text, pos, pos + 2, n);
    }
    if (k === PUNCT) return punctRun(text, pos, pos + 1, n);
    let e = pos;
    let lastNewline = -1;
    while (e < n) {
      const d = text.charCodeAt(e);
      if (d >= 128) return viaRegex(text, pos);
      if (CLASS[d] !== SPACE) break;
      if (d === 10 || d === 13) lastNewline = e;
      e++;
    }
    if (lastNewline >= 0) return lastNewline + 1;
    if (e === n || e - pos === 1) return e;
    return e - 1;
  };
}
