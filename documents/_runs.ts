// What a run leaves for the next run of the same prompt over an edited
// document: the blocks' estimates and priorities, the measured lengths of the
// chunks, their cache keys and replacements. Blocks and chunks in the part of
// the text that did not change are then taken as they were, so that a run
// after an edit measures, hashes and puts back only what is near the edit.

let lastPair: { a: string; b: string; ends: { prefix: number; suffix: number } } | undefined;

/** The lengths of the parts two texts share at their start and at their end (not overlapping). */
export function sharedEnds(a: string, b: string): { prefix: number; suffix: number } {
  // The same pair is often asked for twice in a row (the parse, then the chunks).
  if (lastPair !== undefined && lastPair.a === a && lastPair.b === b) return lastPair.ends;
  const ends = compareEnds(a, b);
  lastPair = { a, b, ends };
  return ends;
}

function compareEnds(a: string, b: string): { prefix: number; suffix: number } {
  // Whether `a` from `x` and `b` from `y` agree for `length` units (=== on slices is the fastest).
  const same = (x: number, y: number, length: number) =>
    a.slice(x, x + length) === b.slice(y, y + length);
  const n = Math.min(a.length, b.length);
  const STEP = 65_536;
  let prefix = 0;
  while (prefix < n) {
    const length = Math.min(STEP, n - prefix);
    if (same(prefix, prefix, length)) {
      prefix += length;
      continue;
    }
    let lo = 0; // the longest agreeing stretch from `prefix`: in [lo, hi]
    let hi = length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (same(prefix, prefix, mid)) lo = mid;
      else hi = mid - 1;
    }
    prefix += lo;
    break;
  }
  const most = n - prefix;
  let suffix = 0;
  while (suffix < most) {
    const length = Math.min(STEP, most - suffix);
    if (same(a.length - suffix - length, b.length - suffix - length, length)) {
      suffix += length;
      continue;
    }
    let lo = 0;
    let hi = length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (same(a.length - suffix - mid, b.length - suffix - mid, mid)) lo = mid;
      else hi = mid - 1;
    }
    suffix += lo;
    break;
  }
  return { prefix, suffix };
}

/** One run's record, by block indices of that run. */
export interface RunRecord {
  /** The text of the run. */
  readonly text: string;
  /** Where each block starts and ends. */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** The estimated length of each block, and of the space after it. */
  readonly guesses: Float64Array;
  readonly gapGuesses: Float64Array;
  /** The priority of each block as a first occurrence (see `unitPriorities`). */
  readonly bases: Float64Array;
  /** Measured lengths of the chunks tried, by `"first:last"` block index. */
  readonly lengths: Map<string, number>;
  /** Cache keys of the chunks, by `"first:last"`. */
  readonly keys: Map<string, string>;
  /** The answers used, and the replacements they made, by `"first:last"`. */
  readonly replacements: Map<string, { answer: string; replacement: string }>;
}

const MAX_RECORDS = 4;
const records = new Map<string, RunRecord>();

/** The record of the last run under `key`, if any. */
export function lastRun(key: string): RunRecord | undefined {
  const record = records.get(key);
  if (record) {
    records.delete(key);
    records.set(key, record);
  }
  return record;
}

/** Keeps `record` as the last run under `key` (a few runs are kept, the oldest out first). */
export function keepRun(key: string, record: RunRecord): void {
  records.delete(key);
  records.set(key, record);
  while (records.size > MAX_RECORDS) records.delete(records.keys().next().value!);
}

/** Forgets every run (for benches that must start cold). */
export function clearRuns(): void {
  records.clear();
  lastPair = undefined;
}

/** How the blocks of a new run match those of the last one. */
export interface BlockMatch {
  /** For each block, its index in the last run when it is unchanged, else -1. */
  readonly old: Int32Array;
  /** The new text is the last one's up to here... */
  readonly prefix: number;
  /** ...and from here on (shifted). */
  readonly after: number;
}

/**
 * Maps the blocks of a new run to those of the last one: a block in a part
 * of the text that did not change (the same text at the same place, or
 * shifted after the edit), with the same ends, is the same block.
 */
export function matchBlocks(
  record: RunRecord,
  text: string,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
): BlockMatch {
  const old = new Int32Array(starts.length).fill(-1);
  const { prefix, suffix } = sharedEnds(record.text, text);
  const shift = text.length - record.text.length;
  const after = text.length - suffix; // the changed part of the new text ends here
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i];
    const end = ends[i];
    // A block counts as unchanged one character away from the edit, so that
    // the character after it (which can decide where it ends) is unchanged too.
    let target: number;
    if (end < prefix) target = start;
    else if (start > after) target = start - shift;
    else continue;
    while (j < record.starts.length && record.starts[j] < target) j++;
    if (j < record.starts.length && record.starts[j] === target) {
      if (record.ends[j] === (end < prefix ? end : end - shift)) old[i] = j;
    }
  }
  return { old, prefix, after };
}

/**
 * The range `"first:last"` in the last run of blocks `[from, to]` of the new
 * one, when they are the same blocks in a row on one side of the edit (so the
 * spaces between them are unchanged too), else undefined.
 */
export function sameRange(
  match: BlockMatch,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  from: number,
  to: number,
): string | undefined {
  const first = match.old[from];
  if (first < 0) return undefined;
  if (!(ends[to] < match.prefix || starts[from] > match.after)) return undefined;
  for (let i = from + 1; i <= to; i++) if (match.old[i] !== first + (i - from)) return undefined;
  return `${first}:${first + (to - from)}`;
}
