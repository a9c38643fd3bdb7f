/**
 * The types of the operations layer: usage events (`createAI(settings,
 * {onEvent})`), their cost, and the minimal OpenTelemetry tracer the spans
 * are written to. See docs/operations.md.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AIEvent, createAI } from "../mod.ts";
 *
 * const events: AIEvent[] = [];
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 1000 } } },
 * }, { onEvent: (event) => events.push(event) });
 * await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi" }).text();
 * assert.deepEqual(events.map((event) => event.type), ["request", "answer"]);
 * ```
 *
 * @module
 */
import type { CallMetadata, ChatMessage, TokenUsage } from "../chat.ts";
import type { FallbackRecord } from "../backends/response.ts";

/**
 * The kinds of usage events. Every attempt (one alias tried, its own retries
 * included) starts with one `request` and ends with exactly one `answer`,
 * `error` or `fallback`:
 *
 * - `request`: an alias is tried.
 * - `answer`: it answered (with `usage`, `cost`, `durationMs`, `firstChunkMs`).
 * - `fallback`: it failed in a way that fails over to the next alias
 *   (`reason`: `"error"`, or `"context_window"` when the prompt does not fit
 *   its window and nothing was sent).
 * - `error`: it failed and the call fails (or the call was aborted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AIEventType } from "./types.ts";
 * const type: AIEventType = "fallback";
 * assert.equal(type, "fallback");
 * ```
 */
export type AIEventType = "request" | "answer" | "error" | "fallback";

/**
 * An error in an event: its class name, message (never a key or header value)
 * and what the service said.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventError } from "./types.ts";
 * const error: EventError = { name: "RateLimitError", message: "slow down", status: 429, retryable: true };
 * assert.ok(error.retryable);
 * ```
 */
export interface EventError {
  /** The error class's name (`"RateLimitError"`, `"AbortError"`...). */
  readonly name: string;
  /** Its message, with the alias's secrets masked. */
  readonly message: string;
  /** The HTTP status, when the service answered. */
  readonly status?: number;
  /** Whether trying again may help (APIError's `retryable`). */
  readonly retryable?: boolean;
  /** The service's request id, when it gave one. */
  readonly requestId?: string;
}

/**
 * Token counts in an event: as the service reported them, or estimated (the
 * exact prompt count and a count of the answer's text) when it reported none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventUsage } from "./types.ts";
 * const usage: EventUsage = { inputTokens: 10, outputTokens: 5, totalTokens: 15, estimated: true };
 * assert.equal(usage.estimated, true);
 * ```
 */
export interface EventUsage extends TokenUsage {
  /** `true` when the service reported no usage and the counts are estimated. */
  estimated?: true;
}

/**
 * The cost of an answer in US dollars, from `PRICES` (per million tokens) and
 * the answer's usage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventCost } from "./types.ts";
 * const cost: EventCost = { input: 0.0004, output: 0.0016, total: 0.002, currency: "USD" };
 * assert.equal(cost.total, cost.input + cost.output);
 * ```
 */
export interface EventCost {
  /** The prompt's cost (cached input at `cached_input`, when priced). */
  readonly input: number;
  /** The answer's cost. */
  readonly output: number;
  /** Their sum. */
  readonly total: number;
  /** Always `"USD"`. */
  readonly currency: "USD";
  /** `true` when it comes from estimated usage. */
  readonly estimated?: true;
}

/**
 * One usage event. Events never hold a key, a header value or prompt text
 * (unless `events: {includePrompts: true}`), so they can go to any log.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AIEvent } from "./types.ts";
 * const event: AIEvent = {
 *   type: "answer",
 *   time: "2026-01-01T00:00:00.000Z",
 *   callId: "6f1c0a6e-5b7e-4f6e-9a43-0c6b2c9d1e11",
 *   attempt: 1,
 *   feature: "TEXT_COMPLETION",
 *   alias: "default",
 *   provider: "openai",
 *   model: "gpt-4.1-mini",
 *   metadata: { user: "42" },
 *   usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
 *   durationMs: 812,
 *   fallbackFrom: [],
 * };
 * assert.equal(event.metadata.user, "42");
 * ```
 */
export interface AIEvent {
  /** What happened: see {@link AIEventType}. */
  readonly type: AIEventType;
  /** When, as an ISO 8601 string. */
  readonly time: string;
  /** The same for every event of one call (one `promptWithContext()`, `completion()`...). */
  readonly callId: string;
  /** The attempt within the call, from 1 (one per alias tried). */
  readonly attempt: number;
  /** `"TEXT_COMPLETION"` or `"IMAGE_DESCRIPTION"` (a provider request with an image part). */
  readonly feature: string;
  /** The `BACKENDS` alias, when a backend made the request. */
  readonly backend?: string;
  /** The alias tried: a `PROVIDERS` alias (provider backends included), else the `BACKENDS` alias. */
  readonly alias: string;
  /** The vendor (`"openai"`, `"mistral"`, `"echo"`...). */
  readonly provider: string;
  /** The model asked. */
  readonly model: string;
  /** The call's `metadata` option (`{}` when none). */
  readonly metadata: CallMetadata;
  /** On `answer` events: the token counts. */
  readonly usage?: EventUsage;
  /** On `answer` events, when `PRICES` has the model: the cost. */
  readonly cost?: EventCost;
  /** Milliseconds since the attempt started (0 on `request` events). */
  readonly durationMs: number;
  /** On streamed `answer` events: milliseconds until the first text chunk. */
  readonly firstChunkMs?: number;
  /** On `error` and `fallback` events: what failed. */
  readonly error?: EventError;
  /** On `fallback` events: why the next alias is tried. */
  readonly reason?: "error" | "context_window";
  /** On `answer` and `error` events: the aliases tried or skipped before, and why. */
  readonly fallbackFrom?: readonly FallbackRecord[];
  /** With `includePrompts`, on `request` events: the messages (image data left out). */
  readonly prompt?: readonly ChatMessage[];
  /** With `includePrompts`, on `answer` events: the answer's text. */
  readonly text?: string;
}

