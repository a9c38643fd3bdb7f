// LIMITS on the in-memory store, against test peers on 127.0.0.1: each limit type, key
// matching on per-call metadata, per-feature and per-alias rules, reservations of the exact
// prompt count plus the answer cap settled with what was used (on success, failure and
// abort), and 500 concurrent requests against a 100,000-token budget.
import assert from "node:assert/strict";
import {
  type AISettings,
  BackendFeature,
  createAI,
  DEFAULT_RESERVED_OUTPUT_TOKENS,
  EchoBackend,
  errorResponse,
  ImproperlyConfigured,
  LimitExceededError,
  type LimitStore,
  MemoryLimitStore,
  StreamInterruptedError,
} from "../mod.ts";
import { countMessageTokens } from "../_budget.ts";
import { type Peer, type PeerReply, startPeer } from "./_peer.ts";
import { chatRequests } from "./_operations.ts";

const MODEL = "gpt-4o-mini";

function provider(peer: Peer, extra: Record<string, unknown> = {}) {
  return {
    provider: "openai_compatible",
    model: MODEL,
    api_base: peer.url,
    api_key: "sk-limits-secret-0001",
    max_retries: 0,
    ...extra,
  };
}

/** Settings with provider `default` on `peer` and a provider backend capped at `cap` tokens. */
function settings(peer: Peer, limits: AISettings["LIMITS"], cap = 40): AISettings {
  return {
    PROVIDERS: { default: provider(peer) },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { MAX_OUTPUT_TOKENS: cap } } },
    PRICES: { [MODEL]: { input: 1, output: 4 } },
    LIMITS: limits,
  };
}

const MESSAGES = [{ role: "user" as const, content: "Correct: teh cat sat on teh mat." }];

/** A reply the test releases by hand, to look at the counts while the request is in flight. */
function held(): { reply: Promise<PeerReply>; release: (reply?: PeerReply) => void } {
  let release!: (reply?: PeerReply) => void;
  const reply = new Promise<PeerReply>((resolve) => {
    release = (value = {}) => resolve(value);
  });
  return { reply, release };
}

/** Resolves once `peer` has received `count` chat requests (checked on each request). */
function whenRequests(peer: Peer, count: number, handler: () => PeerReply | Promise<PeerReply>) {
  let resolve!: () => void;
  const reached = new Promise<void>((done) => resolve = done);
  peer.setHandler(() => {
    if (chatRequests(peer) >= count) resolve();
    return handler();
  });
  return reached;
}

function isLimit(check: (error: LimitExceededError) => void) {
  return (error: unknown) => {
    assert.ok(error instanceof LimitExceededError, `not a LimitExceededError: ${error}`);
    check(error);
    return true;
  };
}

Deno.test("requests_per_minute refuses the request over the limit before sending it", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", requests_per_minute: 3 }]));
  const ask = () =>
    ai.getBackend().promptWithContext({
      prePrompt: "Fix:",
      context: "teh",
      metadata: { user: "42" },
    })
      .text();
  for (let i = 0; i < 3; i++) await ask();
  await assert.rejects(
    ask(),
    isLimit((error) => {
      assert.equal(error.status, 429);
      assert.equal(error.retryable, true);
      assert.ok(error.retryAfterSeconds! >= 1 && error.retryAfterSeconds! <= 60);
      assert.equal(error.rule, "LIMITS[0]");
      assert.equal(error.limit, "requests_per_minute");
      assert.equal(error.key, "user");
      assert.equal(error.value, "42");
      assert.equal(error.used, 3);
      assert.equal(error.maximum, 3);
      assert.match(
        error.message,
        /LIMITS\[0\] \(key "user"\): "42" has used 3 requests of its requests_per_minute of 3/,
      );
      assert.doesNotMatch(error.message, /sk-limits-secret/);
    }),
  );
  assert.equal(chatRequests(peer), 3);
  // The web layer answers it as a 429 with Retry-After.
  const refused = await ask().catch((error) => error);
  const response = errorResponse(refused);
  assert.equal(response.status, 429);
  assert.equal(response.headers.get("retry-after"), String(refused.retryAfterSeconds));
  assert.doesNotMatch(await response.text(), /LIMITS|"42"/);
  const usage = await ai.getUsage({ key: "user", value: "42" });
  assert.equal(usage.rules[0].counts.requests_per_minute?.used, 3);
  assert.equal(usage.rules[0].counts.requests_per_minute?.remaining, 0);
});

