// One call through a fallback chain: which alias to try next (skipping those cooling
// down), whether a failure fails over, what each attempt reports (request, answer, error,
// fallback events and spans) and which error the caller gets when no alias answers.
import type { CallMetadata, ChatMessage, ContentPart, TokenUsage } from "../chat.ts";
import {
  APIError,
  ContextLengthError,
  LimitExceededError,
  StructuredOutputError,
} from "../errors.ts";
import { getTokenCounter } from "../tokens.ts";
import type { AnswerInfo, AnswerOutcome, FallbackRecord } from "../backends/response.ts";
import type { FallbackOn } from "./_settings.ts";
import type { AttemptGate, AttemptPlan, GatePass, GateUse } from "./_gate.ts";
import { clock, describeError, genAISystem, type Operations } from "./_events.ts";
import type {
  AIEvent,
  AIEventType,
  EventError,
  EventUsage,
  TelemetryAttributeValue,
  TelemetrySpan,
} from "./types.ts";

/** One alias of a chain. */
export interface ChainEntry {
  /** The alias, as events and `fallbackFrom` name it. */
  readonly alias: string;
  /** Its key in the cooldown store: `"provider:<alias>"` or `"backend:<alias>"`. */
  readonly key: string;
  /** Failures in a row before a cooldown (0: never). */
  readonly cooldownFailures: number;
  /** Seconds of a cooldown. */
  readonly cooldownSeconds: number;
  /** The secrets of its settings, masked in event messages. */
  secrets(): readonly string[];
}

/** What opening an entry gives: the thing to ask, and who it is. */
export interface Opened<T> {
  /** The source, provider or request to run. */
  readonly target: T;
  /** Who answers. */
  readonly who: AnswerInfo;
}

/** What a call is about, for its events. */
export interface CallInfo {
  /** `"TEXT_COMPLETION"` or `"IMAGE_DESCRIPTION"`. */
  readonly feature: string;
  /** The call's metadata (`{}` when none). */
  readonly metadata: CallMetadata;
  /** The messages, for `includePrompts`. */
  readonly prompt?: (() => ChatMessage[]) | undefined;
}

interface Attempt {
  readonly entry: ChainEntry;
  readonly who: AnswerInfo;
  readonly number: number;
  readonly start: number;
  firstChunk: number | undefined;
  span: TelemetrySpan | undefined;
  /** What the gate admitted (to settle when the attempt ends), and the plan it admitted. */
  pass: GatePass | undefined;
  plan: AttemptPlan | undefined;
}

const NO_TOKENS: TokenUsage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

/** What an attempt that stopped after it was sent used: its prompt and the text so far. */
async function usedSoFar(plan: AttemptPlan, text: string): Promise<GateUse> {
  const outputTokens = text === "" ? 0 : (await getTokenCounter(plan.model))(text);
  return {
    sent: true,
    usage: {
      inputTokens: plan.promptTokens,
      outputTokens,
      totalTokens: plan.promptTokens + outputTokens,
    },
  };
}

/** The metadata of a call without any. */
export const NO_METADATA: CallMetadata = Object.freeze({});

/** Whether an error is an abort (the caller's signal, or a reader that left). */
function isAbort(error: unknown): boolean {
  return (error instanceof DOMException || error instanceof Error) && error.name === "AbortError";
}

/** A store call, not waited for: its failure is a warning, never a failed request. */
function reportStore(ops: Operations, record: () => void | Promise<void>): void {
  try {
    const result = record();
    if (result instanceof Promise) {
      result.catch((error) => ops.report("The cooldown store", error));
    }
  } catch (error) {
    ops.report("The cooldown store", error);
  }
}

const IMAGE_LEFT_OUT = "(image data left out)";

/** Messages for an event: image URLs (data or signed links) left out. */
function promptForEvent(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((message) =>
    typeof message.content === "string" ? { ...message } : {
      role: message.role,
      content: message.content.map((part): ContentPart =>
        part.type === "image_url"
          ? { type: "image_url", image_url: { url: IMAGE_LEFT_OUT } }
          : { ...part }
      ),
    }
  );
}

