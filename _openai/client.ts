// The clients of OpenAI-compatible services: for each distinct settings, the
// chat completions URL, the request headers and a guarded fetch, built once
// and cached (at most 32, the least recently used going first). There is no
// cache key: each entry keeps a copy of the settings that built it and a
// request's settings are compared with each entry, field by field, most
// recently used first. Finding a client takes a few string comparisons (no
// digest, nothing async), and two settings that differ in any field (a key, a
// base URL, a header value...) never share a client.
//
// Every client sends through `_http/fetch.ts`: no redirect to another host is
// followed and response bodies are bounded. Nothing is read from the
// environment (no OPENAI_* variable changes a request).
import { ConnectionError, ImproperlyConfigured } from "../errors.ts";
import { netAllowed } from "../_env.ts";
import { createGuardedFetch, type Fetch } from "../_http/fetch.ts";
import { safeBaseURL, serviceLabel } from "./errors.ts";
import { bodyLimitOf, type ClientSettings, retriesOf, timeoutOf } from "./types.ts";

const MAX_CLIENTS = 32;

/** What requests with one settings object are sent with. */
export interface OpenAIClient {
  /** The chat completions URL: the base URL's path + `/chat/completions`, its query and `defaultQuery`. */
  readonly url: string;
  /** The headers of a whole-answer request (lower-case names). */
  readonly jsonHeaders: Readonly<Record<string, string>>;
  /** The headers of a streamed request. */
  readonly streamHeaders: Readonly<Record<string, string>>;
  /** The guarded fetch (redirects, bounded bodies). */
  readonly fetch: Fetch;
}

/** A cached client and the settings' fields that built it (copied: later changes do not reach it). */
interface CachedClient {
  readonly apiKey: string | undefined;
  readonly baseURL: string;
  readonly timeout: number;
  readonly retries: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly organization: string | undefined;
  readonly defaultQuery: Readonly<Record<string, string>> | undefined;
  readonly bodyLimit: number;
  readonly client: OpenAIClient;
}
/** The cached clients, the most recently used first. */
const clients: CachedClient[] = [];

// Base URLs whose host the net permission was seen to allow. A permission once
// granted stays granted unless the program itself revokes it, so it is asked
// once per base URL rather than at every request (a query costs about 1% of a
// request); a refusal is asked again each time (it may be granted since). When
// the program has revoked it, the runtime refuses the connection: the sender
// forgets the base URL (`forgetNetPermission`) and reports a refusal that is
// not retried.
const allowedBases = new Set<string>();
const MAX_ALLOWED_BASES = 256;

/**
 * Throws a ConnectionError, not retried, when the net permission does not allow
 * the base URL's host: without the check the runtime could prompt (in a
 * terminal) or the request be retried on a refusal that cannot change.
 */
export function checkNetPermission(settings: ClientSettings, model: string): void {
  if (allowedBases.has(settings.baseURL)) return;
  const problem = netProblem(settings.baseURL);
  if (problem === undefined) {
    if (allowedBases.size >= MAX_ALLOWED_BASES) allowedBases.clear();
    allowedBases.add(settings.baseURL);
    return;
  }
  throw new ConnectionError(
    `Cannot connect to ${serviceLabel(settings)} at ${safeBaseURL(settings)}: ${problem}`,
    { provider: settings.provider, backend: settings.backend, model, retryable: false },
  );
}

/**
 * Forgets that the base URL's host was allowed (the runtime refused it: the
 * permission was revoked) and says why, for the error.
 */
export function forgetNetPermission(settings: ClientSettings): string {
  allowedBases.delete(settings.baseURL);
  return netProblem(settings.baseURL) ?? "the runtime refused the net permission";
}

/** Why the net permission refuses `baseURL`'s host, or undefined when it allows it (or the URL is bad). */
function netProblem(baseURL: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return undefined; // the sender reports a bad URL
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (netAllowed(`${url.hostname}:${port}`)) return undefined;
  return `net permission for ${url.hostname}:${port} is not granted (run with --allow-net=${url.hostname})`;
}

/** Whether two header or query records hold the same names and values (in any order). */
function sameRecord(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  if (a === b) return true;
  const aNames = Object.keys(a ?? {});
  if (aNames.length !== Object.keys(b ?? {}).length) return false;
  for (const name of aNames) {
    if (!Object.hasOwn(b!, name) || a![name] !== b![name]) return false;
  }
  return true;
}

