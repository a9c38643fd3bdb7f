// A real redis-server for tests: started on a free 127.0.0.1 port with a temporary
// directory and no persistence, ready when it logs "Ready to accept connections" (an
// event, not a sleep), stopped (and restarted on the same port) on demand.
//
// Debian's redis-server is needed (`.ci/run` installs it; REDIS_SERVER names another).
// Without one the tests that need it are skipped with a message, except under CI
// (CI=true), where they fail.
import { createClient } from "npm:redis@^5";

/** The node-redis client the tests use. */
export type TestRedisClient = ReturnType<typeof createClient>;

function findRedisServer(): string | undefined {
  const named = Deno.env.get("REDIS_SERVER");
  const candidates = named ? [named] : [];
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir) candidates.push(`${dir}/redis-server`);
  }
  candidates.push("/usr/bin/redis-server", "/usr/local/bin/redis-server");
  for (const candidate of candidates) {
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The redis-server executable, when there is one. */
export const REDIS_SERVER: string | undefined = findRedisServer();
const IN_CI = Deno.env.get("CI") === "true";

/**
 * Whether the Redis tests are left out: only without redis-server and outside
 * CI (under CI they run, and fail in {@link startRedis}).
 */
export const SKIP_REDIS: boolean = REDIS_SERVER === undefined && !IN_CI;

let warned = false;
/** Says once, on stderr, that the Redis tests are skipped. */
export function warnSkipped(file: string): void {
  if (!SKIP_REDIS || warned) return;
  warned = true;
  console.warn(
    `${file}: Redis tests SKIPPED, no redis-server found (install Debian's redis-server, as ` +
      ".ci/run does, or set REDIS_SERVER)",
  );
}

/** A running redis-server. */
export interface RedisServer {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops it (SIGTERM; nothing is saved) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (it starts empty). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts redis-server on `port`; resolves once it is ready, rejects when it exits first. */
async function launch(port: number, dir: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(REDIS_SERVER!, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--loglevel",
      "notice",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let ready = false;
  while (!ready) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      log.push(line);
      if (line.includes("Ready to accept connections")) ready = true;
    }
  }
  // Keep draining its log, so that redis-server never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drained */ }
    } catch {
      // the process is gone
    }
  })();
  child.stderr.pipeTo(new WritableStream()).catch(() => {});
  if (!ready) {
    const status = await child.status;
    throw new Error(
      `redis-server exited (code ${status.code}) before it was ready:\n${
        log.slice(-10).join("\n")
      }`,
    );
  }
  return child;
}

/**
 * Starts a redis-server on a free 127.0.0.1 port in a temporary directory.
 * Under CI, a missing redis-server is an error.
 */
export async function startRedis(): Promise<RedisServer> {
  if (REDIS_SERVER === undefined) {
    throw new Error(
      "redis-server not found: install Debian's redis-server (.ci/run does) or set REDIS_SERVER",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "cms-ai-redis-" });
  let child: Deno.ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  // A port found free may be taken before redis-server binds it: try another.
  for (let attempt = 0; attempt < 5 && child === undefined; attempt++) {
    port = freePort();
    try {
      child = await launch(port, dir);
    } catch (error) {
      lastError = error;
    }
  }
  if (child === undefined) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw lastError;
  }
  let running: Deno.ChildProcess | undefined = child;
  const stop = async () => {
    const current = running;
    running = undefined;
    if (current === undefined) return;
    try {
      current.kill("SIGTERM");
    } catch {
      // already gone
    }
    await current.status;
  };
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async restart() {
      await stop();
      running = await launch(port, dir);
    },
    async close() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  return server;
}

/**
 * A connected node-redis client of `server`, whose `"error"` events (a lost
 * connection) are collected instead of thrown. Close it with `destroy()`.
 */
export async function connectRedis(
  server: { readonly url: string },
): Promise<TestRedisClient & { errors: Error[] }> {
  const client = createClient({
    url: server.url,
    // Reconnect quickly: tests stop and restart the server.
    socket: { reconnectStrategy: (retries: number) => Math.min(20 + retries * 20, 200) },
  });
  const errors: Error[] = [];
  client.on("error", (error: Error) => errors.push(error));
  await client.connect();
  return Object.assign(client, { errors });
}

/** Resolves when `client` is ready again (its "ready" event), at once when it is. */
export function whenReady(client: TestRedisClient): Promise<void> {
  if (client.isReady) return Promise.resolve();
  return new Promise((resolve) => client.once("ready", () => resolve()));
}

/** Resolves when `client` has noticed that the server is gone (it is no longer ready). */
export function whenDown(client: TestRedisClient): Promise<void> {
  if (!client.isReady) return Promise.resolve();
  return new Promise((resolve) => client.once("error", () => resolve()));
}
