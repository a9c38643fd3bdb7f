// The Redis limit store against a real redis-server (tests/_redis.ts): reserve, settle
// and read in fixed windows on the server's clock, all-or-none reservations, the EVALSHA
// to EVAL fallback, concurrent clients that never take more than the limit, cooldowns,
// and a client that is not connected or a server that does not answer.
import assert from "node:assert/strict";
import { createRedisStore, type RedisClientLike } from "../redis.ts";
import {
  connectRedis,
  type RedisServer,
  SKIP_REDIS,
  startRedis,
  type TestRedisClient,
  warnSkipped,
  whenDown,
} from "./_redis.ts";

warnSkipped("tests/redis_store_test.ts");

const MINUTE = 60_000;

/** One server and client per test, closed after it. */
function redisTest(
  name: string,
  run: (context: { server: RedisServer; client: TestRedisClient }) => Promise<void>,
): void {
  Deno.test({ name, ignore: SKIP_REDIS }, async () => {
    await using server = await startRedis();
    const client = await connectRedis(server);
    try {
      await run({ server, client });
    } finally {
      client.destroy();
    }
  });
}

redisTest("createRedisStore() reserves, settles and reads counters", async ({ client }) => {
  const store = createRedisStore(client);
  const charges = [
    { key: "tpm|*|user=42", amount: 300, limit: 1000, windowMs: MINUTE },
    { key: "rpm|*|user=42", amount: 1, limit: 10, windowMs: MINUTE },
  ];
  const first = await store.reserve(charges);
  assert.equal(first.granted, true);
  const second = await store.reserve(charges);
  assert.equal(second.granted, true);
  const read = await store.read(charges);
  assert.deepEqual(read.map((state) => state.used), [600, 2]);
  assert.ok(read.every((state) => state.resetMs > 0 && state.resetMs <= MINUTE));
  // The first answer used 120 tokens of its 300: 180 go back.
  if (first.granted) {
    await store.settle([{ key: charges[0].key, delta: -180, windowMs: MINUTE }], first.at);
  }
  assert.deepEqual((await store.read(charges)).map((state) => state.used), [420, 2]);
  // The keys carry the prefix and expire with their window.
  const ttl = Number(await client.sendCommand(["PTTL", "{cms-ai}:limit:tpm|*|user=42"]));
  assert.ok(ttl > 0 && ttl <= 2 * MINUTE, `PTTL ${ttl}`);
});

redisTest("a Redis reservation adds every charge or none", async ({ client }) => {
  const store = createRedisStore(client, { prefix: "{t}:" });
  const roomy = { key: "tpd|*|site=blog", amount: 500, limit: 100_000, windowMs: 86_400_000 };
  const tight = { key: "tpm|*|user=1", amount: 500, limit: 800, windowMs: MINUTE };
  assert.equal((await store.reserve([roomy, tight])).granted, true);
  const refused = await store.reserve([roomy, tight]);
  assert.equal(refused.granted, false);
  if (!refused.granted) {
    assert.equal(refused.index, 1);
    assert.equal(refused.used, 500);
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= MINUTE);
  }
  // The refused reservation added nothing to the counter that had room.
  assert.deepEqual((await store.read([roomy, tight])).map((state) => state.used), [500, 500]);
});

redisTest(
  "a settlement never takes a counter below 0, nor touches a later window",
  async ({ client }) => {
    const store = createRedisStore(client);
    const charge = { key: "tpm|*|global=*", amount: 50, limit: 1000, windowMs: MINUTE };
    const granted = await store.reserve([charge]);
    assert.ok(granted.granted);
    await store.settle([{ key: charge.key, delta: -500, windowMs: MINUTE }], granted.at);
    assert.equal((await store.read([charge]))[0].used, 0);
    // A reservation of a window that has ended: nothing changes now.
    await store.reserve([charge]);
    await store.settle([{ key: charge.key, delta: 400, windowMs: MINUTE }], granted.at - MINUTE);
    assert.equal((await store.read([charge]))[0].used, 50);
  },
);

redisTest(
  "the Redis store falls back to EVAL when the server has no cached script",
  async ({ client }) => {
    const sent: string[] = [];
    const spy: RedisClientLike = {
      get isReady() {
        return client.isReady;
      },
      sendCommand(args) {
        sent.push(args[0]);
        return client.sendCommand(args);
      },
    };
    const store = createRedisStore(spy);
    const charge = { key: "rpm|*|user=1", amount: 1, limit: 5, windowMs: MINUTE };
    await store.reserve([charge]);
    assert.deepEqual(sent, ["EVALSHA", "EVAL"]); // a new server has no script yet
    await store.reserve([charge]);
    assert.deepEqual(sent.slice(2), ["EVALSHA"]); // EVAL cached it
    await client.sendCommand(["SCRIPT", "FLUSH"]);
    await store.reserve([charge]);
    assert.deepEqual(sent.slice(3), ["EVALSHA", "EVAL"]);
    assert.equal((await store.read([charge]))[0].used, 3);
  },
);

