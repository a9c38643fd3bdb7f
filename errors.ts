/**
 * The error classes of the module.
 *
 * Configuration problems are {@link ImproperlyConfigured} (or a subclass) and
 * are thrown when settings are read or a backend is built. Problems talking to
 * an AI service are {@link APIError} (or a subclass) and surface when a
 * response is read. Messages name the key, alias or model at fault and never
 * contain a secret.
 *
 * @example Telling configuration errors apart
 * ```ts
 * import { createAI, ImproperlyConfigured, InvalidAIBackendError } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const ai = createAI({ BACKENDS: { default: { CLASS: "nope", CONFIG: { MODEL_ID: "x" } } } });
 * try {
 *   ai.getAIBackend("default");
 *   assert.fail("expected an error");
 * } catch (error) {
 *   assert.ok(error instanceof InvalidAIBackendError);
 *   assert.ok(error instanceof ImproperlyConfigured);
 * }
 * ```
 *
 * @module
 */

/**
 * Settings are missing, of the wrong type or inconsistent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ImproperlyConfigured } from "./errors.ts";
 * const error = new ImproperlyConfigured('CONFIG.MODEL_ID of backend "default" is missing');
 * assert.ok(error.name === "ImproperlyConfigured");
 * ```
 */
export class ImproperlyConfigured extends Error {
  /** Builds the error with a message that names the key at fault. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A backend alias or its `CLASS` cannot be resolved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ImproperlyConfigured, InvalidAIBackendError } from "./errors.ts";
 * const error = new InvalidAIBackendError('Invalid backend "default": unknown CLASS "x"');
 * assert.ok(error instanceof ImproperlyConfigured);
 * ```
 */
export class InvalidAIBackendError extends ImproperlyConfigured {}

/**
 * No `PROVIDERS` entry has the alias asked for (for example an alias that came
 * from a request), as {@link InvalidAIBackendError} is for `BACKENDS`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, ImproperlyConfigured, InvalidProviderError } from "./mod.ts";
 * const ai = createAI({ PROVIDERS: { default: { provider: "ollama", model: "llama3.1" } } });
 * assert.throws(() => ai.getProvider("fast"), InvalidProviderError);
 * assert.ok(new InvalidProviderError("x") instanceof ImproperlyConfigured);
 * ```
 */
export class InvalidProviderError extends ImproperlyConfigured {}

/**
 * No backend is configured for a feature.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BackendNotFound } from "./errors.ts";
 * assert.ok(new BackendNotFound("No backend found for IMAGE_DESCRIPTION").message.length > 0);
 * ```
 */
export class BackendNotFound extends ImproperlyConfigured {}

/**
 * The context window of a model is not known and no `TOKEN_LIMIT` was given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultTokenLimit, NoTokenLimitFound } from "./mod.ts";
 * try {
 *   getDefaultTokenLimit("my-private-model");
 * } catch (error) {
 *   assert.ok(error instanceof NoTokenLimitFound);
 * }
 * ```
 */
export class NoTokenLimitFound extends ImproperlyConfigured {
  /** The model id that has no known token limit. */
  readonly modelId: string;
  /** Builds the error for a model id. */
  constructor(modelId: string, message?: string) {
    super(
      message ??
        `No default token limit is known for model "${modelId}"; set TOKEN_LIMIT in its CONFIG`,
    );
    this.modelId = modelId;
  }
}

/**
 * No API key was found for a service.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MissingAPIKeyError } from "./errors.ts";
 * const error = new MissingAPIKeyError("No OpenAI API key: set OPENAI_API_KEY");
 * assert.ok(error.name === "MissingAPIKeyError");
 * ```
 */
export class MissingAPIKeyError extends ImproperlyConfigured {}

/**
 * A model id or alias is not known to the model registry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnknownModelError } from "./errors.ts";
 * const error = new UnknownModelError("gpt-17");
 * assert.ok(error.message.includes('"gpt-17"'));
 * ```
 */
export class UnknownModelError extends ImproperlyConfigured {
  /** The id or alias that was asked for. */
  readonly modelId: string;
  /** Builds the error for an unknown model id or alias. */
  constructor(modelId: string, message?: string) {
    super(
      message ??
        `Unknown model "${modelId}": run the "models" command to list the models and aliases`,
    );
    this.modelId = modelId;
  }
}

/**
 * A prompt name is not one of the prompts (`PROMPTS` and the built-in
 * `correction` and `completion`), for example a name that came from a request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, ImproperlyConfigured, UnknownPromptError } from "./mod.ts";
 * const ai = createAI();
 * assert.throws(() => ai.getPrompt("translate"), UnknownPromptError);
 * assert.ok(new UnknownPromptError("translate") instanceof ImproperlyConfigured);
 * ```
 */
export class UnknownPromptError extends ImproperlyConfigured {
  /** The name that was asked for. */
  readonly promptName: string;
  /** Builds the error for an unknown prompt name. */
  constructor(promptName: string, message?: string) {
    super(message ?? `Unknown prompt "${promptName}"`);
    this.promptName = promptName;
  }
}

/**
 * Details that come with an {@link APIError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APIError, type APIErrorOptions } from "./errors.ts";
 * const options: APIErrorOptions = { status: 503, provider: "openai", model: "gpt-4.1-mini" };
 * const error = new APIError("The service is unavailable", options);
 * assert.equal(error.retryable, true); // from the status
 * assert.equal(error.status, 503);
 * ```
 */
export interface APIErrorOptions extends ErrorOptions {
  /** HTTP status, when the service answered. */
  status?: number;
  /** Whether trying again later may succeed. Defaults from the status. */
  retryable?: boolean;
  /** The provider name (for example "openai"), when known. */
  provider?: string;
  /** The backend alias or class, when known. */
  backend?: string;
  /** The request id the service gave, when any. */
  requestId?: string;
  /** The model the request was for, when known. */
  model?: string;
}

function defaultRetryable(status: number | undefined): boolean {
  if (status === undefined) return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * An AI service answered with an error, or could not be reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APIError } from "./errors.ts";
 * const error = new APIError("Service unavailable", { status: 503 });
 * assert.ok(error.retryable === true);
 * ```
 */
export class APIError extends Error {
  /** HTTP status, when the service answered. */
  readonly status: number | undefined;
  /** Whether trying again later may succeed. */
  readonly retryable: boolean;
  /** The provider name, when known. */
  readonly provider: string | undefined;
  /** The backend alias or class, when known. */
  readonly backend: string | undefined;
  /** The request id the service gave, when any. */
  readonly requestId: string | undefined;
  /** The model the request was for, when known. */
  readonly model: string | undefined;

  /** Builds the error. */
  constructor(message: string, options: APIErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.retryable = options.retryable ?? defaultRetryable(options.status);
    this.provider = options.provider;
    this.backend = options.backend;
    this.requestId = options.requestId;
    this.model = options.model;
  }
}

/**
 * The service refused the credentials (HTTP 401 or 403).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APIError, AuthenticationError } from "./errors.ts";
 * assert.ok(new AuthenticationError("bad key", { status: 401 }) instanceof APIError);
 * ```
 */
export class AuthenticationError extends APIError {}

/**
 * Options of {@link RateLimitError}: the wait the service asked for, when it
 * gave one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimitError, type RateLimitErrorOptions } from "./errors.ts";
 * const options: RateLimitErrorOptions = { status: 429, retryAfterSeconds: 20 };
 * assert.equal(new RateLimitError("slow down", options).retryAfterSeconds, 20);
 * ```
 */
export interface RateLimitErrorOptions extends APIErrorOptions {
  /** Seconds to wait before trying again, as the service said (rounded up). */
  retryAfterSeconds?: number;
}

/**
 * The service is rate limiting (HTTP 429). `retryAfterSeconds` is the wait
 * the service asked for (its `retry-after-ms` or `Retry-After` header, in
 * seconds or as an HTTP date, rounded up to whole seconds), when it gave one:
 * pass it on to your own client, as `toResponse()` does in a `Retry-After`
 * header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimitError } from "./errors.ts";
 * const error = new RateLimitError("slow down", { status: 429, retryAfterSeconds: 3 });
 * assert.ok(error.retryable);
 * assert.equal(error.retryAfterSeconds, 3);
 * assert.equal(new RateLimitError("slow down").retryAfterSeconds, undefined);
 * ```
 */
export class RateLimitError extends APIError {
  /** Seconds to wait before trying again, when the service said. */
  readonly retryAfterSeconds: number | undefined;

