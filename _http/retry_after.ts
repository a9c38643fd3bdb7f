// The wait a server asks for before the next attempt, from its response
// headers: `retry-after-ms` (milliseconds, OpenAI's), else `retry-after` as
// seconds (fractions allowed) or as an HTTP date.

/**
 * The wait the headers ask for, in milliseconds, or undefined when they give
 * none that is usable (not a number, negative); a date in the past is 0.
 */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms")?.trim();
  if (ms) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get("retry-after")?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** {@link retryAfterMs} in whole seconds, rounded up; undefined when the headers give none. */
export function retryAfterSeconds(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = retryAfterMs(headers, now);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}
