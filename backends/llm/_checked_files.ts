// The user directory's files as last read, for readers that pass a check
// interval (the LLM backend): a file is checked with a stat (which opens
// nothing) at most once per interval, and read again only when its stamp
// (modification and change times, size, inode) changed. forgetFiles() makes
// the next look read afresh (ai.reload(), and this module's own writes).
// A file modified less than RACY_MS before it was read is not trusted by its
// stamp (times have a millisecond or coarser grain, so a same-size rewrite in
// that grain keeps the stamp): it is read again at each check until it is
// older, as git does with racily clean files.
import { fileStampSync, readTextFileIfExistsSync } from "../../_env.ts";

interface Seen {
  /** The stamp when last read; undefined: the file did not exist. */
  stamp: string | undefined;
  /** The text as last read; undefined: the file did not exist. */
  text: string | undefined;
  /** When the stamp was last compared (Date.now(): no call into the runtime, unlike performance.now()). */
  checkedAt: number;
  /** Whether the file was modified too shortly before it was read for its stamp to be trusted. */
  racy: boolean;
}

/** How recently modified (ms before the read) a file's stamp is not trusted: file times of 2 s grain exist (FAT). */
const RACY_MS = 2000;

/** The modification time (ms since the epoch) in a stamp from fileStampSync(). */
function modifiedAt(stamp: string): number {
  return Number(stamp.slice(0, stamp.indexOf(":")));
}

// Bounded: a process that looks at many directories (tests) forgets the oldest files.
const MAX_FILES = 1024;
const seen = new Map<string, Seen>();

/**
 * The text of `path` (undefined when it does not exist): as last read while
 * it was checked less than `intervalMs` ago or its stamp is unchanged, else
 * read now. Throws the `FileAccessError` of a denied permission or a failed
 * read (nothing is kept then, so the next call tries again).
 */
export function checkedText(path: string, intervalMs: number): string | undefined {
  const at = Date.now();
  const hit = seen.get(path);
  // A clock set back makes the check due at once.
  if (hit !== undefined && at >= hit.checkedAt && at - hit.checkedAt < intervalMs) return hit.text;
  const stamp = fileStampSync(path);
  if (hit !== undefined && stamp === hit.stamp && !hit.racy) {
    hit.checkedAt = at;
    return hit.text;
  }
  // Stamped before reading: a change made meanwhile changes the stamp again, so it is read next time.
  const text = stamp === undefined ? undefined : readTextFileIfExistsSync(path);
  seen.delete(path);
  if (seen.size >= MAX_FILES) seen.delete(seen.keys().next().value!);
  const kept = text === undefined ? undefined : stamp;
  // NaN (no modification time on this system) is never trusted either.
  const racy = kept !== undefined && !(modifiedAt(kept) < at - RACY_MS);
  seen.set(path, { stamp: kept, text, checkedAt: at, racy });
  return text;
}

/** Forgets what was read of `path`, or of every file when no path is given. */
export function forgetFiles(path?: string): void {
  if (path === undefined) seen.clear();
  else seen.delete(path);
}
