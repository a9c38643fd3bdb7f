// Loading the `openai` package and caching its clients. `openai` is loaded with
// `await import("openai")` on first use, so importing this module loads
// nothing. Clients are cached per distinct settings under a SHA-256 digest of
// them, so no key or header value sits in a cache key; the least recently used
// goes first.
//
// Every client sends through `_http/fetch.ts`: no redirect to another host is
// followed and response bodies are bounded. Its default headers are set again
// after it is built, so the OPENAI_CUSTOM_HEADERS environment variable it reads
// has no effect.
import { ConnectionError, ImproperlyConfigured } from "../errors.ts";
import { netAllowed } from "../_env.ts";
import { createGuardedFetch, type Fetch, RedirectRefusedError } from "../_http/fetch.ts";
import { REFUSED_REDIRECT_HEADER, safeBaseURL, serviceLabel } from "./errors.ts";
import {
  bodyLimitOf,
  type ClientSettings,
  type OpenAIClient,
  type OpenAIModule,
  retriesOf,
  timeoutOf,
} from "./types.ts";

let modulePromise: Promise<OpenAIModule> | undefined;
const clients = new Map<string, OpenAIClient>();
const MAX_CLIENTS = 32;

function loadOpenAI(): Promise<OpenAIModule> {
  modulePromise ??= import("openai").catch((error) => {
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

async function digest(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// the client could prompt (in a terminal) or retry a refusal that cannot change.
export function checkNetPermission(settings: ClientSettings, model: string): void {
  let url: URL;
  try {
    url = new URL(settings.baseURL);
  } catch {
    return; // the client reports a bad URL
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (netAllowed(`${url.hostname}:${port}`)) return;
  throw new ConnectionError(
    `Cannot connect to ${serviceLabel(settings)} at ${safeBaseURL(settings)}: ` +
      `net permission for ${url.hostname}:${port} is not granted (run with --allow-net=${url.hostname})`,
    { provider: settings.provider, backend: settings.backend, model, retryable: false },
  );
}

/**
 * The client's fetch. A refused redirect is answered as a response marked not
 * to be retried (the client retries any error a fetch throws, as a connection
 * failure); `mapError` turns it into an APIError naming the target host.
 */
function clientFetch(settings: ClientSettings): Fetch {
  const guarded = createGuardedFetch({ maxBodyBytes: bodyLimitOf(settings) });
  return async (input, init) => {
    try {
      return await guarded(input, init);
    } catch (error) {
      if (!(error instanceof RedirectRefusedError)) throw error;
      return new Response(JSON.stringify({ error: { message: error.message } }), {
        status: error.status,
        headers: {
          "content-type": "application/json",
          "x-should-retry": "false",
          [REFUSED_REDIRECT_HEADER]: `${error.reason} ${error.target}`,
        },
      });
    }
  };
}

function clientKey(settings: ClientSettings): Promise<string> {
  return digest([
    settings.apiKey ?? null,
    settings.baseURL,
    timeoutOf(settings),
    retriesOf(settings),
    sortedEntries(settings.headers),
    settings.organization ?? null,
    sortedEntries(settings.defaultQuery),
    bodyLimitOf(settings),
  ]);
}

/** The `openai` module and a client for `settings` (cached). */
export async function getClient(settings: ClientSettings): Promise<[OpenAIModule, OpenAIClient]> {
  const mod = await loadOpenAI();
  const key = await clientKey(settings);
  let client = clients.get(key);
  if (client) {
    // Least recently used goes first: a hit moves the client to the end.
    clients.delete(key);
    clients.set(key, client);
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
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
    clients.set(key, client);
  }
  return [mod, client];
}

export function clearClientCache(): void {
  clients.clear();
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
export async function isClientCached(settings: ClientSettings): Promise<boolean> {
  return clients.has(await clientKey(settings));
}

/** Number of cached clients (for tests). */
export function clientCacheSize(): number {
  return clients.size;
}
