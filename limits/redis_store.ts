/**
 * The Redis {@link LimitStore}: limit counts and fallback cooldowns shared by
 * every process that uses the same Redis server. It drives the application's
 * own client (node-redis, `npm:redis` v4 or v5) through the small
 * {@link RedisClientLike} interface, so the package itself never loads a
 * Redis library.
 *
 * @module
 */
import type {
  CounterState,
  LimitCharge,
  LimitSettlement,
  LimitStore,
  ReserveResult,
} from "./types.ts";
import type { RecordFailureOptions } from "../operations/cooldown.ts";
import { COOLING, FAILURE, READ, RESERVE, SETTLE } from "./_redis_scripts.ts";

/**
 * What the Redis store needs of a client: `sendCommand()` (one command, its
 * arguments as strings, the reply as the client parses it) and, when it has
 * one, `isReady` (`false` while it is not connected: the store then fails at
 * once instead of queueing the command). A node-redis client
 * (`createClient()` of `npm:redis` v4 or v5) has both.
 *
 * @example A stand-in client (a test double) that answers PING
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RedisClientLike } from "./redis_store.ts";
 * const client: RedisClientLike = {
 *   isReady: true,
 *   sendCommand: (args) => Promise.resolve(args[0] === "PING" ? "PONG" : null),
 * };
 * assert.equal(await client.sendCommand(["PING"]), "PONG");
 * ```
 */
export interface RedisClientLike {
  /** Sends one command (`["EVALSHA", sha, "1", key, ...]`) and resolves to its reply. */
  sendCommand(args: string[]): Promise<unknown>;
  /** Whether the client is connected and ready (node-redis: `client.isReady`). */
  readonly isReady?: boolean;
}

/**
 * Options of {@link createRedisStore}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RedisStoreOptions } from "./redis_store.ts";
 * const options: RedisStoreOptions = { prefix: "{blog-ai}:", timeoutMs: 500 };
 * assert.equal(options.timeoutMs, 500);
 * ```
 */
export interface RedisStoreOptions {
  /**
   * Prepended to every key (default `"{cms-ai}:"`). The braces make it a
   * Redis Cluster hash tag, so that the keys a script touches share one slot;
   * give each application (or each set of `LIMITS` that must not share
   * counts) its own prefix.
   */
  prefix?: string;
  /**
   * Milliseconds to wait for an answer before the store counts as unreachable
   * (default 1000; 0: no bound). A command that answers later still counts.
   */
  timeoutMs?: number;
}

/**
 * The Redis store could not be reached (its client is not connected, or it
 * did not answer within `timeoutMs`) or answered with an error. The limits
 * handle it as `LIMITS.on_store_error` says; `ai.getUsage()` rejects with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRedisStore, LimitStoreError } from "./redis_store.ts";
 * const store = createRedisStore({ isReady: false, sendCommand: () => Promise.resolve(null) });
 * await assert.rejects(Promise.resolve(store.isCoolingDown("provider:a")), LimitStoreError);
 * ```
 */
export class LimitStoreError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LimitStoreError";
  }
}

const DEFAULT_PREFIX = "{cms-ai}:";
const DEFAULT_TIMEOUT_MS = 1000;

/** A script with its SHA-1, run with EVALSHA (EVAL when the server does not know it). */
class Script {
  readonly source: string;
  /** The SHA-1 once computed (then no await is needed). */
  sha: string | undefined;
  #computing: Promise<string> | undefined;

  constructor(source: string) {
    this.source = source;
  }

  computeSha(): Promise<string> {
    return this.#computing ??= sha1(this.source).then((sha) => this.sha = sha);
  }
}

/** A command waiting for its answer, and when it stops waiting. */
interface Waiting {
  readonly deadline: number;
  readonly reject: (error: Error) => void;
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}

