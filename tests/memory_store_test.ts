// MemoryLimitStore: fixed windows on its clock, all-or-none reservations, settlements in
// the reservation's window only and never below 0, and the cooldowns it inherits.
import assert from "node:assert/strict";
import { MemoryLimitStore } from "../mod.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;

Deno.test("MemoryLimitStore counts in fixed windows that start again at 0", () => {
  let now = 10 * MINUTE + 59_000; // one second before a minute ends
  const store = new MemoryLimitStore({ now: () => now });
  const perMinute = { key: "rpm|*|user=1", amount: 1, limit: 2, windowMs: MINUTE };
  const perDay = { key: "tpd|*|user=1", amount: 1, limit: 10, windowMs: DAY };
  assert.deepEqual(store.reserve([perMinute, perDay]), { granted: true, at: now });
  assert.equal(store.reserve([perMinute, perDay]).granted, true);
  assert.deepEqual(store.reserve([perMinute, perDay]), {
    granted: false,
    index: 0,
    used: 2,
    retryAfterMs: 1000,
  });
  now += 1000; // the next minute: the minute's count starts again, the day's goes on
  assert.equal(store.reserve([perMinute, perDay]).granted, true);
  assert.deepEqual(store.read([perMinute, perDay]).map((state) => state.used), [1, 3]);
  assert.equal(store.read([perMinute])[0].resetMs, MINUTE);
});

Deno.test("MemoryLimitStore refuses with the charge whose window ends last, adding nothing", () => {
  const store = new MemoryLimitStore({ now: () => 0 });
  const minute = { key: "tpm|*|user=1", amount: 5, limit: 5, windowMs: MINUTE };
  const day = { key: "tpd|*|user=1", amount: 5, limit: 5, windowMs: DAY };
  const roomy = { key: "tpd|*|site=x", amount: 5, limit: 100, windowMs: DAY };
  assert.equal(store.reserve([minute, day]).granted, true);
  const refused = store.reserve([roomy, minute, day]);
  assert.deepEqual(refused, { granted: false, index: 2, used: 5, retryAfterMs: DAY });
  assert.equal(store.read([roomy])[0].used, 0);
});

Deno.test("MemoryLimitStore settles in the reservation's window only, never below 0", () => {
  let now = 0;
  const store = new MemoryLimitStore({ now: () => now });
  const charge = { key: "tpm|*|global=*", amount: 100, limit: 1000, windowMs: MINUTE };
  const first = store.reserve([charge]);
  assert.ok(first.granted);
  store.settle([{ key: charge.key, delta: -250, windowMs: MINUTE }], first.at);
  assert.equal(store.read([charge])[0].used, 0);
  now += MINUTE;
  store.reserve([charge]);
  // A late settlement of the last minute changes nothing now.
  store.settle([{ key: charge.key, delta: 500, windowMs: MINUTE }], first.at);
  assert.equal(store.read([charge])[0].used, 100);
  // A counter never reserved is not created by a settlement.
  store.settle([{ key: "tpm|*|user=nobody", delta: 7, windowMs: MINUTE }], now);
  assert.equal(store.read([{ key: "tpm|*|user=nobody", windowMs: MINUTE }])[0].used, 0);
});

Deno.test("MemoryLimitStore keeps cooldowns as MemoryCooldownStore does", () => {
  let now = 0;
  const store = new MemoryLimitStore({ now: () => now });
  store.recordFailure("provider:a", { threshold: 2, seconds: 30 });
  assert.equal(store.isCoolingDown("provider:a"), false);
  store.recordFailure("provider:a", { threshold: 2, seconds: 30 });
  assert.equal(store.isCoolingDown("provider:a"), true);
  now += 30_000;
  assert.equal(store.isCoolingDown("provider:a"), false);
  assert.equal(store.isCoolingDown("provider:a"), true);
  store.recordSuccess("provider:a");
  assert.equal(store.isCoolingDown("provider:a"), false);
});
