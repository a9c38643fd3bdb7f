// Content-defined grouping of units (blocks, or the sentences of one long
// block) into chunks that stay the same when the document is edited.
//
// Every boundary between two units has a priority that depends only on the
// unit before it (a hash of its first words: see `unitPriority`). A span of
// units that fits the chunk size is one chunk; a span that does not is cut at
// its highest-priority boundary, and each side is grouped the same way. The
// cuts are the nodes of the Cartesian tree of the priorities, taken from the
// top down until the pieces fit, so they depend on the content and on the
// sizes of the spans, never on where the document starts: an edit inside a
// unit changes the size of the spans that hold it (so at most the chunk that
// holds it is cut in two, or joined to a neighbour), and when it changes the
// unit's first words, it moves one boundary's priority. Greedy packing from
// the start of the document, by contrast, moves every later boundary when a
// unit grows. Linear time: the tree is built with a stack.

/**
 * Groups units of the given sizes into chunks of at most `max` (a unit
 * larger than `max` alone is a chunk of its own). `priorities[i]` is the
 * priority of the boundary after unit `i`. Returns the index of the last unit
 * of each chunk, in order.
 */
export function groupUnits(
  sizes: ArrayLike<number>,
  priorities: ArrayLike<number>,
  max: number,
): number[] {
  const n = sizes.length;
  const cuts: number[] = [];
  if (n === 0) return cuts;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sizes[i];
  // The Cartesian tree (a max-heap in priority, in order by position) of the
  // n - 1 boundaries; on a tie the earlier boundary is the ancestor.
  const boundaries = n - 1;
  const left = new Int32Array(boundaries).fill(-1);
  const right = new Int32Array(boundaries).fill(-1);
  const stack = new Int32Array(boundaries);
  let depth = 0;
  for (let i = 0; i < boundaries; i++) {
    let last = -1;
    while (depth > 0 && priorities[stack[depth - 1]] < priorities[i]) last = stack[--depth];
    left[i] = last;
    if (depth > 0) right[stack[depth - 1]] = i;
    stack[depth++] = i;
  }
  const root = boundaries > 0 ? stack[0] : -1;
  // Spans to group, as [first unit, last unit, root boundary]; the left side first.
  const todo: number[] = [0, n - 1, root];
  while (todo.length > 0) {
    const node = todo.pop()!;
    const last = todo.pop()!;
    const first = todo.pop()!;
    if (node < 0 || prefix[last + 1] - prefix[first] <= max) {
      cuts.push(last);
      continue;
    }
    todo.push(node + 1, last, right[node]);
    todo.push(first, node, left[node]);
  }
  return cuts;
}

// FNV-1a over a stretch of UTF-16 units, then mixed.
function hashStretch(text: string, from: number, to: number, seed: number): number {
  let h = seed;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix(h);
}

// A 32-bit finalizer (as in MurmurHash3), unsigned.
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The stretch of a unit's words that sets its priority: its first (and last) 32 units. */
const STRETCH = 32;

/**
 * The priority of the boundary after a unit whose text (without markup) is
 * `words` and whose sent text has `length` UTF-16 units: mostly a hash of
 * its first words, so that an edit further in moves no boundary; then a hash
 * of its last words and length, which only matters between units that start
 * alike. `occurrence` counts earlier units with the same two hashes, so that
 * repeated units (a table's identical cells) do not all share one priority.
 */
export function unitPriority(words: string, length: number, occurrence: number): number {
  const first = hashStretch(words, 0, Math.min(words.length, STRETCH), 0x811c9dc5);
  const tail = hashStretch(
    words,
    Math.max(0, words.length - STRETCH),
    words.length,
    (0x9e3779b9 ^ Math.imul(length, 0x85ebca6b)) >>> 0,
  );
  // 32 bits of the first words over 21 of the rest: exact in a double.
  const low = occurrence === 0 ? tail : mix(tail ^ Math.imul(occurrence, 0x9e3779b1));
  return first * 0x200000 + (low & 0x1fffff);
}

/**
 * The priorities of units, counting repeats (see {@link unitPriority}).
 * `bases`, when given, holds each unit's priority as if it were not repeated
 * (a first occurrence), or NaN where it is not known yet; it is filled in.
 */
export function unitPriorities(
  words: readonly string[],
  lengths: ArrayLike<number>,
  bases?: Float64Array,
): Float64Array {
  const n = words.length;
  const priorities = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let base = bases === undefined ? NaN : bases[i];
    if (base !== base) { // NaN: not known
      base = unitPriority(words[i], lengths[i], 0);
      if (bases !== undefined) bases[i] = base;
    }
    priorities[i] = base;
  }
  // Repeats are rare: find them by sorting a copy, and count only those.
  const sorted = priorities.slice().sort();
  let repeated: Set<number> | undefined;
  for (let i = 1; i < n; i++) {
    if (sorted[i] === sorted[i - 1]) (repeated ??= new Set()).add(sorted[i]);
  }
  if (repeated === undefined) return priorities;
  const seen = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const first = priorities[i];
    if (!repeated.has(first)) continue;
    const count = seen.get(first) ?? 0;
    seen.set(first, count + 1);
    if (count > 0) priorities[i] = unitPriority(words[i], lengths[i], count);
  }
  return priorities;
}
