// Where usage events and spans go: the application's onEvent and tracer, called so that
// neither can break a request (what they throw goes to onWarning), the cost of an answer
// from PRICES, and errors described without secrets.
import type { TokenUsage } from "../chat.ts";
import { APIError } from "../errors.ts";
import { isSecretKey, maskUrl, scrub, urlSecrets } from "../_redact.ts";
import type { CooldownStore } from "./cooldown.ts";
import type { AttemptGate } from "./_gate.ts";
import { promptPriceUnits } from "./_settings.ts";
import type {
  AIEvent,
  EventCost,
  EventError,
  ModelPrice,
  TelemetryAttributeValue,
  TelemetrySpan,
  TelemetryTracer,
} from "./types.ts";

/** What the operations of one `createAI()` are built from. */
export interface OperationsOptions {
  /** Receives every usage event. */
  onEvent?: ((event: AIEvent) => unknown) | undefined;
  /** Receives a span per attempt. */
  tracer?: TelemetryTracer | undefined;
  /** Whether events carry the prompt and the answer's text. */
  includePrompts?: boolean | undefined;
  /** `PRICES` by model id. */
  prices: ReadonlyMap<string, ModelPrice>;
  /** The cooldown store. */
  store: CooldownStore;
  /** Admits attempts before sending (LIMITS), when any are set. */
  gate?: AttemptGate | undefined;
  /** Reports what onEvent or the tracer threw, and missing prices. */
  warn: (warning: Error) => void;
}

/** Milliseconds since some start, for durations. */
export const clock: () => number = typeof performance !== "undefined"
  ? () => performance.now()
  : () => Date.now();

// OpenTelemetry's GenAI semantic conventions name some vendors otherwise.
const GEN_AI_SYSTEMS: Readonly<Record<string, string>> = {
  azure: "az.ai.openai",
  gemini: "gcp.gemini",
  mistral: "mistral_ai",
};

/** The `gen_ai.system` value of a provider name. */
export function genAISystem(provider: string): string {
  return GEN_AI_SYSTEMS[provider] ?? provider;
}

/** OpenTelemetry's `SpanKind.CLIENT`, `SpanStatusCode.OK` and `SpanStatusCode.ERROR`. */
const SPAN_KIND_CLIENT = 2;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

/**
 * The operations of one `createAI()`: the event and span sinks, prices and
 * the cooldown store, shared by every wrapped backend and provider.
 */
export class Operations {
  /** Whether events or spans are made at all (else only fallbacks run). */
  readonly observed: boolean;
  /** Whether events carry prompts and answers. */
  readonly includePrompts: boolean;
  /** The cooldown store. */
  readonly store: CooldownStore;
  /** The attempt gate (LIMITS), when any is set. */
  readonly gate: AttemptGate | undefined;
  /** Whether backends and providers are wrapped at all: events, spans or a gate. */
  readonly active: boolean;
  readonly #onEvent: ((event: AIEvent) => unknown) | undefined;
  readonly #tracer: TelemetryTracer | undefined;
  readonly #prices: ReadonlyMap<string, ModelPrice>;
  readonly #warn: (warning: Error) => void;
  readonly #unpriced = new Set<string>();

  /** Builds the operations from the createAI() options and settings. */
  constructor(options: OperationsOptions) {
    this.#onEvent = options.onEvent;
    this.#tracer = options.tracer;
    this.#prices = options.prices;
    this.#warn = options.warn;
    this.store = options.store;
    this.includePrompts = options.includePrompts === true;
    this.observed = this.#onEvent !== undefined || this.#tracer !== undefined;
    this.gate = options.gate;
    this.active = this.observed || this.gate !== undefined;
  }

  /** Sends an event to onEvent; what it throws (or rejects with) goes to onWarning. */
  emit(event: AIEvent): void {
    const onEvent = this.#onEvent;
    if (onEvent === undefined) return;
    try {
      const result = onEvent(event);
      if (result instanceof Promise) result.catch((error) => this.#failed("onEvent", event, error));
    } catch (error) {
      this.#failed("onEvent", event, error);
    }
  }

  /** Reports what an application hook or the store threw, through onWarning. */
  report(what: string, error: unknown): void {
    this.#failed(what, undefined, error);
  }

  #failed(what: string, event: AIEvent | undefined, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const about = event === undefined ? "" : ` for a "${event.type}" event`;
    this.#safeWarn(new Error(`${what} threw${about}: ${reason}`, { cause: error }));
  }