  /** Builds the error. */
  constructor(message: string, options: RateLimitErrorOptions = {}) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * The kinds of limit a `LIMITS` rule sets: requests in the current minute,
 * tokens in the current minute, tokens in the current day (UTC), and the cost
 * of the current day in US dollars.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LimitType } from "./errors.ts";
 * const type: LimitType = "tokens_per_day";
 * assert.equal(type, "tokens_per_day");
 * ```
 */
export type LimitType =
  | "requests_per_minute"
  | "tokens_per_minute"
  | "tokens_per_day"
  | "cost_per_day";

/**
 * Options of {@link LimitExceededError}: which limit of which rule refused the
 * request, for whom, and the counts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LimitExceededError, type LimitExceededErrorOptions } from "./errors.ts";
 * const options: LimitExceededErrorOptions = {
 *   rule: "LIMITS[0]",
 *   limit: "requests_per_minute",
 *   key: "user",
 *   value: "42",
 *   retryAfterSeconds: 12,
 * };
 * assert.equal(new LimitExceededError("over", options).value, "42");
 * ```
 */
export interface LimitExceededErrorOptions extends RateLimitErrorOptions {
  /** The rule: `LIMITS[0]`, with its `name` when it has one (`LIMITS[0] ("editors")`). */
  rule?: string;
  /** Which of the rule's limits refused the request. */
  limit?: LimitType;
  /** The rule's `key`: `"user"`, `"site"`, another metadata field, or `"global"`. */
  key?: string;
  /** The key's value in the call's metadata (`"(none)"` when the call had none). */
  value?: string;
  /** The limit (US dollars for `cost_per_day`). */
  maximum?: number;
  /** What was used in the current window (the answers in flight included). */
  used?: number;
  /** What this request needed (its prompt and its answer cap, or one request). */
  requested?: number;
  /** `true` when the limit store could not be reached (`on_store_error: "deny"`). */
  storeUnreachable?: boolean;
}

/**
 * A `LIMITS` rule refused a request before anything was sent: the user, site
 * or other metadata value of the call has used its requests, tokens or cost
 * for the current minute or day (or, with `storeUnreachable`, the limit store
 * could not be reached and `on_store_error` is `"deny"`). It is a
 * {@link RateLimitError} with status 429: `retryAfterSeconds` says when the
 * window that refused it ends, and `toResponse()` passes it on as
 * `Retry-After`. `retryable` is `false` only when the request alone needs
 * more than the limit (it can never pass: lower its answer cap). It carries
 * the rule and the key's value, never a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, LimitExceededError } from "./mod.ts";
 *
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 *   LIMITS: [{ key: "user", requests_per_minute: 1 }],
 * });
 * const ask = () =>
 *   ai.getBackend().promptWithContext({ prePrompt: "", context: "hi", metadata: { user: "42" } });
 * await ask().text();
 * await assert.rejects(ask().text(), (error: unknown) => {
 *   assert.ok(error instanceof LimitExceededError);
 *   assert.equal(error.status, 429);
 *   assert.equal(error.rule, "LIMITS[0]");
 *   assert.equal(error.value, "42");
 *   assert.ok(error.retryable && error.retryAfterSeconds! <= 60);
 *   return true;
 * });
 * ```
 */
export class LimitExceededError extends RateLimitError {
  /** The rule that refused the request, when one did. */
  readonly rule: string | undefined;
  /** Which of its limits. */
  readonly limit: LimitType | undefined;
  /** The rule's key. */
  readonly key: string | undefined;
  /** The key's value in the call's metadata. */
  readonly value: string | undefined;
  /** The limit (US dollars for `cost_per_day`). */
  readonly maximum: number | undefined;
  /** What was used in the current window. */
  readonly used: number | undefined;
  /** What this request needed. */
  readonly requested: number | undefined;
  /** Whether the limit store could not be reached. */
  readonly storeUnreachable: boolean;