Deno.test("tokens_per_minute reserves the exact prompt count plus the answer cap, then settles with the reported usage", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", tokens_per_minute: 10_000 }]));
  const gate = held();
  const sent = whenRequests(peer, 1, () => gate.reply);
  const answer = ai.getProvider().completion({
    messages: MESSAGES,
    max_tokens: 50,
    metadata: { user: "ana" },
  });
  await sent;
  const prompt = await countMessageTokens(MESSAGES, MODEL);
  const during = await ai.getUsage({ key: "user", value: "ana" });
  assert.equal(during.rules[0].counts.tokens_per_minute?.used, prompt + 50);
  gate.release({ text: "The cat sat on the mat." });
  const completion = await answer;
  const reported = completion.usage!.totalTokens;
  const after = await ai.getUsage({ key: "user", value: "ana" });
  assert.equal(after.rules[0].counts.tokens_per_minute?.used, reported);
  assert.equal(after.rules[0].counts.tokens_per_minute?.remaining, 10_000 - reported);
});

Deno.test("tokens_per_day refuses a request whose reservation does not fit what is left", async () => {
  await using peer = await startPeer();
  peer.setHandler(() => ({ text: "Fine." }));
  const prompt = await countMessageTokens(MESSAGES, MODEL);
  // Room for two reservations, not three: each settles to the peer's small usage.
  const limit = 2 * (prompt + 100) + 10;
  const ai = createAI(settings(peer, [{ key: "site", tokens_per_day: limit }]));
  const ask = () =>
    ai.getProvider().completion({
      messages: MESSAGES,
      max_tokens: 100,
      metadata: { site: "blog" },
    });
  const first = (await ask()).usage!.totalTokens;
  const second = (await ask()).usage!.totalTokens;
  // Settled: the reserved caps went back, so a third fits.
  const third = (await ask()).usage!.totalTokens;
  const used = (await ai.getUsage({ key: "site", value: "blog" })).rules[0].counts.tokens_per_day!;
  assert.equal(used.used, first + second + third);
  assert.ok(used.resetSeconds > 0 && used.resetSeconds <= 86_400);
  // Two reservations in flight at once do not both fit.
  const gate = held();
  peer.setHandler(() => gate.reply);
  const ai2 = createAI(settings(peer, [{ key: "site", tokens_per_day: limit }]));
  const asks = [1, 2, 3].map(() =>
    ai2.getProvider().completion({ messages: MESSAGES, max_tokens: 100, metadata: { site: "x" } })
  );
  const refused = await Promise.race(
    asks.map((ask) => ask.then(() => undefined, (error) => error)),
  );
  isLimit((error) => assert.equal(error.limit, "tokens_per_day"))(refused);
  gate.release({ text: "Fine." });
  const results = await Promise.allSettled(asks);
  assert.equal(results.filter((result) => result.status === "fulfilled").length, 2);
});

Deno.test("cost_per_day reserves and settles the cost from PRICES", async () => {
  await using peer = await startPeer();
  peer.setHandler(() => ({ text: "Fine." }));
  const prompt = await countMessageTokens(MESSAGES, MODEL);
  // $1 and $4 per million tokens: a reservation costs (prompt + 4 * 1000) millionths of a dollar.
  const reservation = (prompt * 1 + 1000 * 4) / 1e6;
  const ai = createAI(settings(peer, [{ key: "user", cost_per_day: reservation * 1.5 }]));
  const ask = () =>
    ai.getProvider().completion({ messages: MESSAGES, max_tokens: 1000, metadata: { user: "7" } });
  const usage = (await ask()).usage!;
  const cost = (usage.inputTokens * 1 + usage.outputTokens * 4) / 1e6;
  const counts = (await ai.getUsage({ key: "user", value: "7" })).rules[0].counts.cost_per_day!;
  assert.ok(Math.abs(counts.used - cost) < 1e-9, `${counts.used} against ${cost}`);
  // The second reservation fits (the first settled to its small cost), a held third does not.
  const gate = held();
  peer.setHandler(() => gate.reply);
  const second = ask();
  await assert.rejects(
    ask(),
    isLimit((error) => {
      assert.equal(error.limit, "cost_per_day");
      assert.match(error.message, /\$0\.00\d+ of its cost_per_day of \$0\.00\d+/);
    }),
  );
  gate.release({ text: "Fine." });
  await second;
});