  #safeWarn(warning: Error): void {
    try {
      this.#warn(warning);
    } catch {
      // onWarning itself threw: a request still never breaks.
    }
  }

  /** Starts a span for an attempt, or undefined without a tracer (or when it throws). */
  startSpan(
    model: string,
    attributes: Record<string, TelemetryAttributeValue>,
  ): TelemetrySpan | undefined {
    const tracer = this.#tracer;
    if (tracer === undefined) return undefined;
    try {
      return tracer.startSpan(`chat ${model}`, { kind: SPAN_KIND_CLIENT, attributes });
    } catch (error) {
      this.#failed("tracer.startSpan()", undefined, error);
      return undefined;
    }
  }

  /** Ends a span: attributes, then status OK, or ERROR with the error. */
  endSpan(
    span: TelemetrySpan | undefined,
    attributes: Record<string, TelemetryAttributeValue | undefined>,
    error?: EventError,
  ): void {
    if (span === undefined) return;
    try {
      for (const [key, value] of Object.entries(attributes)) {
        if (value !== undefined) span.setAttribute(key, value);
      }
      if (error === undefined) span.setStatus({ code: STATUS_OK });
      else {
        span.setAttribute("error.type", error.name);
        span.recordException({ name: error.name, message: error.message });
        span.setStatus({ code: STATUS_ERROR, message: error.message });
      }
      span.end();
    } catch (thrown) {
      this.#failed("A span", undefined, thrown);
    }
  }

  /** The cost of an answer of `model`, or undefined when `PRICES` has no price for it. */
  cost(model: string, usage: TokenUsage & { estimated?: true }): EventCost | undefined {
    const price = this.#prices.get(model);
    if (price === undefined) {
      if (this.#prices.size > 0 && !this.#unpriced.has(model)) {
        this.#unpriced.add(model);
        this.#safeWarn(
          new Error(`PRICES has no entry for model "${model}": its answers have no cost`),
        );
      }
      return undefined;
    }
    const input = round(promptPriceUnits(price, usage) / 1e6);
    const output = round(usage.outputTokens * price.output / 1e6);
    const cost: EventCost = usage.estimated
      ? { input, output, total: round(input + output), currency: "USD", estimated: true }
      : { input, output, total: round(input + output), currency: "USD" };
    return cost;
  }
}

/** Dollars to 12 decimal places (no float noise such as 0.30000000000000004). */
function round(value: number): number {
  return Math.round(value * 1e12) / 1e12;
}

/**
 * The strings under secret keys (`api_key`, any `*headers`, `token`, `password`...) of a settings or
 * config object, and the credentials of the URLs in it (`api_base` with a
 * user name and password, or a `?key=` query parameter).
 */
export function secretsIn(value: unknown, depth = 0, found: string[] = []): string[] {
  if (depth > 8 || typeof value !== "object" || value === null) return found;
  for (const [key, item] of Object.entries(value)) {
    if (isSecretKey(key)) collectStrings(item, found, 0);
    else if (typeof item === "string") {
      for (const secret of urlSecrets(item)) found.push(secret, encodeURIComponent(secret));
    } else secretsIn(item, depth + 1, found);
  }
  return found;
}

/** `text` with `secrets` masked, and the credentials of any URL in it. */
export function scrubMessage(text: string, secrets: readonly string[]): string {
  return scrub(text, secrets).replace(/https?:\/\/[^\s()<>"']+/gi, maskUrl);
}

function collectStrings(value: unknown, found: string[], depth: number): void {
  if (typeof value === "string") found.push(value);
  else if (depth < 4 && typeof value === "object" && value !== null) {
    for (const item of Object.values(value)) collectStrings(item, found, depth + 1);
  }
}

/** An error for an event: name, message with `secrets` masked, and what the service said. */
export function describeError(error: unknown, secrets: readonly string[]): EventError {
  const name = error instanceof Error || error instanceof DOMException ? error.name : typeof error;
  const raw = error instanceof Error || error instanceof DOMException
    ? error.message
    : String(error);
  const message = scrubMessage(raw, secrets);
  if (!(error instanceof APIError)) return { name, message };
  const described: { -readonly [K in keyof EventError]: EventError[K] } = {
    name,
    message,
    retryable: error.retryable,
  };
  if (error.status !== undefined) described.status = error.status;
  if (error.requestId !== undefined) described.requestId = scrubMessage(error.requestId, secrets);
  return described;
}