/**
 * One call through a chain. Attempts run one at a time: {@link Call.begin}
 * opens the first, {@link Call.answered} or {@link Call.failover} ends it.
 */
export class Call {
  readonly #ops: Operations;
  readonly #entries: readonly ChainEntry[];
  readonly #fallbackOn: FallbackOn;
  readonly #info: CallInfo;
  readonly #fallbackFrom: FallbackRecord[] = [];
  #position = 0;
  #attempts = 0;
  #current: Attempt | undefined;
  #callId: string | undefined;
  /** The last failure that was not about the context window, if any. */
  #serviceError: { error: unknown } | undefined;
  readonly #windowErrors: { alias: string; error: ContextLengthError }[] = [];
  /** The signal of the call, once known: an aborted call never fails over. */
  signal: AbortSignal | undefined;

  /** Starts a call over `entries` (the asked alias first). */
  constructor(
    ops: Operations,
    entries: readonly ChainEntry[],
    fallbackOn: FallbackOn,
    info: CallInfo,
  ) {
    this.#ops = ops;
    this.#entries = entries;
    this.#fallbackOn = fallbackOn;
    this.#info = info;
  }

  /** Opens the first alias to try (the asked one, unless it is cooling down). */
  async begin<T>(open: (entry: ChainEntry) => Opened<T>): Promise<T> {
    const entry = await this.#next();
    if (entry === undefined) throw new Error("A fallback chain has no alias");
    return await this.#open(entry, open, undefined);
  }