Deno.test("cost_per_day on a model without a price is a configuration error, before sending", async () => {
  await using peer = await startPeer();
  const ai = createAI({ ...settings(peer, [{ key: "user", cost_per_day: 1 }]), PRICES: {} });
  await assert.rejects(
    ai.getProvider().completion({ messages: MESSAGES, metadata: { user: "7" } }),
    (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured);
      assert.match(
        error.message,
        /cost_per_day of LIMITS\[0\] needs the price of model "gpt-4o-mini": add PRICES\["gpt-4o-mini"\]/,
      );
      return true;
    },
  );
  assert.equal(chatRequests(peer), 0);
});

Deno.test("a request that can never fit its limit is refused for good, not retryable", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", tokens_per_minute: 500 }], 1000));
  await assert.rejects(
    ai.getBackend().promptWithContext({ prePrompt: "", context: "hello", metadata: { user: "1" } })
      .text(),
    isLimit((error) => {
      assert.equal(error.retryable, false);
      assert.equal(error.retryAfterSeconds, undefined);
      assert.match(
        error.message,
        /more than its tokens_per_minute of 500 tokens: lower the answer cap \(MAX_OUTPUT_TOKENS/,
      );
    }),
  );
  const zero = createAI(settings(peer, [{ key: "global", requests_per_minute: 0 }]));
  await assert.rejects(
    zero.getProvider().completion({ messages: MESSAGES }),
    isLimit((error) =>
      assert.match(error.message, /requests_per_minute is 0: no request is allowed/)
    ),
  );
  assert.equal(chatRequests(peer), 0);
});

Deno.test("LIMITS counts each value of the key apart, '(none)' without it, and 'global' for all", async () => {
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
    LIMITS: [
      { key: "user", requests_per_minute: 2 },
      { key: "team", requests_per_minute: 100 },
      { key: "global", requests_per_minute: 5 },
    ],
  });
  const ask = (metadata?: Record<string, string | number | null>) =>
    ai.getBackend().promptWithContext({
      prePrompt: "",
      context: "hi",
      ...(metadata ? { metadata } : {}),
    })
      .text();
  await ask({ user: "ana" });
  await ask({ user: "ana" });
  await assert.rejects(ask({ user: "ana" }), isLimit((error) => assert.equal(error.value, "ana")));
  await ask({ user: 42 }); // a number counts as its text
  await ask(); // no user: "(none)"
  await ask({ user: null, team: "x" }); // null is none too
  await assert.rejects(
    ask({ user: "42" }),
    isLimit((error) => {
      assert.equal(error.rule, "LIMITS[2]");
      assert.equal(error.value, "*");
    }),
  );
  const user = async (value?: string | number) =>
    (await ai.getUsage(value === undefined ? { key: "user" } : { key: "user", value })).rules[0]
      .counts.requests_per_minute!.used;
  assert.equal(await user("ana"), 2);
  assert.equal(await user(42), 1);
  assert.equal(await user("42"), 1);
  assert.equal(await user(), 2);
  assert.equal(await user("(none)"), 2);
  const global = await ai.getUsage({ key: "global" });
  assert.equal(global.value, "*");
  assert.equal(global.rules[0].counts.requests_per_minute!.used, 5);
  // A refused request counts nowhere: the team rule saw only the one call that named it.
  assert.equal(
    (await ai.getUsage({ key: "team", value: "x" })).rules[0].counts.requests_per_minute!.used,
    1,
  );
  await assert.rejects(ai.getUsage({ key: "site", value: "blog" }), {
    name: "TypeError",
    message: 'No LIMITS rule has key "site" (keys: user, team, global)',
  });
});