/** A reply as a list of numbers (node-redis gives numbers; another client may give strings). */
function numbers(reply: unknown, what: string): number[] {
  if (!Array.isArray(reply)) {
    throw new LimitStoreError(`Redis answered ${what} with ${typeof reply}, not a list`);
  }
  return reply.map((item) => Number(item));
}

/**
 * The Redis store. Each reservation, settlement and read is one Lua script
 * (EVALSHA, falling back to EVAL once when the server does not have it
 * cached): one round trip, atomic on the server, so two processes can never
 * both take the last tokens. Counts live in fixed windows on the server's
 * clock and expire with them; nothing needs to persist across a Redis restart
 * (counting starts again from zero, see docs/operations.md).
 */
class RedisLimitStore implements LimitStore {
  readonly #client: RedisClientLike;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #scripts = {
    reserve: new Script(RESERVE),
    settle: new Script(SETTLE),
    read: new Script(READ),
    cooling: new Script(COOLING),
    failure: new Script(FAILURE),
  };

  constructor(client: RedisClientLike, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  async reserve(charges: readonly LimitCharge[]): Promise<ReserveResult> {
    const keys: string[] = [];
    const args: string[] = [];
    for (const charge of charges) {
      keys.push(this.#limitKey(charge.key));
      args.push(String(charge.amount), String(charge.limit), String(charge.windowMs));
    }
    const reply = numbers(await this.#run(this.#scripts.reserve, keys, args), "a reservation");
    if (reply[0] === 1) return { granted: true, at: reply[1] };
    return { granted: false, index: reply[1], used: reply[2], retryAfterMs: reply[3] };
  }

  async settle(settlements: readonly LimitSettlement[], at: number): Promise<void> {
    const keys: string[] = [];
    const args: string[] = [String(at)];
    for (const settlement of settlements) {
      keys.push(this.#limitKey(settlement.key));
      args.push(String(settlement.delta), String(settlement.windowMs));
    }
    await this.#run(this.#scripts.settle, keys, args);
  }

  async read(
    counters: readonly { readonly key: string; readonly windowMs: number }[],
  ): Promise<CounterState[]> {
    const keys = counters.map((counter) => this.#limitKey(counter.key));
    const args = counters.map((counter) => String(counter.windowMs));
    const reply = numbers(await this.#run(this.#scripts.read, keys, args), "a read");
    return counters.map((_, index) => ({ used: reply[2 * index], resetMs: reply[2 * index + 1] }));
  }

  async isCoolingDown(key: string): Promise<boolean> {
    return Number(await this.#run(this.#scripts.cooling, [this.#cooldownKey(key)], [])) === 1;
  }

  async recordFailure(key: string, options: RecordFailureOptions): Promise<void> {
    await this.#run(this.#scripts.failure, [this.#cooldownKey(key)], [
      String(options.threshold),
      String(options.seconds),
    ]);
  }

  async recordSuccess(key: string): Promise<void> {
    await this.#send(["DEL", this.#cooldownKey(key)]);
  }

  #limitKey(key: string): string {
    return `${this.#prefix}limit:${key}`;
  }

  #cooldownKey(key: string): string {
    return `${this.#prefix}cooldown:${key}`;
  }

  async #run(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#send(["EVALSHA", script.sha ?? await script.computeSha(), ...tail]);
    } catch (error) {
      // A server that does not have the script yet (a new or restarted one) gets it whole.
      if (!isNoScript(error)) throw error;
      return await this.#send(["EVAL", script.source, ...tail]);
    }
  }

  /** Sends one command, bounded by the timeout; any failure is a {@link LimitStoreError}. */
  #send(args: string[]): Promise<unknown> {
    const client = this.#client;
    if (client.isReady === false) {
      return Promise.reject(new LimitStoreError("The Redis client is not connected"));
    }
    let sent: Promise<unknown>;
    try {
      sent = client.sendCommand(args);
    } catch (error) {
      return Promise.reject(failure(error));
    }
    if (this.#timeoutMs === 0) return sent.catch((error) => Promise.reject(failure(error)));
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { deadline: performance.now() + this.#timeoutMs, reject };
      this.#waiting.add(waiting);
      if (this.#watchdog === undefined) this.#arm(this.#timeoutMs);
      sent.then(
        (reply) => {
          this.#answered(waiting);
          resolve(reply);
        },
        (error) => {
          this.#answered(waiting);
          reject(failure(error));
        },
      );
    });
  }

  // One timer for all the commands in flight (not one per command): armed for the
  // earliest deadline, cleared when no command waits.
  readonly #waiting = new Set<Waiting>();
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  #arm(ms: number): void {
    this.#watchdog = setTimeout(this.#expire, Math.max(1, Math.ceil(ms)));
  }

  #answered(waiting: Waiting): void {
    this.#waiting.delete(waiting);
    if (this.#waiting.size === 0 && this.#watchdog !== undefined) {
      clearTimeout(this.#watchdog);
      this.#watchdog = undefined;
    }
  }

  readonly #expire = (): void => {
    this.#watchdog = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const waiting of this.#waiting) {
      if (waiting.deadline <= now) {
        this.#waiting.delete(waiting);
        waiting.reject(new LimitStoreError(`Redis did not answer within ${this.#timeoutMs} ms`));
      } else next = Math.min(next, waiting.deadline);
    }
    if (next !== Infinity) this.#arm(next - now);
  };
}

