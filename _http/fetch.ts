// A `fetch` for AI requests that keeps secrets with the configured host and
// bounds the memory a response can take.
//
// - Redirects are never followed by the runtime (`redirect: "manual"`): a
//   redirect to another origin (scheme, host or port) is a RedirectRefusedError
//   before anything is sent there, so the key headers (Azure's `api-key`,
//   custom headers) and the prompt never leave the configured service, and a
//   host outside `--allow-net` is never contacted (no prompt). Same-origin
//   redirects are followed (at most `maxRedirects`), as fetch does: 307/308
//   resend the method and body, 303 (and 301/302 of a POST) become a GET.
// - A response body is counted as it is read (after decompression, so a small
//   gzip body cannot inflate to gigabytes): past `maxBodyBytes` reading it fails
//   with a BodyTooLargeError and the connection is closed. A request whose init
//   has `[RAW_BODY]: true` gets a 2xx body as it is, for a caller that counts
//   what it reads itself (the stream readers); other statuses are still capped.

/** A fetch function (what `globalThis.fetch` is). */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createGuardedFetch}. */
export interface GuardedFetchOptions {
  /** The largest response body read, in bytes after decompression (default 64 MiB). */
  maxBodyBytes?: number;
  /** Same-origin redirects followed at most (default 5). */
  maxRedirects?: number;
  /** The fetch that sends (default: the global `fetch`, looked up at each call). */
  fetch?: Fetch;
}

/** The default {@link GuardedFetchOptions.maxBodyBytes}: 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES: number = 64 * 1024 * 1024;

/** The default {@link GuardedFetchOptions.maxRedirects}. */
export const DEFAULT_MAX_REDIRECTS = 5;

/**
 * Set `[RAW_BODY]: true` in a request's init to get a 2xx response's body
 * uncounted (the caller bounds what it reads).
 */
export const RAW_BODY: unique symbol = Symbol("cms-ai raw body");

/** A redirect that was not followed. */
export class RedirectRefusedError extends Error {
  /** The redirect's HTTP status. */
  readonly status: number;
  /** The target's host (`name:port`), or what was wrong with it; never its path or query. */
  readonly target: string;
  /** Why: another origin, too many redirects, or a body that cannot be sent again. */
  readonly reason: "cross-origin" | "too-many" | "invalid" | "unreplayable";

  /** Builds the error. */
  constructor(status: number, target: string, reason: RedirectRefusedError["reason"]) {
    const why = {
      "cross-origin": `to another host (${target}): refused, so that the credentials and the ` +
        "request stay with the configured service",
      "too-many": `more than ${target} times on the same host`,
      "invalid": "to an invalid URL",
      "unreplayable": "and the request body cannot be sent again",
    }[reason];
    super(`The service redirected the request (HTTP ${status}) ${why}`);
    this.name = "RedirectRefusedError";
    this.status = status;
    this.target = target;
    this.reason = reason;
  }
}

/** A response body over its byte limit; reading it ended. */
export class BodyTooLargeError extends Error {
  /** The limit, in bytes. */
  readonly max: number;

  /** Builds the error. */
  constructor(max: number) {
    super(`the response body is larger than ${max} bytes`);
    this.name = "BodyTooLargeError";
    this.max = max;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Statuses whose responses have no body (a Response cannot be built with one).
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
// Headers that describe a request body, dropped when a redirect turns it into a GET.
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language"];

function replayable(body: RequestInit["body"]): boolean {
  return body === undefined || body === null || typeof body === "string" ||
    body instanceof ArrayBuffer || ArrayBuffer.isView(body) || body instanceof Blob ||
    body instanceof URLSearchParams || body instanceof FormData;
}

/** A body that errors at its first read, for a response declared too large. */
function failingBody(max: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      controller.error(new BodyTooLargeError(max));
    },
  });
}

