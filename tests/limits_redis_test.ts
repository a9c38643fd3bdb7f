// LIMITS on a real redis-server (tests/_redis.ts) shared by several processes: two child
// processes (tests/_limits_child.ts) with 300 requests at once each never get more than
// their one budget together; Redis stopped mid-run ("deny" refuses, "allow" lets requests
// through with a warning, an answer in flight still ends); Redis restarted: counting resumes.
import assert from "node:assert/strict";
import { type AISettings, createAI, LimitExceededError } from "../mod.ts";
import { createRedisStore } from "../redis.ts";
import { type Peer, type PeerReply, startPeer } from "./_peer.ts";
import { chatRequests } from "./_operations.ts";
import {
  connectRedis,
  SKIP_REDIS,
  startRedis,
  warnSkipped,
  whenDown,
  whenReady,
} from "./_redis.ts";

warnSkipped("tests/limits_redis_test.ts");

const CHILD = new URL("./_limits_child.ts", import.meta.url).pathname;

/** Runs the two children: both connect, then both start on "go"; resolves to their reports. */
async function runChildren(
  redisUrl: string,
  peer: Peer,
  count: number,
  budget: number,
): Promise<{ granted: number; refused: number; tokens: number; failures: string[] }[]> {
  const children = [0, 1].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        "--allow-read",
        CHILD,
        redisUrl,
        peer.url,
        String(count),
        String(budget),
      ],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const lines = children.map((child) =>
    child.stdout.pipeThrough(new TextDecoderStream()).getReader()
  );
  const stderr = children.map((child) => new Response(child.stderr).text());
  /** The next line a child prints. */
  const buffers = ["", ""];
  const nextLine = async (index: number): Promise<string> => {
    while (!buffers[index].includes("\n")) {
      const { value, done } = await lines[index].read();
      if (done) {
        throw new Error(`child ${index} ended early: ${buffers[index]}${await stderr[index]}`);
      }
      buffers[index] += value;
    }
    const end = buffers[index].indexOf("\n");
    const line = buffers[index].slice(0, end);
    buffers[index] = buffers[index].slice(end + 1);
    return line;
  };
  try {
    assert.deepEqual(await Promise.all([nextLine(0), nextLine(1)]), ["ready", "ready"]);
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    const reports = await Promise.all([nextLine(0), nextLine(1)]);
    const statuses = await Promise.all(children.map((child) => child.status));
    assert.ok(statuses.every((status) => status.success), await Promise.all(stderr).then(String));
    return reports.map((report) => JSON.parse(report));
  } finally {
    for (const reader of lines) reader.cancel().catch(() => {});
    for (const child of children) {
      try {
        child.kill();
      } catch {
        // already ended
      }
    }
    await Promise.allSettled(children.map((child) => child.status));
  }
}

Deno.test({
  name: "two processes sharing a Redis budget never get more than it (2 x 300 requests at once)",
  ignore: SKIP_REDIS,
}, async () => {
  await using redis = await startRedis();
  await using peer = await startPeer();
  // Each answer uses its whole cap (max_tokens words): settlements give back little. Each
  // process alone asks for about 67,000 tokens, both together for about 134,000.
  peer.setHandler((request) => ({ text: "w ".repeat(request.body.max_tokens).trim() }));
  const budget = 100_000;
  const reports = await runChildren(redis.url, peer, 300, budget);
  const granted = reports.reduce((sum, report) => sum + report.granted, 0);
  const tokens = reports.reduce((sum, report) => sum + report.tokens, 0);
  assert.deepEqual(reports.flatMap((report) => report.failures), []);
  const refused = reports.reduce((sum, report) => sum + report.refused, 0);
  assert.equal(granted + refused, 600);
  assert.ok(refused > 0, "the budget should run out");
  assert.ok(reports.every((report) => report.granted > 0), "both processes got a share");
  assert.ok(tokens <= budget, `granted ${tokens} tokens of ${budget}`);
  assert.ok(tokens > budget * 0.9, `only ${tokens} of ${budget} granted`);
  assert.equal(chatRequests(peer), granted);
  // The shared count is what the answers used, settled.
  const client = await connectRedis(redis);
  try {
    const ai = createAI({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
      LIMITS: [{ key: "site", tokens_per_day: budget }],
    }, { limitStore: createRedisStore(client) });
    const counted = (await ai.getUsage({ key: "site", value: "shared" })).rules[0].counts;
    assert.equal(counted.tokens_per_day?.used, tokens);
  } finally {
    client.destroy();
  }
});