  /**
   * Admits the current attempt through the gate (LIMITS) before it is sent:
   * `plan` (what it will send) is made only when a rule counts tokens.
   * Returns nothing when the attempt is admitted at once, else a promise;
   * throws (or rejects) with the gate's refusal, to be passed to
   * {@link Call.failover} as any failure.
   */
  admit(plan: () => AttemptPlan | Promise<AttemptPlan>): void | Promise<void> {
    const gate = this.#ops.gate;
    const attempt = this.#current;
    if (gate === undefined || attempt === undefined) return;
    const { who } = attempt;
    const aliases = who.backend === undefined || who.backend === who.alias
      ? [who.alias]
      : [who.alias, who.backend];
    const feature = this.#info.feature;
    if (!gate.applies(feature, aliases)) return;
    // Rules on requests only need no count of the prompt.
    if (!gate.countsTokens(feature, aliases)) {
      return this.#pass(gate, attempt, aliases, {
        model: who.model,
        promptTokens: 0,
        outputTokens: 0,
      });
    }
    const planned = plan();
    return planned instanceof Promise
      ? planned.then((known) => this.#pass(gate, attempt, aliases, known))
      : this.#pass(gate, attempt, aliases, planned);
  }

  #pass(
    gate: AttemptGate,
    attempt: Attempt,
    aliases: readonly string[],
    planned: AttemptPlan,
  ): void | Promise<void> {
    const admitted = gate.admit({
      model: planned.model,
      promptTokens: planned.promptTokens,
      outputTokens: planned.outputTokens,
      feature: this.#info.feature,
      aliases,
      metadata: this.#info.metadata,
    });
    attempt.plan = planned;
    if (!(admitted instanceof Promise)) {
      attempt.pass = admitted;
      return;
    }
    return admitted.then((pass) => {
      attempt.pass = pass;
    });
  }

  /** Whether attempts are admitted by a gate (so their text is needed to settle them). */
  get gated(): boolean {
    return this.#ops.gate !== undefined;
  }

  /** The attempt's first text chunk arrived. */
  firstChunk(): void {
    const attempt = this.#current;
    if (attempt !== undefined && attempt.firstChunk === undefined) attempt.firstChunk = clock();
  }

  /**
   * The attempt answered. With events, usage the service did not report is
   * estimated (`estimate`); the answer event and span are made.
   */
  async answered(
    usage: TokenUsage | undefined,
    text: () => string,
    estimate: ((text: string) => Promise<TokenUsage>) | undefined,
  ): Promise<AnswerOutcome> {
    const attempt = this.#current;
    if (attempt === undefined) return usage === undefined ? {} : { usage };
    this.#current = undefined;
    const { entry, who } = attempt;
    if (this.#entries.length > 1 && entry.cooldownFailures > 0) {
      reportStore(this.#ops, () => this.#ops.store.recordSuccess(entry.key));
    }
    let final: EventUsage | undefined = usage;
    const fallbackFrom = [...this.#fallbackFrom];
    const outcome: AnswerOutcome = { answeredBy: { ...who, fallbackFrom } };
    const pass = attempt.pass;
    if (!this.#ops.observed && pass === undefined) {
      if (final !== undefined) outcome.usage = final;
      return outcome;
    }
    if (final === undefined && estimate !== undefined) {
      try {
        final = { ...await estimate(text()), estimated: true };
      } catch {
        final = undefined;
      }
    }
    if (final !== undefined) outcome.usage = final;
    // Settled with what was used; without any count, the reservation stays as it was.
    if (pass !== undefined && final !== undefined) pass.settle({ sent: true, usage: final });
    if (!this.#ops.observed) return outcome;
    const cost = final === undefined ? undefined : this.#ops.cost(who.model, final);
    const now = clock();
    const extra: Partial<Record<keyof AIEvent, unknown>> = {};
    if (final !== undefined) extra.usage = final;
    if (cost !== undefined) extra.cost = cost;
    extra.durationMs = ms(now - attempt.start);
    if (attempt.firstChunk !== undefined) {
      extra.firstChunkMs = ms(attempt.firstChunk - attempt.start);
    }
    extra.fallbackFrom = fallbackFrom;
    if (this.#ops.includePrompts) extra.text = text();
    this.#ops.emit(this.#event("answer", attempt, extra));
    this.#ops.endSpan(attempt.span, {
      "gen_ai.response.model": who.model,
      "gen_ai.usage.input_tokens": final?.inputTokens,
      "gen_ai.usage.output_tokens": final?.outputTokens,
      "cms_ai.usage.estimated": final?.estimated,
      "cms_ai.cost.usd": cost?.total,
      "cms_ai.fallback_from": fallbackFrom.map((record) => record.alias),
    });
    return outcome;
  }

  /**
   * The attempt failed (`started`: text had reached the caller; `text`: the
   * answer's text so far, for its settlement). Resolves to the next alias's
   * target when the call fails over, else rejects with the error the caller
   * gets.
   */
  async failover<T>(
    error: unknown,
    started: boolean,
    open: (entry: ChainEntry) => Opened<T>,
    text?: () => string,
  ): Promise<T> {
    const next = await this.#failed(error, started, text);
    return await this.#open(next, open, error);
  }

  /** Opens `entry`; one that cannot even be built is skipped for the next. */
  async #open<T>(
    entry: ChainEntry,
    open: (entry: ChainEntry) => Opened<T>,
    failure: unknown,
  ): Promise<T> {
    let current = entry;
    while (true) {
      let opened: Opened<T>;
      try {
        opened = open(current);
      } catch (thrown) {
        // Not an attempt (nothing was sent): it is skipped, and said in fallbackFrom.
        this.#fallbackFrom.push({
          alias: current.alias,
          reason: "error",
          error: recordOf(describeError(thrown, current.secrets())),
        });
        const next = await this.#next();
        if (next === undefined) throw this.#final(failure ?? thrown);
        current = next;
        continue;
      }
      this.#start(current, opened.who);
      return opened.target;
    }
  }

  /** Ends the current attempt with a failure: the next alias, or the error to throw. */
  async #failed(
    error: unknown,
    started: boolean,
    text: (() => string) | undefined,
  ): Promise<ChainEntry> {
    const attempt = this.#current;
    // No attempt running (it never began, or has ended): nothing to fail over.
    if (attempt === undefined) throw error;
    this.#current = undefined;
    const { entry } = attempt;
    const aborted = this.signal?.aborted === true || isAbort(error);
    if (attempt.pass !== undefined && attempt.plan !== undefined) {
      // Sent: an answer that stopped used its prompt and its text so far; an error before
      // any text used no tokens (services do not bill a refused request).
      attempt.pass.settle(
        started || aborted
          ? usedSoFar(attempt.plan, text?.() ?? "")
          : { sent: true, usage: NO_TOKENS },
      );
    }
    // A refusal by LIMITS fails over only when it is about this alias, and is never a
    // failure of the alias (one user at their limit puts no alias in cooldown).
    const refused = error instanceof LimitExceededError;
    const window = error instanceof ContextLengthError;
    // An answer off its schema is the model's answer, not a failure of the service: it never
    // fails over (not with fallback_on "any" either) and is no failure towards a cooldown.
    const offSchema = error instanceof StructuredOutputError;
    const apiError = error instanceof APIError && !offSchema;
    const retryable = apiError && error.retryable;
    const failsOver = !started && !aborted &&
      (refused
        ? this.#ops.gate?.refusesAliasOnly(error) === true
        : window || retryable || (apiError && this.#fallbackOn === "any"));
    if (window) this.#windowErrors.push({ alias: entry.alias, error });
    else if (!aborted) this.#serviceError = { error };
    if (
      this.#entries.length > 1 && !aborted && !window && !refused && entry.cooldownFailures > 0
    ) {
      const store = this.#ops.store;
      reportStore(
        this.#ops,
        retryable || failsOver
          ? () =>
            store.recordFailure(entry.key, {
              threshold: entry.cooldownFailures,
              seconds: entry.cooldownSeconds,
            })
          : () => store.recordSuccess(entry.key),
      );
    }
    const described = describeError(error, entry.secrets());
    if (failsOver) {
      const mark = this.#fallbackFrom.length;
      const reason = window ? "context_window" : "error";
      this.#fallbackFrom.push({ alias: entry.alias, reason, error: recordOf(described) });
      const next = await this.#next();
      if (next !== undefined) {
        this.#end(attempt, "fallback", described, { reason });
        return next;
      }
      this.#fallbackFrom.length = mark;
    }
    this.#end(attempt, "error", described, { fallbackFrom: [...this.#fallbackFrom] });
    throw aborted || started ? error : this.#final(error);
  }

  #end(
    attempt: Attempt,
    type: AIEventType,
    error: EventError,
    extra: Partial<Record<keyof AIEvent, unknown>>,
  ): void {
    if (!this.#ops.observed) return;
    this.#ops.emit(
      this.#event(type, attempt, { durationMs: ms(clock() - attempt.start), error, ...extra }),
    );
    this.#ops.endSpan(attempt.span, {
      "cms_ai.fallback": type === "fallback" ? true : undefined,
    }, error);
  }

  /** The error the caller gets when no alias answers. */
  #final(error: unknown): unknown {
    if (!(error instanceof ContextLengthError)) return error;
    // An alias that was down says more than one that was too small.
    if (this.#serviceError !== undefined) return this.#serviceError.error;
    const windows = this.#windowErrors;
    if (windows.length < 2) return error;
    const counted = windows.find((item) => item.error.promptTokens !== undefined)?.error;
    const largest = Math.max(...windows.map((item) => item.error.contextWindow ?? 0));
    const list = windows.map((item) =>
      item.error.contextWindow === undefined
        ? `"${item.alias}"`
        : `"${item.alias}" (${item.error.contextWindow} tokens)`
    ).join(", ");
    return new ContextLengthError(
      `The prompt${
        counted?.promptTokens === undefined ? "" : ` (${counted.promptTokens} tokens)`
      } does not fit the context window of any alias of the chain: ${list}: split the content`,
      {
        ...(counted?.promptTokens === undefined ? {} : { promptTokens: counted.promptTokens }),
        ...(largest > 0 ? { contextWindow: largest } : {}),
        ...(error.model === undefined ? {} : { model: error.model }),
      },
    );
  }

  /**
   * The next alias to try: the first left that is not cooling down (those
   * skipped go to `fallbackFrom`); when all left are cooling down, the first
   * of them all the same.
   */
  async #next(): Promise<ChainEntry | undefined> {
    const entries = this.#entries;
    const cooling: number[] = [];
    for (let index = this.#position; index < entries.length; index++) {
      const entry = entries[index];
      if (entries.length > 1 && entry.cooldownFailures > 0 && await this.#cooling(entry)) {
        cooling.push(index);
        continue;
      }
      for (const skipped of cooling) {
        this.#fallbackFrom.push({ alias: entries[skipped].alias, reason: "cooldown" });
      }
      this.#position = index + 1;
      return entry;
    }
    if (cooling.length === 0) {
      this.#position = entries.length;
      return undefined;
    }
    this.#position = cooling[0] + 1;
    return entries[cooling[0]];
  }

  /** Whether the store says `entry` is cooling down (a store that fails: it is not). */
  async #cooling(entry: ChainEntry): Promise<boolean> {
    try {
      return await this.#ops.store.isCoolingDown(entry.key);
    } catch (error) {
      this.#ops.report("The cooldown store", error);
      return false;
    }
  }

  #start(entry: ChainEntry, who: AnswerInfo): void {
    const attempt: Attempt = {
      entry,
      who,
      number: ++this.#attempts,
      start: clock(),
      firstChunk: undefined,
      span: undefined,
      pass: undefined,
      plan: undefined,
    };
    this.#current = attempt;
    const ops = this.#ops;
    if (!ops.observed) return;
    const extra: Partial<Record<keyof AIEvent, unknown>> = { durationMs: 0 };
    if (ops.includePrompts && this.#info.prompt !== undefined) {
      extra.prompt = promptForEvent(this.#info.prompt());
    }
    const event = this.#event("request", attempt, extra);
    ops.emit(event);
    const attributes: Record<string, TelemetryAttributeValue> = {
      "gen_ai.operation.name": "chat",
      "gen_ai.system": genAISystem(who.provider),
      "gen_ai.provider.name": genAISystem(who.provider),
      "gen_ai.request.model": who.model,
      "cms_ai.alias": who.alias,
      "cms_ai.feature": this.#info.feature,
      "cms_ai.attempt": attempt.number,
      "cms_ai.call_id": event.callId,
    };
    if (who.backend !== undefined) attributes["cms_ai.backend"] = who.backend;
    for (const [key, value] of Object.entries(this.#info.metadata)) {
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        attributes[`cms_ai.metadata.${key}`] = value;
      }
    }
    attempt.span = ops.startSpan(who.model, attributes);
  }

  #event(
    type: AIEventType,
    attempt: Attempt,
    extra: Partial<Record<keyof AIEvent, unknown>>,
  ): AIEvent {
    const { who } = attempt;
    const event: Record<string, unknown> = {
      type,
      time: new Date().toISOString(),
      callId: this.#callId ??= crypto.randomUUID(),
      attempt: attempt.number,
      feature: this.#info.feature,
    };
    if (who.backend !== undefined) event.backend = who.backend;
    event.alias = who.alias;
    event.provider = who.provider;
    event.model = who.model;
    event.metadata = this.#info.metadata;
    for (const key of EVENT_KEYS) if (extra[key] !== undefined) event[key] = extra[key];
    return event as unknown as AIEvent;
  }
}

// The keys after metadata, in the order events show them.
const EVENT_KEYS: readonly (keyof AIEvent)[] = [
  "usage",
  "cost",
  "durationMs",
  "firstChunkMs",
  "error",
  "reason",
  "fallbackFrom",
  "prompt",
  "text",
];

/** Milliseconds, to a tenth. */
function ms(value: number): number {
  return Math.round(value * 10) / 10;
}

function recordOf(error: EventError): NonNullable<FallbackRecord["error"]> {
  return error.status === undefined
    ? { name: error.name, message: error.message }
    : { name: error.name, message: error.message, status: error.status };
}