/** Whether an entry's client was built from settings equal to `settings`. */
function matches(entry: CachedClient, settings: ClientSettings): boolean {
  return entry.baseURL === settings.baseURL && entry.apiKey === settings.apiKey &&
    entry.timeout === timeoutOf(settings) && entry.retries === retriesOf(settings) &&
    entry.organization === settings.organization && entry.bodyLimit === bodyLimitOf(settings) &&
    sameRecord(entry.headers, settings.headers) &&
    sameRecord(entry.defaultQuery, settings.defaultQuery);
}

function findClient(settings: ClientSettings): number {
  for (let i = 0; i < clients.length; i++) if (matches(clients[i], settings)) return i;
  return -1;
}

/**
 * The chat completions URL of a base URL: `/chat/completions` after its path,
 * its own query kept and `defaultQuery` added (replacing a parameter of the
 * same name), percent-encoded as `encodeURIComponent` does. Throws a
 * TypeError for a base URL that is not an http: or https: URL.
 */
export function chatURL(baseURL: string, defaultQuery?: Readonly<Record<string, string>>): string {
  const url = new URL(baseURL);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("the base URL is not an http: or https: URL");
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/chat/completions`;
  const extra = Object.entries(defaultQuery ?? {});
  if (extra.length === 0) return url.href;
  for (const [name] of extra) if (url.searchParams.has(name)) url.searchParams.delete(name);
  const added = extra.map(([name, value]) =>
    `${encodeURIComponent(name)}=${encodeURIComponent(value)}`
  ).join("&");
  url.search = url.search.length > 1 ? `${url.search.slice(1)}&${added}` : added;
  return url.href;
}

/**
 * The headers of every request: JSON, the key as a bearer token (when there
 * is one and no header of the settings is an Authorization header), the
 * organization, then the settings' own headers (they win, whatever their case).
 */
function requestHeaders(settings: ClientSettings, accept: string): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept,
  };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  if (settings.organization) headers["openai-organization"] = settings.organization;
  for (const [name, value] of Object.entries(settings.headers ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  return headers;
}

function buildClient(settings: ClientSettings): OpenAIClient {
  let url: string;
  try {
    url = chatURL(settings.baseURL, settings.defaultQuery);
  } catch {
    // Not quoted: a base URL may hold a credential.
    throw new ImproperlyConfigured(
      `The base URL of ${
        serviceLabel(settings)
      } is not a valid URL (it must start with http:// or https://)`,
    );
  }
  // A header the runtime would refuse at every attempt is a settings problem, found here.
  for (const [name, value] of Object.entries(settings.headers ?? {})) {
    try {
      new Headers([[name, value]]);
    } catch {
      // The name is not a secret; the value may be.
      throw new ImproperlyConfigured(
        `The header ${JSON.stringify(name)} of ${
          serviceLabel(settings)
        } cannot be sent: its name or value holds a character HTTP does not allow`,
      );
    }
  }
  return {
    url,
    jsonHeaders: Object.freeze(requestHeaders(settings, "application/json")),
    streamHeaders: Object.freeze(requestHeaders(settings, "text/event-stream")),
    fetch: createGuardedFetch({ maxBodyBytes: bodyLimitOf(settings) }),
  };
}

/**
 * The client for `settings` (cached). Throws an ImproperlyConfigured when the
 * base URL is not an http: or https: URL or a header cannot be sent (nothing
 * is cached then).
 */
export function getClient(settings: ClientSettings): OpenAIClient {
  const index = findClient(settings);
  if (index >= 0) {
    const entry = clients[index];
    // The most recently used comes first.
    if (index > 0) {
      clients.splice(index, 1);
      clients.unshift(entry);
    }
    return entry.client;
  }
  const client = buildClient(settings);
  if (clients.length >= MAX_CLIENTS) clients.pop();
  clients.unshift({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    timeout: timeoutOf(settings),
    retries: retriesOf(settings),
    headers: settings.headers && Object.freeze({ ...settings.headers }),
    organization: settings.organization,
    defaultQuery: settings.defaultQuery && Object.freeze({ ...settings.defaultQuery }),
    bodyLimit: bodyLimitOf(settings),
    client,
  });
  return client;
}

/** Forgets every cached client (for tests). */
export function clearClientCache(): void {
  clients.length = 0;
}

/** Whether a client for these settings is cached (for tests). */
export function isClientCached(settings: ClientSettings): Promise<boolean> {
  return Promise.resolve(findClient(settings) >= 0);
}

/** Number of cached clients (for tests). */
export function clientCacheSize(): number {
  return clients.length;
}