Deno.test("a rule with features counts only those features", async () => {
  const ai = createAI({
    BACKENDS: {
      default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } },
      vision: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } },
    },
    IMAGE_DESCRIPTION_BACKEND: "vision",
    LIMITS: [{ key: "user", requests_per_minute: 1, features: ["IMAGE_DESCRIPTION"] }],
  }, { onWarning: () => {} });
  const metadata = { user: "ana" };
  const image = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
  for (let i = 0; i < 3; i++) {
    await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata }).text();
  }
  const vision = () => ai.getBackend(BackendFeature.IMAGE_DESCRIPTION);
  await vision().describeImage({ image, prompt: "Alt:", metadata }).text();
  await assert.rejects(
    vision().describeImage({ image, prompt: "Alt:", metadata }).text(),
    LimitExceededError,
  );
  const usage = await ai.getUsage({ key: "user", value: "ana" });
  assert.deepEqual(usage.rules[0].features, ["IMAGE_DESCRIPTION"]);
  assert.equal(usage.rules[0].counts.requests_per_minute!.used, 1);
});

Deno.test("a rule with aliases counts only those aliases, and its refusal fails over to another alias", async () => {
  await using primary = await startPeer();
  await using backup = await startPeer();
  const ai = createAI({
    PROVIDERS: {
      primary: provider(primary, { fallbacks: ["backup"] }),
      backup: provider(backup),
    },
    BACKENDS: {
      default: { CLASS: "provider", CONFIG: { PROVIDER: "primary", MAX_OUTPUT_TOKENS: 40 } },
    },
    LIMITS: [{ key: "user", requests_per_minute: 2, aliases: ["primary"] }],
  });
  const ask = () =>
    ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "ana" } });
  for (let i = 0; i < 5; i++) {
    const answer = ask();
    await answer.text();
    const usage = await answer.usage();
    assert.equal(usage?.alias, i < 2 ? "primary" : "backup");
    if (i >= 2) {
      assert.equal(usage?.fallbackFrom?.[0].alias, "primary");
      assert.equal(usage?.fallbackFrom?.[0].error?.name, "LimitExceededError");
    }
  }
  assert.equal(chatRequests(primary), 2);
  assert.equal(chatRequests(backup), 3);
  // A user's refusals put no alias in cooldown: another user still gets the primary.
  await ai.getBackend().promptWithContext({
    prePrompt: "",
    context: "hi",
    metadata: { user: "ben" },
  })
    .text();
  assert.equal(chatRequests(primary), 3);
});

Deno.test("a refusal by a rule for every alias does not fail over", async () => {
  await using primary = await startPeer();
  await using backup = await startPeer();
  const ai = createAI({
    PROVIDERS: { primary: provider(primary, { fallbacks: ["backup"] }), backup: provider(backup) },
    BACKENDS: {
      default: { CLASS: "provider", CONFIG: { PROVIDER: "primary", MAX_OUTPUT_TOKENS: 40 } },
    },
    LIMITS: [{ key: "user", requests_per_minute: 1 }],
  });
  const ask = () =>
    ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "ana" } })
      .text();
  await ask();
  await assert.rejects(ask(), LimitExceededError);
  assert.equal(chatRequests(primary) + chatRequests(backup), 1);
});

Deno.test("a failed request counts one request and no tokens", async () => {
  await using peer = await startPeer();
  const ai = createAI(
    settings(peer, [{ key: "user", requests_per_minute: 10, tokens_per_minute: 10_000 }]),
  );
  peer.enqueue({ status: 500, error: "the model fell over" });
  await assert.rejects(
    ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "u" } })
      .text(),
    { status: 500 },
  );
  const counts = (await ai.getUsage({ key: "user", value: "u" })).rules[0].counts;
  assert.equal(counts.requests_per_minute!.used, 1);
  assert.equal(counts.tokens_per_minute!.used, 0);
});