/** A client's failure as a store error (a NOSCRIPT reply keeps its message, for the fallback). */
function failure(error: unknown): Error {
  if (error instanceof LimitStoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LimitStoreError(
    message.startsWith("NOSCRIPT") ? message : `Redis failed: ${message}`,
    { cause: error },
  );
}

/**
 * A {@link LimitStore} on Redis, for limits and fallback cooldowns shared by
 * several server processes: pass the application's connected node-redis
 * client (`npm:redis` v4 or v5; the package loads no Redis library itself)
 * and give the store to `createAI(settings, {limitStore})` in every process.
 *
 * Listen to the client's `"error"` events (node-redis requires it): while
 * Redis is unreachable the store fails at once (the client is not ready) or
 * after `timeoutMs`, and `LIMITS.on_store_error` decides (`"deny"` by
 * default). node-redis reconnects by itself; counting resumes when it does.
 *
 * @throws {TypeError} when `client` has no `sendCommand()` or an option is wrong.
 *
 * @example With a stand-in client (a real one is `createClient()` of `npm:redis`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRedisStore } from "./redis_store.ts";
 * const sent: string[][] = [];
 * const store = createRedisStore({
 *   isReady: true,
 *   sendCommand(args) {
 *     sent.push(args);
 *     return Promise.resolve([1, 1_700_000_000_000]); // "granted, at this time"
 *   },
 * }, { prefix: "{blog}:" });
 * const result = await store.reserve([
 *   { key: "rpm|*|user=42", amount: 1, limit: 30, windowMs: 60_000 },
 * ]);
 * assert.deepEqual(result, { granted: true, at: 1_700_000_000_000 });
 * assert.equal(sent[0][0], "EVALSHA");
 * assert.deepEqual(sent[0].slice(2), ["1", "{blog}:limit:rpm|*|user=42", "1", "30", "60000"]);
 * ```
 */
export function createRedisStore(
  client: RedisClientLike,
  options: RedisStoreOptions = {},
): LimitStore {
  if (typeof (client as { sendCommand?: unknown } | null)?.sendCommand !== "function") {
    throw new TypeError(
      "createRedisStore() needs a Redis client with sendCommand() (createClient() of npm:redis)",
    );
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError("createRedisStore() options must be an object");
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== "string") throw new TypeError("prefix must be a string");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 0) {
    throw new TypeError("timeoutMs must be a non-negative integer of milliseconds");
  }
  return new RedisLimitStore(client, prefix, timeoutMs);
}