  /** Builds the error (status 429, retryable unless told otherwise). */
  constructor(message: string, options: LimitExceededErrorOptions = {}) {
    super(message, { status: 429, retryable: true, ...options });
    this.rule = options.rule;
    this.limit = options.limit;
    this.key = options.key;
    this.value = options.value;
    this.maximum = options.maximum;
    this.used = options.used;
    this.requested = options.requested;
    this.storeUnreachable = options.storeUnreachable === true;
  }
}

/**
 * The model or endpoint does not exist (HTTP 404).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NotFoundError } from "./errors.ts";
 * assert.ok(!new NotFoundError('Model "x" not found', { status: 404 }).retryable);
 * ```
 */
export class NotFoundError extends APIError {}

/**
 * Options of {@link ContextLengthError}: the counts, when they are known.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContextLengthError, type ContextLengthErrorOptions } from "./errors.ts";
 * const options: ContextLengthErrorOptions = { promptTokens: 130, contextWindow: 100 };
 * assert.equal(new ContextLengthError("over by 30 tokens", options).contextWindow, 100);
 * ```
 */
export interface ContextLengthErrorOptions extends APIErrorOptions {
  /** The prompt's tokens as counted before sending. */
  promptTokens?: number;
  /** The context window the prompt had to fit. */
  contextWindow?: number;
}

/**
 * A prompt does not fit the model's context window. When it was refused
 * before any request, `promptTokens` and `contextWindow` say by how much (a
 * service's own refusal carries no counts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ContextLengthError } from "./errors.ts";
 * const error = new ContextLengthError("over by 10 tokens", {
 *   model: "gpt-4",
 *   promptTokens: 8202,
 *   contextWindow: 8192,
 * });
 * assert.equal(error.model, "gpt-4");
 * assert.equal(error.promptTokens! - error.contextWindow!, 10);
 * ```
 */
export class ContextLengthError extends APIError {
  /** The prompt's tokens as counted before sending, when known. */
  readonly promptTokens: number | undefined;
  /** The context window the prompt had to fit, when known. */
  readonly contextWindow: number | undefined;