function settings(peer: Peer, onStoreError: "deny" | "allow"): AISettings {
  return {
    PROVIDERS: {
      default: {
        provider: "openai_compatible",
        model: "gpt-4o-mini",
        api_base: peer.url,
        api_key: "sk-redis-test",
        max_retries: 0,
      },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { MAX_OUTPUT_TOKENS: 50 } } },
    LIMITS: {
      rules: [{ key: "user", requests_per_minute: 3, tokens_per_minute: 100_000 }],
      on_store_error: onStoreError,
    },
  };
}

Deno.test({
  name: "Redis stopped mid-run: 'deny' refuses, 'allow' warns; restarted: counting resumes",
  ignore: SKIP_REDIS,
}, async () => {
  await using redis = await startRedis();
  await using peer = await startPeer();
  const client = await connectRedis(redis);
  try {
    const store = createRedisStore(client);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    const deny = createAI(settings(peer, "deny"), { limitStore: store, onWarning });
    const allow = createAI(settings(peer, "allow"), { limitStore: store, onWarning });
    const ask = (ai: typeof deny, user: string) =>
      ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user } });
    const requests = (ai: typeof deny, user: string) =>
      ai.getUsage({ key: "user", value: user }).then((usage) =>
        usage.rules[0].counts.requests_per_minute!.used
      );

    await ask(deny, "ana").text();
    assert.equal(await requests(deny, "ana"), 1);

    // An answer in flight when Redis stops still ends; its settlement fails with a warning.
    let release!: (reply: PeerReply) => void;
    const held = new Promise<PeerReply>((resolve) => release = resolve);
    let received!: () => void;
    const sent = new Promise<void>((resolve) => received = resolve);
    peer.setHandler(() => {
      received();
      return held;
    });
    const inFlight = ask(deny, "ana");
    const text = inFlight.text();
    await sent;
    const down = whenDown(client);
    await redis.stop();
    await down;
    peer.setHandler(() => ({ text: "Fine." }));
    release({ text: "Finished." });
    assert.equal(await text, "Finished.");

    // Redis is down: "deny" refuses before sending, "allow" sends and warns.
    const before = chatRequests(peer);
    await assert.rejects(ask(deny, "ana").text(), (error: unknown) => {
      assert.ok(error instanceof LimitExceededError);
      assert.equal(error.storeUnreachable, true);
      assert.equal(error.status, 429);
      return true;
    });
    assert.equal(chatRequests(peer), before);
    assert.equal(await ask(allow, "ana").text(), "Fine.");
    assert.equal(chatRequests(peer), before + 1);
    assert.ok(
      warnings.some((warning) => /usage was not settled/.test(warning.message)),
      warnings.map((warning) => warning.message).join("; "),
    );
    assert.ok(warnings.some((warning) => /went through uncounted/.test(warning.message)));
    await assert.rejects(deny.getUsage({ key: "user", value: "ana" }), { name: "LimitStoreError" });

    // Restarted (empty: nothing was saved): counting starts again and the limit holds.
    await redis.restart();
    await whenReady(client);
    for (let i = 0; i < 3; i++) await ask(deny, "ana").text();
    assert.equal(await requests(deny, "ana"), 3);
    await assert.rejects(ask(deny, "ana").text(), (error: unknown) => {
      assert.ok(error instanceof LimitExceededError);
      assert.equal(error.storeUnreachable, false);
      assert.equal(error.limit, "requests_per_minute");
      return true;
    });
  } finally {
    client.destroy();
  }
});