Deno.test("a stream cut after its first chunks settles with the prompt and the text it got", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", tokens_per_minute: 10_000 }], 200));
  peer.enqueue({ stream: ["one", " two", " three", " four"], cutAfter: 2, cutWithError: true });
  const response = ai.getBackend().promptWithContext({
    prePrompt: "",
    context: "hi",
    metadata: { user: "u" },
  });
  const chunks: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of response) chunks.push(chunk);
    })(),
    StreamInterruptedError,
  );
  const messages = [{ role: "system" as const, content: "" }, {
    role: "user" as const,
    content: "hi",
  }];
  const prompt = await countMessageTokens(messages, MODEL);
  const counted = (await ai.getUsage({ key: "user", value: "u" })).rules[0].counts
    .tokens_per_minute!;
  // The prompt and the two words received (one token each), not the answer cap.
  assert.deepEqual(chunks, ["one", " two"]);
  assert.equal(counted.used, prompt + 2);
});

Deno.test("an aborted request settles with what it used: its prompt and the text so far", async () => {
  await using peer = await startPeer();
  const ai = createAI(
    settings(peer, [{ key: "user", requests_per_minute: 10, tokens_per_minute: 10_000 }], 200),
  );
  peer.setHandler(() => ({
    stream: ["one", " two", " three", " four", " five"],
    chunkDelayMs: 50,
  }));
  const controller = new AbortController();
  const response = ai.getBackend().promptWithContext({
    prePrompt: "",
    context: "hi",
    signal: controller.signal,
    metadata: { user: "u" },
  });
  const chunks: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of response) {
        chunks.push(chunk);
        if (chunks.length === 2) controller.abort();
      }
    })(),
    { name: "AbortError" },
  );
  const messages = [{ role: "system" as const, content: "" }, {
    role: "user" as const,
    content: "hi",
  }];
  const prompt = await countMessageTokens(messages, MODEL);
  const counts = (await ai.getUsage({ key: "user", value: "u" })).rules[0].counts;
  assert.equal(counts.requests_per_minute!.used, 1);
  assert.equal(counts.tokens_per_minute!.used, prompt + 2);
  // A reader that stops early settles the same way.
  const early = ai.getBackend().promptWithContext({
    prePrompt: "",
    context: "hi",
    metadata: { user: "v" },
  });
  for await (const _ of early) break;
  const stopped = (await ai.getUsage({ key: "user", value: "v" })).rules[0].counts;
  assert.equal(stopped.requests_per_minute!.used, 1);
  assert.equal(stopped.tokens_per_minute!.used, prompt + 1);
});

Deno.test("500 concurrent requests against a 100,000-token budget never get more than it", async () => {
  await using peer = await startPeer();
  let answered = 0;
  // Each answer uses its whole cap (max_tokens words), so each settles close to its reservation.
  peer.setHandler((request) => ({
    text: "w ".repeat(request.body.max_tokens).trim(),
    delayMs: (answered++ % 7) * 2,
  }));
  const budget = 100_000;
  const ai = createAI({
    ...settings(peer, [{ key: "site", tokens_per_day: budget }], 400),
  });
  let refused = 0;
  let used = 0;
  await Promise.all(Array.from({ length: 500 }, async (_, index) => {
    const context = "word ".repeat(20 + (index % 40));
    try {
      const answer = ai.getBackend().promptWithContext({
        prePrompt: "Fix:",
        context,
        metadata: { site: "blog" },
      });
      await answer.text();
      const usage = await answer.usage();
      used += usage!.totalTokens;
    } catch (error) {
      assert.ok(error instanceof LimitExceededError, String(error));
      refused++;
    }
  }));
  const counted = (await ai.getUsage({ key: "site", value: "blog" })).rules[0].counts
    .tokens_per_day!;
  assert.equal(counted.used, used);
  assert.ok(used <= budget, `granted ${used} tokens of ${budget}`);
  assert.ok(used > budget * 0.9, `only ${used} tokens of ${budget} granted`);
  assert.ok(refused > 0, "the budget should run out");
  assert.equal(chatRequests(peer), 500 - refused);
});