  /** Builds the error. */
  constructor(message: string, options: ContextLengthErrorOptions = {}) {
    super(message, options);
    this.promptTokens = options.promptTokens;
    this.contextWindow = options.contextWindow;
  }
}

/**
 * A request took longer than its timeout.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "./errors.ts";
 * assert.ok(new TimeoutError("timed out", { retryable: true }).retryable);
 * ```
 */
export class TimeoutError extends APIError {}

/**
 * The service could not be reached.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConnectionError } from "./errors.ts";
 * assert.ok(new ConnectionError("refused", { retryable: true }).status === undefined);
 * ```
 */
export class ConnectionError extends APIError {}

/**
 * A streamed answer ended before the service said it was complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StreamInterruptedError } from "./errors.ts";
 * assert.ok(new StreamInterruptedError("cut").name === "StreamInterruptedError");
 * ```
 */
export class StreamInterruptedError extends APIError {}

/**
 * One way an answer missed its JSON Schema: where (a JSON Pointer into the
 * answer, `""` for the whole) and what.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ValidationIssue } from "./errors.ts";
 * const issue: ValidationIssue = { path: "/title", message: "String is too long (72 > 60)." };
 * assert.equal(issue.path, "/title");
 * ```
 */
export interface ValidationIssue {
  /** A JSON Pointer to the value at fault (`""`: the whole answer). */
  path: string;
  /** What is wrong with it. */
  message: string;
}

/**
 * Details that come with a {@link StructuredOutputError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StructuredOutputError, type StructuredOutputErrorOptions } from "./errors.ts";
 * const options: StructuredOutputErrorOptions = {
 *   validationErrors: [{ path: "", message: "Not JSON" }],
 *   rawText: "Sure! Here is the title.",
 *   strategy: "prompt",
 * };
 * const error = new StructuredOutputError("The answer is not JSON", options);
 * assert.equal(error.rawText, "Sure! Here is the title.");
 * assert.equal(error.strategy, "prompt");
 * ```
 */
export interface StructuredOutputErrorOptions extends APIErrorOptions {
  /** Why the last answer was refused. */
  validationErrors: readonly ValidationIssue[];
  /** The last answer's text as the model sent it (secrets masked). */
  rawText: string;
  /** The structured-output strategy that was used (`"json_schema"`, `"tool"`...). */
  strategy?: string;
}

/**
 * The model's answer did not match the JSON Schema asked for, even after the
 * one repair request that showed it its mistakes (or it was not JSON at all).
 * `validationErrors` says what was wrong and `rawText` holds the last answer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APIError, StructuredOutputError } from "./errors.ts";
 * const error = new StructuredOutputError("no match", {
 *   validationErrors: [{ path: "/title", message: "String is too long (72 > 60)." }],
 *   rawText: '{"title": "..."}',
 *   strategy: "json_schema",
 * });
 * assert.ok(error instanceof APIError);
 * assert.equal(error.validationErrors[0].path, "/title");
 * assert.equal(error.retryable, false);
 * ```
 */
export class StructuredOutputError extends APIError {
  /** Why the last answer was refused. */
  readonly validationErrors: readonly ValidationIssue[];
  /** The last answer's text (secrets masked). */
  readonly rawText: string;
  /** The strategy that was used, when known. */
  readonly strategy: string | undefined;

