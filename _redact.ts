// Keeps secrets out of JSON.stringify, Deno.inspect / console.log and Node's util.inspect.

/** Property names whose values are secrets. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "key",
  "api_key",
  "apiKey",
  "OPENAI_API_KEY",
  "openaiApiKey",
  "headers",
  "authorization",
  "Authorization",
]);

// Names (lower case, without "-" and "_") whose values are secrets wherever they appear:
// keys, tokens, passwords and the credential headers of the services (Azure's api-key,
// APIM's subscription key), besides SECRET_KEYS. A name that ends in "headers"
// (default_headers, extraHeaders) holds header values, each a secret.
const SECRET_NAME =
  /(?:^key|apikey|authorization|auth|token|secret|password|passwd|credentials?|cookie|subscriptionkey|signature)$/;
const HEADERS_NAME = /headers$/;

function normalName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

/**
 * Whether the values of the property `name` are secrets: one of
 * {@link SECRET_KEYS}, a name ending in "key" after "api" (`X-Api-Key`,
 * `api-key`), "token", "secret", "password", "authorization"..., or a
 * headers object under any name (`default_headers`).
 */
export function isSecretKey(name: string): boolean {
  if (SECRET_KEYS.has(name)) return true;
  const normal = normalName(name);
  return SECRET_NAME.test(normal) || HEADERS_NAME.test(normal);
}

/** The mask shown in place of a secret. */
export const MASK = "***";

const CIRCULAR = "[Circular]";

// Query parameters that carry credentials (`?api-key=`, `?token=`, `?sig=`...).
const SECRET_PARAM = /key|token|secret|password|sig|auth/i;

/**
 * The credentials a URL carries: its user name and password, and the values
 * of query parameters named like a key or token (as {@link maskUrl} masks them).
 */
export function urlSecrets(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const secrets: string[] = [];
  for (const part of [url.username, url.password]) {
    if (part) secrets.push(part, decodeURIComponent(part));
  }
  for (const [name, value] of url.searchParams) {
    if (SECRET_PARAM.test(name) && value) secrets.push(value);
  }
  return secrets;
}

/**
 * The reason of a JSON syntax error without the text it quotes: V8 quotes the
 * text around the error (`Unexpected token 's', ..."api_key": sk-..."... is
 * not valid JSON`) and JavaScriptCore the token, either of which may be a key.
 */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/,?\s*(?:\.\.\.)?"[\s\S]*$/, "")
    .replace(/(Unexpected (?:token|character|identifier))\s*'[^']*'?/i, "$1")
    .trim() || "syntax error";
}

/**
 * A URL with its credentials masked: the user name and password, and query
 * parameters named like a key or token. Any other string is returned as it is.
 */
export function maskUrl(text: string): string {
  if (!/^https?:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username || url.password) {
    url.username = url.username ? MASK : "";
    url.password = url.password ? MASK : "";
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      url.searchParams.set(name, MASK);
      changed = true;
    }
  }
  return changed ? url.href : text;
}

/**
 * A deep copy of `value` with secret values replaced by `***`. An object met
 * again inside itself is shown as `[Circular]` (so a cycle costs one step, not
 * one per path down to the depth limit).
 */
export function redact(value: unknown, depth = 0, ancestors: object[] = []): unknown {
  if (depth > 20) return MASK;
  if (typeof value === "function") return value.name ? `[class ${value.name}]` : "[function]";
  if (typeof value === "string") return maskUrl(value);
  if (typeof value !== "object" || value === null) return value;
  if (ancestors.includes(value)) return CIRCULAR;
  ancestors.push(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, ancestors));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key) && item !== undefined && item !== null) {
        out[key] = typeof item === "object" && !Array.isArray(item)
          ? Object.fromEntries(Object.keys(item as object).map((name) => [name, MASK]))
          : MASK;
      } else {
        out[key] = redact(item, depth + 1, ancestors);
      }
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

const DENO_INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * Makes `target` show `view()` (redacted) to JSON.stringify and inspectors
 * (with `json: false`, to inspectors only: `console.log`). The methods are
 * non-enumerable, so spreading the object is unaffected. An object that is
 * not extensible (frozen) is returned unchanged.
 */
export function guardSecrets<T extends object>(
  target: T,
  view: () => unknown = () => ({ ...target }),
  options: { json?: boolean } = {},
): T {
  // A frozen object (say a custom backend's config) cannot take the methods: leave it as it is.
  if (!Object.isExtensible(target)) return target;
  const safe = () => redact(view());
  if (options.json !== false) {
    Object.defineProperty(target, "toJSON", { value: safe, enumerable: false, configurable: true });
  }
  Object.defineProperty(target, DENO_INSPECT, {
    value: (inspect: (value: unknown, options?: unknown) => string, options: unknown) =>
      inspect(safe(), options),
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(target, NODE_INSPECT, {
    value: (
      _depth: number,
      options: unknown,
      inspect: (value: unknown, options?: unknown) => string,
    ) => inspect(safe(), options),
    enumerable: false,
    configurable: true,
  });
  return target;
}

/** Replaces every occurrence of each secret in `text` by `***`. */
export function scrub(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out;
}
