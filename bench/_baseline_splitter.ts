/**
 * The baseline of the splitting bench: a straightforward recursive character
 * splitter in the LangChain style, which calls the length function on every
 * piece, on every candidate merge and on every chunk (written here from the
 * algorithm's description, for comparison only).
 *
 * @module
 */

const SEPARATORS = ["\n\n", "\n", " ", ""];

/** Splits `text` into chunks of at most `chunkSize` by `length`, LangChain style. */
export function baselineSplit(
  text: string,
  chunkSize: number,
  chunkOverlap: number,
  length: (text: string) => number,
): string[] {
  return split(text, 0, chunkSize, chunkOverlap, length);
}

function split(
  text: string,
  from: number,
  chunkSize: number,
  chunkOverlap: number,
  length: (text: string) => number,
): string[] {
  let index = from;
  while (index < SEPARATORS.length - 1 && !text.includes(SEPARATORS[index])) index++;
  const separator = SEPARATORS[index];
  const parts = separator === "" ? Array.from(text) : text.split(separator);
  const out: string[] = [];
  let good: string[] = [];
  for (const part of parts) {
    if (length(part) < chunkSize) {
      good.push(part);
    } else {
      if (good.length) {
        out.push(...merge(good, separator, chunkSize, chunkOverlap, length));
        good = [];
      }
      if (index < SEPARATORS.length - 1) {
        out.push(...split(part, index + 1, chunkSize, chunkOverlap, length));
      } else out.push(part);
    }
  }
  if (good.length) out.push(...merge(good, separator, chunkSize, chunkOverlap, length));
  return out;
}

function merge(
  parts: string[],
  separator: string,
  chunkSize: number,
  chunkOverlap: number,
  length: (text: string) => number,
): string[] {
  const sepLength = length(separator);
  const docs: string[] = [];
  const current: string[] = [];
  let total = 0;
  for (const part of parts) {
    const partLength = length(part);
    if (total + partLength + (current.length ? sepLength : 0) > chunkSize && current.length) {
      const doc = current.join(separator).trim();
      if (doc) docs.push(doc);
      while (
        total > chunkOverlap ||
        (total + partLength + (current.length ? sepLength : 0) > chunkSize && total > 0)
      ) {
        total -= length(current[0]) + (current.length > 1 ? sepLength : 0);
        current.shift();
      }
    }
    current.push(part);
    total += partLength + (current.length > 1 ? sepLength : 0);
  }
  const doc = current.join(separator).trim();
  if (doc) docs.push(doc);
  return docs;
}
