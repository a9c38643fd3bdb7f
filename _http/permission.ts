// The net permission a service's base URL needs, checked before a request:
// without it Deno would prompt (in a terminal) or the request would fail in a
// way that retries cannot change.
import { netAllowed } from "../_env.ts";

/**
 * Why a request to `baseURL` cannot be made (net permission for its host is
 * not granted), or undefined when it can (or the URL is for the caller to
 * report as invalid).
 */
export function netPermissionProblem(baseURL: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return undefined;
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (netAllowed(`${url.hostname}:${port}`)) return undefined;
  return `net permission for ${url.hostname}:${port} is not granted (run with --allow-net=${url.hostname})`;
}
