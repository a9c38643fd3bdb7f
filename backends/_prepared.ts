// A request built once: by ResponseSource.prepare() (LIMITS reserve before sending) or by
// the send that follows it with the same signal, for the built-in backends' sources.

/**
 * Builds a request for a signal; `prepared` when prepare() asks (LIMITS then
 * reserve its exact prompt tokens, so the prompt is counted). It may answer at
 * once (a prompt that needs no count) or with a promise; a throw is a rejection.
 */
export type BuildRequest<R> = (
  signal: AbortSignal | undefined,
  prepared: boolean,
) => R | Promise<R>;

/** A request built at most once per send. */
export class PreparedRequest<R> {
  readonly #build: BuildRequest<R>;
  #prepared: { signal: AbortSignal | undefined; request: Promise<R> } | undefined;

  /** `build` makes the request for a signal. */
  constructor(build: BuildRequest<R>) {
    this.#build = build;
  }

  /** Builds the request now, for the send with `signal` to use. */
  prepare(signal: AbortSignal | undefined): Promise<R> {
    let request: Promise<R>;
    try {
      request = Promise.resolve(this.#build(signal, true));
    } catch (error) {
      request = Promise.reject(error);
    }
    this.#prepared = { signal, request };
    return request;
  }

  /**
   * The prepared request when its signal is `signal` (once), else a new one:
   * the request itself when it was built at once, else a promise of it. It
   * throws what the build throws.
   */
  take(signal: AbortSignal | undefined): R | Promise<R> {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared !== undefined && prepared.signal === signal) return prepared.request;
    return this.#build(signal, false);
  }
}

/**
 * A stream that waits for `open` at its first `next()`, then hands each call to the
 * stream it gave (no generator between them, so no promise of its own per chunk); its
 * `return()` reaches that stream at once, a pending `next()` or not.
 */
export function deferredStream<T>(open: () => Promise<AsyncIterable<T>>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      let opening: Promise<AsyncIterator<T>> | undefined;
      let closed = false;
      const start = (): Promise<AsyncIterator<T>> =>
        opening ??= open().then((stream) => (inner = stream[Symbol.asyncIterator]()));
      return {
        async next(): Promise<IteratorResult<T>> {
          if (closed) return { done: true, value: undefined };
          if (inner !== undefined) return await inner.next();
          const iterator = await start();
          if (closed) {
            await iterator.return?.();
            return { done: true, value: undefined };
          }
          return await iterator.next();
        },
        async return(): Promise<IteratorResult<T>> {
          closed = true;
          if (inner?.return) await inner.return();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