Deno.test("provider calls are limited too, and the limits hold for a stream", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", requests_per_minute: 1 }]));
  for await (const _ of ai.getProvider().stream({ messages: MESSAGES, metadata: { user: "s" } })) {
    // read it all
  }
  await assert.rejects(
    (async () => {
      for await (
        const _ of ai.getProvider().stream({ messages: MESSAGES, metadata: { user: "s" } })
      ) {
        // nothing comes
      }
    })(),
    LimitExceededError,
  );
  assert.equal(chatRequests(peer), 1);
});

Deno.test("on_store_error: 'deny' refuses and 'allow' warns when the store fails", async () => {
  await using peer = await startPeer();
  const failing: LimitStore = Object.assign(new MemoryLimitStore(), {
    reserve: () => Promise.reject(new Error("connection refused")),
  });
  const deny = createAI(settings(peer, [{ key: "user", requests_per_minute: 5 }]), {
    limitStore: failing,
  });
  await assert.rejects(
    deny.getProvider().completion({ messages: MESSAGES, metadata: { user: "u" } }),
    isLimit((error) => {
      assert.equal(error.storeUnreachable, true);
      assert.equal(error.retryable, true);
      assert.match(error.message, /limit store cannot be reached, so the request was refused/);
    }),
  );
  assert.equal(chatRequests(peer), 0);
  const warnings: Error[] = [];
  const allow = createAI(
    settings(peer, { rules: [{ key: "user", requests_per_minute: 5 }], on_store_error: "allow" }),
    { limitStore: failing, onWarning: (warning) => warnings.push(warning) },
  );
  await allow.getProvider().completion({ messages: MESSAGES, metadata: { user: "u" } });
  assert.equal(chatRequests(peer), 1);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /went through uncounted \(LIMITS on_store_error is "allow"\)/);
  assert.equal((warnings[0].cause as Error).message, "connection refused");
});

Deno.test("the fallback cooldowns are kept in the limit store", async () => {
  await using backup = await startPeer();
  const calls: string[] = [];
  const store = new MemoryLimitStore();
  const spy: LimitStore = {
    reserve: (charges) => store.reserve(charges),
    settle: (settlements, at) => store.settle(settlements, at),
    read: (counters) => store.read(counters),
    isCoolingDown(key) {
      calls.push(`isCoolingDown ${key}`);
      return store.isCoolingDown(key);
    },
    recordFailure(key, options) {
      calls.push(`recordFailure ${key}`);
      store.recordFailure(key, options);
    },
    recordSuccess(key) {
      calls.push(`recordSuccess ${key}`);
      store.recordSuccess(key);
    },
  };
  const down = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (down.addr as Deno.NetAddr).port;
  down.close();
  const ai = createAI({
    PROVIDERS: {
      primary: {
        ...provider(backup, { api_base: `http://127.0.0.1:${port}/v1` }),
        fallbacks: ["backup"],
        cooldown_failures: 1,
      },
      backup: provider(backup),
    },
  }, { limitStore: spy });
  await ai.getProvider("primary").completion({ messages: MESSAGES });
  await ai.getProvider("primary").completion({ messages: MESSAGES });
  assert.ok(calls.includes("recordFailure provider:primary"), calls.join(", "));
  assert.equal(store.isCoolingDown("provider:primary"), true);
  assert.equal(chatRequests(backup), 2);
});

Deno.test("without LIMITS nothing is wrapped or counted", async () => {
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
  });
  assert.ok(ai.getBackend() instanceof EchoBackend);
  await assert.rejects(ai.getUsage({ key: "user", value: "1" }), {
    name: "TypeError",
    message: 'No LIMITS rule has key "user" (keys: none)',
  });
});