  /** Builds the error. */
  constructor(message: string, options: StructuredOutputErrorOptions) {
    super(message, { ...options, retryable: options.retryable ?? false });
    this.validationErrors = Object.freeze(options.validationErrors.map((issue) => ({ ...issue })));
    this.rawText = options.rawText;
    this.strategy = options.strategy;
  }
}

/**
 * A backend or model cannot do what was asked (for example describe an image
 * with a model that has no vision). Thrown at the call, before any request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ImproperlyConfigured, UnsupportedFeatureError } from "./errors.ts";
 * const error = new UnsupportedFeatureError('Model "gpt-3.5-turbo" cannot describe images');
 * assert.ok(error instanceof ImproperlyConfigured);
 * ```
 */
export class UnsupportedFeatureError extends ImproperlyConfigured {}

/**
 * An image cannot be sent: empty, too large, or of a type the service does
 * not take. Thrown at the call, before any request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InvalidImageError } from "./errors.ts";
 * assert.ok(new InvalidImageError("The image is empty") instanceof TypeError);
 * ```
 */
export class InvalidImageError extends TypeError {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "InvalidImageError";
  }
}

/**
 * A warning about deprecated settings, passed to `onWarning`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, DeprecationWarning } from "./mod.ts";
 * const warnings: Error[] = [];
 * createAI(
 *   { BACKENDS: {}, IMAGE_DESCRIPTION_BACKEND: "vision" },
 *   { onWarning: (w) => warnings.push(w) },
 * );
 * assert.ok(warnings[0] instanceof DeprecationWarning);
 * ```
 */
export class DeprecationWarning extends Error {
  /** Builds the warning. */
  constructor(message: string) {
    super(message);
    this.name = "DeprecationWarning";
  }
}
