// Helpers of the operations tests (fallbacks, events, cost): a base URL that refuses
// connections, and settings of a primary and a backup provider on test peers.
import type { AIEvent, AISettings, ProviderSettings } from "../mod.ts";
import type { Peer } from "./_peer.ts";

/** A base URL on 127.0.0.1 where nothing listens (connections are refused). */
export function refusedUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return `http://127.0.0.1:${port}/v1`;
}

/** The secrets the settings below hold: no event may contain any of them. */
export const SECRETS = [
  "sk-primary-secret-0001",
  "sk-backup-secret-0002",
  "hdr-primary-secret-0003",
  "hdr-backup-secret-0004",
];

/** A PROVIDERS entry on a peer (or a URL), with a key and a secret header. */
export function providerOn(
  target: Peer | string,
  which: "primary" | "backup",
  extra: Partial<ProviderSettings> = {},
): ProviderSettings {
  return {
    provider: "openai_compatible",
    model: which === "primary" ? "gpt-4o-mini" : "gpt-4.1-mini",
    api_base: typeof target === "string" ? target : target.url,
    api_key: which === "primary" ? SECRETS[0] : SECRETS[1],
    headers: { "x-gateway-token": which === "primary" ? SECRETS[2] : SECRETS[3] },
    max_retries: 0,
    ...extra,
  };
}

/**
 * Settings with PROVIDERS `primary` (falling back to `backup`) and `backup`,
 * and a provider backend `default` on `primary`.
 */
export function chainSettings(
  primary: Peer | string,
  backup: Peer | string,
  extra: { primary?: Partial<ProviderSettings>; backup?: Partial<ProviderSettings> } = {},
): AISettings {
  return {
    PROVIDERS: {
      primary: providerOn(primary, "primary", { fallbacks: ["backup"], ...extra.primary }),
      backup: providerOn(backup, "backup", extra.backup),
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: { PROVIDER: "primary" } } },
  };
}

/** The chat-completion requests a peer received. */
export function chatRequests(peer: Peer): number {
  return peer.requests.filter((request) => request.path.endsWith("/chat/completions")).length;
}

/** `type:alias` of each event, for comparing sequences. */
export function sequence(events: readonly AIEvent[]): string[] {
  return events.map((event) => `${event.type}:${event.alias}`);
}
