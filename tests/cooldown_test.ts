// Cooldown stores: the in-memory default, a store that answers with promises (as a shared
// one over the network does), and one that fails (requests still go through).
import assert from "node:assert/strict";
import { type CooldownStore, createAI, MemoryCooldownStore } from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { chainSettings, chatRequests } from "./_operations.ts";

const hello = [{ role: "user" as const, content: "Hello" }];

Deno.test("MemoryCooldownStore: failures in a row, one try after the cooldown, a success resets", () => {
  let now = 0;
  const store = new MemoryCooldownStore({ now: () => now });
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  assert.equal(store.isCoolingDown("provider:a"), false);
  store.recordSuccess("provider:a");
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  assert.equal(store.isCoolingDown("provider:a"), false, "a success started the count again");
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  assert.equal(store.isCoolingDown("provider:a"), true);
  assert.equal(store.isCoolingDown("provider:b"), false, "keys are apart");
  now = 9_999;
  assert.equal(store.isCoolingDown("provider:a"), true);
  now = 10_000;
  assert.equal(store.isCoolingDown("provider:a"), false, "the first caller after the cooldown");
  assert.equal(store.isCoolingDown("provider:a"), true, "the others wait for its try");
  store.recordFailure("provider:a", { threshold: 3, seconds: 10 });
  now = 15_000;
  assert.equal(store.isCoolingDown("provider:a"), true, "it failed again: a new cooldown");
  store.recordFailure("backend:x", { threshold: 0, seconds: 10 });
  store.recordFailure("backend:x", { threshold: 0, seconds: 10 });
  assert.equal(store.isCoolingDown("backend:x"), false, "threshold 0: never");
});

Deno.test("cooldown: a store that answers with promises is waited for", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 503, error: "down" }) });
  await using backup = await startPeer();
  const inner = new MemoryCooldownStore();
  const calls: string[] = [];
  const store: CooldownStore = {
    async isCoolingDown(key) {
      calls.push(`is:${key}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return inner.isCoolingDown(key);
    },
    async recordFailure(key, options) {
      calls.push(`failure:${key}`);
      await Promise.resolve();
      inner.recordFailure(key, options);
    },
    async recordSuccess(key) {
      calls.push(`success:${key}`);
      await Promise.resolve();
      inner.recordSuccess(key);
    },
  };
  const ai = createAI(chainSettings(primary, backup, { primary: { cooldown_failures: 2 } }), {
    cooldownStore: store,
  });
  const provider = ai.getProvider("primary");
  for (let i = 0; i < 4; i++) await provider.completion({ messages: hello });
  assert.equal(chatRequests(primary), 2);
  assert.equal(chatRequests(backup), 4);
  assert.ok(calls.includes("failure:provider:primary"));
  assert.ok(calls.includes("success:provider:backup"));
});

Deno.test("cooldown: a store that fails lets requests through and says so through onWarning", async () => {
  await using primary = await startPeer();
  await using backup = await startPeer();
  const warnings: Error[] = [];
  const ai = createAI(chainSettings(primary, backup), {
    cooldownStore: {
      isCoolingDown: () => Promise.reject(new Error("store unreachable")),
      recordFailure: () => Promise.reject(new Error("store unreachable")),
      recordSuccess: () => {
        throw new Error("store unreachable");
      },
    },
    onWarning: (warning) => warnings.push(warning),
  });
  const answer = await ai.getProvider("primary").completion({ messages: hello });
  assert.equal(answer.choices[0].message.content, "Echo: Hello");
  assert.equal(chatRequests(primary), 1);
  assert.ok(
    warnings.some((warning) => /The cooldown store threw: store unreachable/.test(warning.message)),
  );
});
