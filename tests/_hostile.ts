/**
 * Helpers for tests against hostile peers: a recording HTTP server on
 * 127.0.0.1 whose handler the test scripts, and gzip bodies.
 *
 * @module
 */

/** A request the server received. */
export interface ServerRequest {
  /** HTTP method, upper case. */
  method: string;
  /** URL path. */
  path: string;
  /** Headers, names in lower case. */
  headers: Record<string, string>;
  /** The body as text. */
  body: string;
}

/** Answers a request. */
export type ServerHandler = (request: Request) => Response | Promise<Response>;

/** A running server; close it with `close()` or `await using`. */
export interface Server {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `host:port`. */
  readonly host: string;
  /** Every request received, in order. */
  readonly requests: ServerRequest[];
  /** Replaces the handler. */
  setHandler(handler: ServerHandler): void;
  /** Stops the server (pending responses are cancelled). */
  close(): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a recording server on a free 127.0.0.1 port. */
export function startServer(handler: ServerHandler): Promise<Server> {
  const requests: ServerRequest[] = [];
  let current = handler;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => headers[name] = value);
      requests.push({
        method: request.method,
        path: new URL(request.url).pathname,
        headers,
        body: await request.clone().text(),
      });
      return await current(request);
    },
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  let closed: Promise<void> | undefined;
  const close = () => closed ??= server.shutdown();
  return Promise.resolve({
    origin,
    host: `127.0.0.1:${server.addr.port}`,
    requests,
    setHandler(next: ServerHandler) {
      current = next;
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}

/** The gzip encoding of `bytes`. */
export async function gzipOf(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * A streamed body that sends `prefix` (when given), then `chunk` again and
 * again until cancelled; `cancelled` settles then.
 */
export function endlessBody(
  chunk: Uint8Array,
  options: { prefix?: Uint8Array; delayMs?: number } = {},
): { body: ReadableStream<Uint8Array>; cancelled: Promise<void> } {
  let done: () => void = () => {};
  const cancelled = new Promise<void>((resolve) => done = resolve);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.prefix) controller.enqueue(options.prefix);
    },
    async pull(controller) {
      if (options.delayMs) {
        await new Promise((resolve) => timer = setTimeout(resolve, options.delayMs));
      }
      controller.enqueue(chunk);
    },
    cancel() {
      clearTimeout(timer);
      done();
    },
  });
  return { body, cancelled };
}

/**
 * A streamed body that sends `first` and then nothing until `release()` is
 * called (then it ends): a server that stalls in the middle of a body.
 */
export function stalledBody(first: Uint8Array): {
  body: ReadableStream<Uint8Array>;
  release: () => void;
} {
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(first);
      await stalled;
      controller.close();
    },
  });
  return { body, release };
}
