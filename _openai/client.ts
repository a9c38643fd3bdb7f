// Loading the `openai` package and caching its clients. `openai` is loaded with
// `await import("openai")` on first use, so importing this module loads
// nothing. Clients are cached per distinct settings, at most 32, the least
// recently used going first. There is no cache key: each entry keeps a copy of
// the settings that built its client (the client holds them anyway) and a
// request's settings are compared with each entry, field by field, most
// recently used first. Finding a client takes a few string comparisons (no
// digest, nothing async), and two settings that differ in any field (a key, a
// base URL, a header value...) never share a client.
//
// Every client sends through `_http/fetch.ts`: no redirect to another host is
// followed and response bodies are bounded. Its default headers are set again
// after it is built, so the OPENAI_CUSTOM_HEADERS environment variable it reads
// has no effect.
import { ConnectionError, ImproperlyConfigured } from "../errors.ts";
import { netAllowed } from "../_env.ts";
import { createGuardedFetch, type Fetch, RedirectRefusedError } from "../_http/fetch.ts";
import {
  REFUSED_PERMISSION_HEADER,
  REFUSED_REDIRECT_HEADER,
  safeBaseURL,
  serviceLabel,
} from "./errors.ts";
import {
  bodyLimitOf,
  type ClientSettings,
  type OpenAIClient,
  type OpenAIModule,
  retriesOf,
  timeoutOf,
} from "./types.ts";

let modulePromise: Promise<OpenAIModule> | undefined;
let loadedModule: OpenAIModule | undefined;
const MAX_CLIENTS = 32;

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

function loadOpenAI(): Promise<OpenAIModule> {
  modulePromise ??= import("openai").then((mod) => (loadedModule = mod), (error) => {
    modulePromise = undefined;
    throw new ImproperlyConfigured(
      `Cannot load the "openai" package (npm:openai@^7), which OpenAI-compatible requests need: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  });
  return modulePromise;
}

// Base URLs whose host the net permission was seen to allow. A permission once
// granted stays granted unless the program itself revokes it, so it is asked
// once per base URL rather than at every request (a query costs about 1% of a
// request); a refusal is asked again each time (it may be granted since). When
// the program has revoked it, the runtime refuses the connection: clientFetch
// forgets the base URL and answers with a refusal that is not retried.
const allowedBases = new Set<string>();
const MAX_ALLOWED_BASES = 256;

/**
 * Throws a ConnectionError, not retried, when the net permission does not allow
 * the base URL's host: without the check the client could prompt (in a
 * terminal) or retry a refusal that cannot change.
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

/** Why the net permission refuses `baseURL`'s host, or undefined when it allows it (or the URL is bad). */
function netProblem(baseURL: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return undefined; // the client reports a bad URL
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (netAllowed(`${url.hostname}:${port}`)) return undefined;
  return `net permission for ${url.hostname}:${port} is not granted (run with --allow-net=${url.hostname})`;
}

/** Whether `error` is the runtime's refusal for want of a permission. */
function isPermissionError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "NotCapable" || error.name === "PermissionDenied");
}

/**
 * The client's fetch. A refused redirect is answered as a response marked not
 * to be retried (the client retries any error a fetch throws, as a connection
 * failure); `mapError` turns it into an APIError naming the target host.
 */
function clientFetch(settings: ClientSettings): Fetch {
  const guarded = createGuardedFetch({ maxBodyBytes: bodyLimitOf(settings) });
  const refused = (error: unknown): Response => {
    if (isPermissionError(error)) {
      // Revoked since it was seen granted: asked again at the next request.
      allowedBases.delete(settings.baseURL);
      const problem = netProblem(settings.baseURL) ?? "the runtime refused the net permission";
      return new Response(JSON.stringify({ error: { message: problem } }), {
        status: 403,
        headers: {
          "content-type": "application/json",
          "x-should-retry": "false",
          [REFUSED_PERMISSION_HEADER]: problem,
        },
      });
    }
    if (!(error instanceof RedirectRefusedError)) throw error;
    return new Response(JSON.stringify({ error: { message: error.message } }), {
      status: error.status,
      headers: {
        "content-type": "application/json",
        "x-should-retry": "false",
        [REFUSED_REDIRECT_HEADER]: `${error.reason} ${error.target}`,
      },
    });
  };
  return (input, init) => guarded(input, init).catch(refused);
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
 * The `openai` module and a client for `settings` (cached): at once when the
 * module is loaded, else once it is.
 */
export function getClient(
  settings: ClientSettings,
): [OpenAIModule, OpenAIClient] | Promise<[OpenAIModule, OpenAIClient]> {
  if (loadedModule !== undefined) return [loadedModule, clientFor(loadedModule, settings)];
  return loadOpenAI().then((mod): [OpenAIModule, OpenAIClient] => [mod, clientFor(mod, settings)]);
}

function clientFor(mod: OpenAIModule, settings: ClientSettings): OpenAIClient {
  const index = findClient(settings);
  let client: OpenAIClient;
  if (index >= 0) {
    const entry = clients[index];
    client = entry.client;
    // The most recently used comes first.
    if (index > 0) {
      clients.splice(index, 1);
      clients.unshift(entry);
    }
  } else {
    const headers: Record<string, string | null> = { ...settings.headers };
    const hasAuthHeader = Object.keys(headers).some((name) =>
      name.toLowerCase() === "authorization"
    );
    // The client insists on some credential; without a key it gets a placeholder and the
    // Authorization header is removed (a null header value means "do not send").
    if (!settings.apiKey && !hasAuthHeader) headers["Authorization"] = null;
    client = new mod.OpenAI({
      apiKey: settings.apiKey || "no-key",
      baseURL: settings.baseURL,
      timeout: timeoutOf(settings),
      maxRetries: retriesOf(settings),
      defaultHeaders: headers,
      defaultQuery: settings.defaultQuery,
      // Explicit values so the client reads none of its OPENAI_* environment variables.
      organization: settings.organization ?? null,
      project: null,
      adminAPIKey: null,
      webhookSecret: null,
      logLevel: "off",
      fetch: clientFetch(settings),
    });
    // The client merges OPENAI_CUSTOM_HEADERS from the environment into its default
    // headers (an Authorization line there would replace the key): only ours are sent.
    (client as unknown as { _options: { defaultHeaders: unknown } })._options.defaultHeaders =
      headers;
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
  }
  return client;
}

export function clearClientCache(): void {
  clients.length = 0;
}

/** Loads the `openai` package now rather than at the first request. */
export async function preloadClient(): Promise<void> {
  await loadOpenAI();
}

/** Whether the `openai` package has been loaded (for tests). */
export function isClientLoaded(): boolean {
  return modulePromise !== undefined;
}

/** Whether a client for these settings is cached (for tests). */
export function isClientCached(settings: ClientSettings): Promise<boolean> {
  return Promise.resolve(findClient(settings) >= 0);
}

/** Number of cached clients (for tests). */
export function clientCacheSize(): number {
  return clients.length;
}
