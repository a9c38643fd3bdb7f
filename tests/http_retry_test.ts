// _http/retry.ts: the retry decisions and waits every service client shares.
import assert from "node:assert/strict";
import {
  answeredRetry,
  backoffMs,
  isRetryableStatus,
  MAX_RETRY_AFTER_MS,
  noteAnswered,
  retryDelayMs,
  shouldRetryHeader,
  sleep,
  withRetries,
} from "../_http/retry.ts";
import { retryAfterMs, retryAfterSeconds } from "../_http/retry_after.ts";

Deno.test("isRetryableStatus() is true for 408, 409, 429, 5xx and 529, false otherwise", () => {
  for (const status of [408, 409, 429, 500, 502, 503, 504, 529]) {
    assert.ok(isRetryableStatus(status), String(status));
  }
  for (const status of [200, 301, 400, 401, 403, 404, 413, 422, 600]) {
    assert.ok(!isRetryableStatus(status), String(status));
  }
});

Deno.test("retryAfterMs() reads retry-after-ms, then retry-after as seconds or an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "250" }), now), 250);
  assert.equal(
    retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), now),
    250,
  );
  assert.equal(retryAfterMs(new Headers({ "retry-after": "2" }), now), 2000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "1.5" }), now), 1500);
  assert.equal(
    retryAfterMs(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }), now),
    3000,
  );
  // A date in the past means now; nonsense means nothing.
  assert.equal(
    retryAfterMs(new Headers({ "retry-after": "Wed, 31 Dec 2025 23:00:00 GMT" }), now),
    0,
  );
  assert.equal(retryAfterMs(new Headers({ "retry-after": "soon" }), now), undefined);
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "-5" }), now), undefined);
  assert.equal(retryAfterMs(new Headers(), now), undefined);
  assert.equal(retryAfterSeconds(new Headers({ "retry-after-ms": "1200" }), now), 2);
  assert.equal(retryAfterSeconds(new Headers(), now), undefined);
});

Deno.test("shouldRetryHeader() reads x-should-retry", () => {
  assert.equal(shouldRetryHeader(new Headers({ "x-should-retry": "true" })), true);
  assert.equal(shouldRetryHeader(new Headers({ "x-should-retry": "False" })), false);
  assert.equal(shouldRetryHeader(new Headers({ "x-should-retry": "maybe" })), undefined);
  assert.equal(shouldRetryHeader(new Headers()), undefined);
});

Deno.test("backoffMs() doubles from 0.5 s up to 8 s, less up to a quarter of jitter", () => {
  assert.equal(backoffMs(0, () => 0), 500);
  assert.equal(backoffMs(1, () => 0), 1000);
  assert.equal(backoffMs(3, () => 0), 4000);
  assert.equal(backoffMs(10, () => 0), 8000);
  assert.equal(backoffMs(0, () => 1), 375);
  for (let i = 0; i < 100; i++) {
    const delay = backoffMs(2);
    assert.ok(delay >= 1500 && delay <= 2000, String(delay));
  }
});

Deno.test("retryDelayMs() takes the server's wait up to 60 s, else the backoff", () => {
  assert.equal(retryDelayMs(0, new Headers({ "retry-after-ms": "10" })), 10);
  assert.equal(retryDelayMs(0, new Headers({ "retry-after": "60" })), MAX_RETRY_AFTER_MS);
  assert.equal(retryDelayMs(0, new Headers({ "retry-after": "3600" }), () => 0), 500);
  assert.equal(retryDelayMs(1, undefined, () => 0), 1000);
});

Deno.test("sleep() waits, or rejects at once with the signal's reason", async () => {
  await sleep(1);
  const reason = new Error("stop");
  await assert.rejects(sleep(10, AbortSignal.abort(reason)), (error: unknown) => error === reason);
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort();
  await assert.rejects(waiting, { name: "AbortError" });
});

Deno.test("withRetries() retries what decide() allows, up to maxRetries, with the server's wait", async () => {
  let calls = 0;
  const waits: number[] = [];
  const value = await withRetries((index) => {
    calls++;
    return index < 2 ? Promise.reject(new Error(`fail ${index}`)) : Promise.resolve("done");
  }, {
    maxRetries: 3,
    decide: () => ({ retry: true, headers: new Headers({ "retry-after-ms": "1" }) }),
    onRetry: (_retry, delay) => waits.push(delay),
  });
  assert.equal(value, "done");
  assert.equal(calls, 3);
  assert.deepEqual(waits, [1, 1]);

  // Not retryable: thrown at once; out of retries: the last failure.
  calls = 0;
  await assert.rejects(
    withRetries(() => {
      calls++;
      return Promise.reject(new Error("final"));
    }, { maxRetries: 5, decide: () => ({ retry: false }) }),
    /final/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    withRetries(() => {
      calls++;
      return Promise.reject(new Error(`attempt ${calls}`));
    }, {
      maxRetries: 2,
      decide: () => ({ retry: true, headers: new Headers({ "retry-after-ms": "0" }) }),
    }),
    /attempt 3/,
  );
  assert.equal(calls, 3);

  // An abort during the wait ends the loop with the signal's reason.
  const controller = new AbortController();
  const reason = new Error("aborted while waiting");
  const pending = withRetries(() => Promise.reject(new Error("busy")), {
    maxRetries: 5,
    signal: controller.signal,
    decide: () => ({ retry: true, headers: new Headers({ "retry-after": "30" }) }),
    onRetry: () => queueMicrotask(() => controller.abort(reason)),
  });
  await assert.rejects(pending, (error: unknown) => error === reason);
});

Deno.test("answeredRetry() decides on an error noted with its answer's headers: x-should-retry, else the status", () => {
  const headers = (init: Record<string, string>) => new Headers(init);
  const noted = (status: number, init: Record<string, string> = {}) => {
    const error = { status };
    noteAnswered(error, headers(init));
    return error;
  };
  assert.equal(answeredRetry(noted(503))?.retry, true);
  assert.equal(answeredRetry(noted(400))?.retry, false);
  assert.equal(answeredRetry(noted(400, { "x-should-retry": "true" }))?.retry, true);
  assert.equal(answeredRetry(noted(503, { "x-should-retry": "false" }))?.retry, false);
  const waited = answeredRetry(noted(429, { "retry-after-ms": "10" }));
  assert.equal(waited?.headers?.get("retry-after-ms"), "10");
  assert.equal(answeredRetry({ status: 503 }), undefined, "an error not noted: undefined");
});