/** A body that counts the bytes read and errors past `max` (the source is then cancelled). */
function countedBody(source: ReadableStream<Uint8Array>, max: number): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      seen += value.byteLength;
      if (seen > max) {
        controller.error(new BodyTooLargeError(max));
        await reader.cancel().catch(() => {});
        return;
      }
      controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** The response with its body bounded by `max` bytes. */
export function capResponseBody(response: Response, max: number): Response {
  if (NULL_BODY.has(response.status)) return response;
  const encoding = (response.headers.get("content-encoding") ?? "identity").toLowerCase();
  const declared = Number(response.headers.get("content-length") ?? NaN);
  const known = Number.isSafeInteger(declared);
  // The runtime checks the length of an unencoded body: nothing to count (and the body's
  // stream is not asked for, which a runtime may otherwise build only then).
  if (encoding === "identity" && known && declared >= 0 && declared <= max) return response;
  const source = response.body;
  if (source === null) return response;
  let body: ReadableStream<Uint8Array>;
  if (known && declared > max) {
    // Refused before reading anything (whatever the encoding, it only grows).
    source.cancel().catch(() => {});
    body = failingBody(max);
  } else {
    body = countedBody(source, max);
  }
  const capped = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(capped, "url", { value: response.url });
  return capped;
}

/**
 * A fetch that refuses cross-origin redirects and bounds response bodies (see
 * the module notes above).
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): Fetch {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const send: Fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const answer = (response: Response, raw: boolean): Response =>
    raw && response.ok ? response : capResponseBody(response, maxBody);
  return async (input, init = {}) => {
    const raw = (init as { [RAW_BODY]?: boolean })[RAW_BODY] === true;
    if (!(input instanceof Request)) {
      // The common case: sent as given (the init's own headers and body); the URL is parsed
      // and the headers copied only when a redirect comes back.
      const response = await send(input, { ...init, redirect: "manual" });
      if (!REDIRECTS.has(response.status) || !response.headers.has("location")) {
        return answer(response, raw);
      }
      return await follow(response, new URL(String(input)), init);
    }
    const body = init.body === undefined && input.body !== null
      ? await input.arrayBuffer()
      : init.body;
    const request: RequestInit = {
      ...init,
      method: init.method ?? input.method,
      headers: init.headers ?? input.headers,
      body,
      signal: init.signal ?? input.signal,
    };
    const response = await send(input.url, { ...request, redirect: "manual" });
    if (!REDIRECTS.has(response.status) || !response.headers.has("location")) {
      return answer(response, raw);
    }
    return await follow(response, new URL(input.url), request);
  };

  /** Follows the same-origin redirects from `first`, the answer to `init` sent to `start`. */
  async function follow(first: Response, start: URL, init: RequestInit): Promise<Response> {
    const raw = (init as { [RAW_BODY]?: boolean })[RAW_BODY] === true;
    let url = start;
    let method = (init.method ?? "GET").toUpperCase();
    let body = init.body;
    const headers = new Headers(init.headers ?? {});
    let response = first;
    for (let redirects = 0;; redirects++) {
      const location = REDIRECTS.has(response.status) ? response.headers.get("location") : null;
      if (location === null) return answer(response, raw);
      await response.body?.cancel().catch(() => {});
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw new RedirectRefusedError(response.status, "an invalid URL", "invalid");
      }
      if (target.origin !== url.origin) {
        const host = target.host || target.protocol;
        throw new RedirectRefusedError(response.status, host, "cross-origin");
      }
      if (redirects >= maxRedirects) {
        throw new RedirectRefusedError(response.status, String(maxRedirects), "too-many");
      }
      const toGet = (response.status === 303 && method !== "HEAD") ||
        ((response.status === 301 || response.status === 302) && method === "POST");
      if (toGet) {
        method = "GET";
        body = undefined;
        for (const name of BODY_HEADERS) headers.delete(name);
      } else if (!replayable(body)) {
        throw new RedirectRefusedError(response.status, target.host, "unreplayable");
      }
      url = target;
      response = await send(url, { ...init, method, headers, body, redirect: "manual" });
    }
  }
}