/**
 * Options of the usage events (`createAI(settings, {events})`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventsOptions } from "./types.ts";
 * const options: EventsOptions = { includePrompts: true };
 * assert.ok(options.includePrompts);
 * ```
 */
export interface EventsOptions {
  /**
   * Add the prompt (`request` events) and the answer's text (`answer` events).
   * Default `false`: events then hold no content at all.
   */
  includePrompts?: boolean;
}

/**
 * One `PRICES` entry: US dollars per million tokens, as the vendor's price
 * page says. `cached_input` (default: `input`) prices the prompt tokens the
 * service read from its prompt cache, `cache_write_input` (default: `input`)
 * those it wrote to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ModelPrice } from "./types.ts";
 * const price: ModelPrice = { input: 0.4, output: 1.6, cached_input: 0.1 };
 * assert.equal(price.output, 1.6);
 * ```
 */
export interface ModelPrice {
  /** Dollars per million prompt tokens. */
  input: number;
  /** Dollars per million answer tokens. */
  output: number;
  /** Dollars per million prompt tokens read from the prompt cache (default: `input`). */
  cached_input?: number;
  /**
   * Dollars per million prompt tokens written to the prompt cache (default:
   * `input`; Anthropic bills them at 1.25 times the input price).
   */
  cache_write_input?: number;
}

/**
 * A value of a span attribute (as OpenTelemetry's `AttributeValue`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TelemetryAttributeValue } from "./types.ts";
 * const aliases: TelemetryAttributeValue = ["primary", "backup"];
 * assert.ok(Array.isArray(aliases));
 * ```
 */
export type TelemetryAttributeValue =
  | string
  | number
  | boolean
  | string[]
  | number[]
  | boolean[];

/**
 * What {@link TelemetryTracer.startSpan} is given: `kind` 2 (OpenTelemetry's
 * `SpanKind.CLIENT`) and the attributes known at the start.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TelemetrySpanOptions } from "./types.ts";
 * const options: TelemetrySpanOptions = { kind: 2, attributes: { "gen_ai.request.model": "gpt-4o" } };
 * assert.equal(options.kind, 2);
 * ```
 */
export interface TelemetrySpanOptions {
  /** The span kind: 2, `SpanKind.CLIENT`. */
  kind?: number;
  /** Attributes set at the start. */
  attributes?: Record<string, TelemetryAttributeValue>;
}

/**
 * The part of an OpenTelemetry `Span` this module calls. A span of
 * `@opentelemetry/api` is one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TelemetrySpan } from "./types.ts";
 * const attributes: Record<string, unknown> = {};
 * const span: TelemetrySpan = {
 *   setAttribute(key, value) { attributes[key] = value; return span; },
 *   setStatus() { return span; },
 *   recordException() {},
 *   end() {},
 * };
 * span.setAttribute("gen_ai.usage.input_tokens", 3);
 * assert.equal(attributes["gen_ai.usage.input_tokens"], 3);
 * ```
 */
export interface TelemetrySpan {
  /** Sets one attribute. */
  setAttribute(key: string, value: TelemetryAttributeValue): unknown;
  /** Sets the status: code 1 (`OK`) or 2 (`ERROR`) with a message. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records a failure (its name and message only). */
  recordException(exception: { name: string; message: string }): void;
  /** Ends the span. */
  end(): void;
}

/**
 * The part of an OpenTelemetry `Tracer` this module calls: pass
 * `trace.getTracer("my-app")` of `@opentelemetry/api` as
 * `createAI(settings, {tracer})`. Each attempt becomes a client span named
 * `chat <model>` with the GenAI semantic-convention attributes
 * (`gen_ai.system`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAI, type TelemetrySpan, type TelemetryTracer } from "../mod.ts";
 *
 * const names: string[] = [];
 * const span: TelemetrySpan = {
 *   setAttribute: () => span,
 *   setStatus: () => span,
 *   recordException: () => {},
 *   end: () => {},
 * };
 * const tracer: TelemetryTracer = {
 *   startSpan(name) {
 *     names.push(name);
 *     return span;
 *   },
 * };
 * const ai = createAI({
 *   BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
 * }, { tracer });
 * await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi" }).text();
 * assert.deepEqual(names, ["chat echo"]);
 * ```
 */
export interface TelemetryTracer {
  /** Starts a span (a child of the active one, as the tracer decides). */
  startSpan(name: string, options?: TelemetrySpanOptions): TelemetrySpan;
}

/**
 * The answer tokens `LIMITS` reserves for a request whose answer cap is
 * unknown: no `max_tokens` in the call, no maximum output in the token table
 * and no known context window (a model of one's own on a local server). The
 * reservation is settled with what the answer used, as any other.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RESERVED_OUTPUT_TOKENS } from "./types.ts";
 * assert.equal(DEFAULT_RESERVED_OUTPUT_TOKENS, 4096);
 * ```
 */
export const DEFAULT_RESERVED_OUTPUT_TOKENS = 4096;
