/**
 * The Azure OpenAI provider: an OpenAI-compatible provider whose requests go
 * to `{endpoint}/openai/deployments/{deployment}/chat/completions` with the
 * `api-version` query parameter and the key in the `api-key` header.
 *
 * Settings keys besides the OpenAI-compatible ones:
 *
 * | key | meaning |
 * | --- | --- |
 * | `endpoint` | `https://<resource>.openai.azure.com` (default: `api_base`, then `AZURE_OPENAI_ENDPOINT`) |
 * | `deployment` | the deployment name (default: `model`) |
 * | `api_version` | default: `OPENAI_API_VERSION`, then {@link DEFAULT_AZURE_API_VERSION} |
 *
 * The key is `api_key`, else the `AZURE_OPENAI_API_KEY` environment variable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProvider, type OpenAICompatibleProvider } from "../mod.ts";
 * const provider = createProvider({
 *   provider: "azure",
 *   model: "gpt-4o-mini",
 *   endpoint: "https://example.openai.azure.com",
 *   deployment: "my-gpt4o-mini",
 *   api_key: "az-test",
 * }) as OpenAICompatibleProvider;
 * assert.equal(
 *   provider.config.baseURL,
 *   "https://example.openai.azure.com/openai/deployments/my-gpt4o-mini",
 * );
 * assert.equal(provider.config.query?.["api-version"], "2024-10-21");
 * assert.equal(provider.config.keyHeader, "api-key");
 * ```
 *
 * @module
 */
import { ImproperlyConfigured } from "../errors.ts";
import { optionalString, optionalUrl, rejectUnknownKeys } from "../_validate.ts";
import {
  OPENAI_COMPATIBLE_KEYS,
  OpenAICompatibleProvider,
  providerWhere,
  resolveOpenAICompatibleConfig,
} from "./openai_compatible.ts";
import type { ProviderContext, ResolvedProviderSettings } from "./types.ts";

// The keys an azure entry takes: the OpenAI-compatible ones and its own.
const AZURE_KEYS: readonly string[] = [...OPENAI_COMPATIBLE_KEYS, "endpoint", "deployment"];

/**
 * The `api-version` used when neither `api_version` nor `OPENAI_API_VERSION` is set (GA).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   createProvider,
 *   DEFAULT_AZURE_API_VERSION,
 *   type OpenAICompatibleProvider,
 * } from "../mod.ts";
 * const provider = createProvider(
 *   { provider: "azure", model: "gpt-4o", endpoint: "https://r.openai.azure.com", api_key: "k" },
 *   { env: () => undefined }, // no OPENAI_API_VERSION
 * ) as OpenAICompatibleProvider;
 * assert.equal(provider.config.query?.["api-version"], DEFAULT_AZURE_API_VERSION);
 * ```
 */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

/**
 * The environment variables the Azure provider reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AZURE_ENV, createProvider, type OpenAICompatibleProvider } from "../mod.ts";
 * const env: Record<string, string> = {
 *   [AZURE_ENV.key]: "k-test",
 *   [AZURE_ENV.endpoint]: "https://r.openai.azure.com",
 * };
 * const provider = createProvider({ provider: "azure", model: "gpt-4o" }, {
 *   env: (name) => env[name],
 * }) as OpenAICompatibleProvider;
 * assert.equal(provider.config.keySource, "env:AZURE_OPENAI_API_KEY");
 * assert.equal(provider.config.baseURL, "https://r.openai.azure.com/openai/deployments/gpt-4o");
 * ```
 */
export const AZURE_ENV: {
  readonly key: "AZURE_OPENAI_API_KEY";
  readonly endpoint: "AZURE_OPENAI_ENDPOINT";
  readonly apiVersion: "OPENAI_API_VERSION";
} = Object.freeze(
  {
    key: "AZURE_OPENAI_API_KEY",
    endpoint: "AZURE_OPENAI_ENDPOINT",
    apiVersion: "OPENAI_API_VERSION",
  } as const,
);

/**
 * Builds an Azure OpenAI provider (the factory registered as `azure`).
 *
 * @throws {ImproperlyConfigured} when no endpoint is known, or a key is wrong.
 * @throws {MissingAPIKeyError} naming `AZURE_OPENAI_API_KEY`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAzureProvider } from "./azure.ts";
 * const provider = createAzureProvider(
 *   { provider: "azure", model: "gpt-4o", api_version: "2025-01-01-preview" },
 *   {
 *     alias: "default",
 *     env: (name) => ({ AZURE_OPENAI_API_KEY: "k-test", AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" })[name],
 *   },
 * );
 * assert.equal(provider.config.baseURL, "https://r.openai.azure.com/openai/deployments/gpt-4o");
 * assert.equal(provider.config.query?.["api-version"], "2025-01-01-preview");
 * ```
 */
export function createAzureProvider(
  settings: ResolvedProviderSettings,
  context: ProviderContext,
): OpenAICompatibleProvider {
  const where = providerWhere(context.alias);
  rejectUnknownKeys(settings, AZURE_KEYS, where);
  const endpointSetting = optionalUrl(settings.endpoint, "endpoint", where);
  const apiBase = optionalUrl(settings.api_base, "api_base", where);
  let endpoint = endpointSetting ?? apiBase;
  if (endpoint === undefined) {
    const envEndpoint = context.env(AZURE_ENV.endpoint);
    if (envEndpoint !== undefined && envEndpoint !== "") {
      endpoint = optionalUrl(envEndpoint, AZURE_ENV.endpoint, "the environment");
    }
  }
  if (endpoint === undefined) {
    throw new ImproperlyConfigured(
      `${where} (provider "azure") needs endpoint (https://<resource>.openai.azure.com), ` +
        `api_base, or the ${AZURE_ENV.endpoint} environment variable`,
    );
  }
  const deployment = optionalString(settings.deployment, "deployment", where) ?? settings.model;
  if (/[/?#]/.test(deployment)) {
    throw new ImproperlyConfigured(
      `deployment in ${where} must be a deployment name (no "/", "?" or "#")`,
    );
  }
  let apiVersion = optionalString(settings.api_version, "api_version", where);
  if (apiVersion === undefined) {
    const envVersion = context.env(AZURE_ENV.apiVersion);
    apiVersion = envVersion !== undefined && envVersion !== ""
      ? envVersion
      : DEFAULT_AZURE_API_VERSION;
  }
  // An endpoint that already ends in /openai/deployments/<name> is used as it is.
  const baseURL = /\/openai\/deployments\/[^/]+$/.test(endpoint)
    ? endpoint
    : `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}`;
  const rest: ResolvedProviderSettings = { ...settings };
  delete rest.endpoint;
  delete rest.deployment;
  const config = resolveOpenAICompatibleConfig(
    { ...rest, api_version: apiVersion },
    context,
    { keyEnv: [AZURE_ENV.key], requiresKey: true },
    { allowedKeys: OPENAI_COMPATIBLE_KEYS, baseURL },
  );
  return new OpenAICompatibleProvider({ ...config, keyHeader: "api-key" });
}