redisTest("clients sharing a Redis budget never take more than it", async ({ server, client }) => {
  const others = await Promise.all([connectRedis(server), connectRedis(server)]);
  try {
    const stores = [client, ...others].map((each) => createRedisStore(each, { timeoutMs: 30_000 }));
    const limit = 10_000;
    let granted = 0;
    let refused = 0;
    await Promise.all(
      Array.from({ length: 600 }, async (_, index) => {
        const amount = 10 + (index % 50);
        const result = await stores[index % 3].reserve([
          { key: "tpm|*|global=*", amount, limit, windowMs: MINUTE },
        ]);
        if (result.granted) granted += amount;
        else refused++;
      }),
    );
    const counted = (await stores[0].read([{ key: "tpm|*|global=*", windowMs: MINUTE }]))[0].used;
    assert.equal(counted, granted);
    assert.ok(granted <= limit, `granted ${granted} of ${limit}`);
    assert.ok(granted > limit - 60, `only ${granted} of ${limit} granted`);
    assert.ok(refused > 0);
  } finally {
    for (const other of others) other.destroy();
  }
});

redisTest(
  "Redis cooldowns: skipped after the failures in a row, then one try",
  async ({ client }) => {
    const store = createRedisStore(client);
    assert.equal(await store.isCoolingDown("provider:primary"), false);
    await store.recordFailure("provider:primary", { threshold: 2, seconds: 0.2 });
    assert.equal(await store.isCoolingDown("provider:primary"), false);
    await store.recordFailure("provider:primary", { threshold: 2, seconds: 0.2 });
    assert.equal(await store.isCoolingDown("provider:primary"), true);
    // Once the cooldown has ended: one caller tries the alias, the others still skip it.
    const until = Number(
      await client.sendCommand(["HGET", "{cms-ai}:cooldown:provider:primary", "u"]),
    );
    await client.sendCommand([
      "HSET",
      "{cms-ai}:cooldown:provider:primary",
      "u",
      String(until - 1000),
    ]);
    const tries = await Promise.all([1, 2, 3].map(() => store.isCoolingDown("provider:primary")));
    assert.deepEqual(tries.filter((cooling) => !cooling).length, 1);
    await store.recordSuccess("provider:primary");
    assert.equal(await store.isCoolingDown("provider:primary"), false);
    // A threshold of 0 never cools down.
    for (let i = 0; i < 5; i++) {
      await store.recordFailure("backend:b", { threshold: 0, seconds: 30 });
    }
    assert.equal(await store.isCoolingDown("backend:b"), false);
  },
);

redisTest(
  "the Redis store fails at once while its client is not connected",
  async ({ server, client }) => {
    let sent = 0;
    const spy: RedisClientLike = {
      get isReady() {
        return client.isReady;
      },
      sendCommand(args) {
        sent++;
        return client.sendCommand(args);
      },
    };
    // No bound on waiting: only the client's state can make it fail.
    const store = createRedisStore(spy, { timeoutMs: 0 });
    const down = whenDown(client);
    await server.stop();
    await down;
    assert.equal(client.isReady, false);
    await assert.rejects(
      Promise.resolve(
        store.reserve([{ key: "rpm|*|user=1", amount: 1, limit: 5, windowMs: MINUTE }]),
      ),
      { name: "LimitStoreError", message: /not connected/ },
    );
    // Nothing was queued on the client, to run when it reconnects.
    assert.equal(sent, 0);
  },
);

Deno.test("the Redis store gives up on a server that does not answer within timeoutMs", async () => {
  let pending = 0;
  const store = createRedisStore({
    isReady: true,
    sendCommand() {
      pending++;
      return new Promise(() => {}); // never answers
    },
  }, { timeoutMs: 50 });
  await assert.rejects(Promise.resolve(store.isCoolingDown("provider:a")), {
    name: "LimitStoreError",
    message: /did not answer within 50 ms/,
  });
  assert.equal(pending, 1);
});

Deno.test("createRedisStore() rejects a client without sendCommand() and bad options", () => {
  assert.throws(() => createRedisStore({} as RedisClientLike), TypeError);
  assert.throws(() => createRedisStore(null as unknown as RedisClientLike), /sendCommand/);
  const client: RedisClientLike = { sendCommand: () => Promise.resolve(null) };
  assert.throws(() => createRedisStore(client, { timeoutMs: -1 }), /timeoutMs/);
  assert.throws(() => createRedisStore(client, { prefix: 1 as unknown as string }), /prefix/);
});

Deno.test("the Redis store reports a reply that is not a list", async () => {
  const store = createRedisStore({ sendCommand: () => Promise.resolve("OK") });
  await assert.rejects(
    Promise.resolve(store.reserve([{ key: "k", amount: 1, limit: 1, windowMs: MINUTE }])),
    { name: "LimitStoreError", message: /not a list/ },
  );
});