Deno.test("a request whose answer cap is unknown reserves the default output reserve, not nothing", async () => {
  await using peer = await startPeer();
  const ai = createAI({
    PROVIDERS: { default: provider(peer, { model: "house-model-without-a-table-entry" }) },
    LIMITS: [{ key: "user", tokens_per_minute: 100_000 }],
  });
  const gate = held();
  const sent = whenRequests(peer, 1, () => gate.reply);
  const answer = ai.getProvider().completion({ messages: MESSAGES, metadata: { user: "ana" } });
  await sent;
  const prompt = await countMessageTokens(MESSAGES, "house-model-without-a-table-entry");
  const during = await ai.getUsage({ key: "user", value: "ana" });
  assert.equal(
    during.rules[0].counts.tokens_per_minute?.used,
    prompt + DEFAULT_RESERVED_OUTPUT_TOKENS,
  );
  gate.release({ text: "The cat sat on the mat." });
  const completion = await answer;
  const after = await ai.getUsage({ key: "user", value: "ana" });
  assert.equal(after.rules[0].counts.tokens_per_minute?.used, completion.usage!.totalTokens);
});

const TITLE_SCHEMA = {
  type: "object",
  properties: { title: { type: "string" } },
  required: ["title"],
  additionalProperties: false,
};

Deno.test("completeObject() reserves its own max_tokens and room for its repair request, and settles both", async () => {
  await using peer = await startPeer();
  const ai = createAI(settings(peer, [{ key: "user", tokens_per_minute: 100_000 }]));
  const gate = held();
  const sent = whenRequests(peer, 1, () => gate.reply);
  const answer = ai.getProvider().completeObject({
    messages: MESSAGES,
    schema: TITLE_SCHEMA,
    options: { max_tokens: 50 },
    metadata: { user: "ana" },
  });
  await sent;
  const prompt = await countMessageTokens(MESSAGES, MODEL);
  const during = await ai.getUsage({ key: "user", value: "ana" });
  const used = during.rules[0].counts.tokens_per_minute!.used;
  // The first request (prompt + 50) and a repair (the prompt again, the refused answer, 50).
  assert.ok(used >= 2 * prompt + 3 * 50, `reserved ${used}`);
  // The call's max_tokens, not the model's maximum output (16,384).
  assert.ok(used < prompt + 16_384, `reserved ${used}`);
  // An answer off the schema, then the repaired one: both requests count.
  let second = 0;
  peer.setHandler(() => {
    second++;
    return { text: JSON.stringify({ title: "Cats" }) };
  });
  gate.release({ text: JSON.stringify({ name: "not a title" }) });
  const result = await answer;
  assert.deepEqual(result.object, { title: "Cats" });
  assert.equal(second, 1);
  const after = await ai.getUsage({ key: "user", value: "ana" });
  assert.equal(after.rules[0].counts.tokens_per_minute?.used, result.usage!.totalTokens);
});

Deno.test("an onWarning that throws never breaks a request through LIMITS", async () => {
  await using peer = await startPeer();
  const failing: LimitStore = Object.assign(new MemoryLimitStore(), {
    reserve: () => Promise.reject(new Error("connection refused")),
    settle: () => Promise.reject(new Error("connection refused")),
  });
  let warned = 0;
  const ai = createAI(
    settings(peer, { rules: [{ key: "user", requests_per_minute: 5 }], on_store_error: "allow" }),
    {
      limitStore: failing,
      onWarning: () => {
        warned++;
        throw new Error("the log server is down");
      },
    },
  );
  const answer = await ai.getProvider().completion({ messages: MESSAGES, metadata: { user: "u" } });
  assert.ok(answer.choices[0].message.content);
  assert.ok(warned >= 1);
  // A store that reserves but cannot settle: the warning about it throws too.
  const settleFails: LimitStore = Object.assign(new MemoryLimitStore(), {
    settle: () => Promise.reject(new Error("connection refused")),
  });
  const ai2 = createAI(settings(peer, [{ key: "user", tokens_per_minute: 100_000 }]), {
    limitStore: settleFails,
    onWarning: () => {
      warned++;
      throw new Error("the log server is down");
    },
  });
  const before = warned;
  await ai2.getProvider().completion({ messages: MESSAGES, metadata: { user: "u" } });
  await ai2.getUsage({ key: "user", value: "u" });
  assert.ok(warned > before);
});
