// What the operations layer asks of an attempt gate (LIMITS: limits/, above this layer,
// implements it): whether an attempt is gated at all, its admission before anything is
// sent, and how it settles once the attempt has ended.
import type { CallMetadata, TokenUsage } from "../chat.ts";

/** What an attempt will send: the model asked, its exact prompt count and its answer cap. */
export interface AttemptPlan {
  /** The model asked (for its price). */
  readonly model: string;
  /** The prompt's exact token count. */
  readonly promptTokens: number;
  /** The answer's cap in tokens. */
  readonly outputTokens: number;
}

/** An attempt to admit. */
export interface GateRequest extends AttemptPlan {
  /** `"TEXT_COMPLETION"` or `"IMAGE_DESCRIPTION"`. */
  readonly feature: string;
  /** The aliases it is sent under (the alias asked, and the `BACKENDS` alias). */
  readonly aliases: readonly string[];
  /** The call's metadata. */
  readonly metadata: CallMetadata;
}

/** What an admitted attempt used. */
export interface GateUse {
  /** Whether the request went out (only then does it count as one). */
  readonly sent: boolean;
  /** The tokens it used (reported, or counted). */
  readonly usage: TokenUsage;
}

/** An admitted attempt: settled once, when it has ended. */
export interface GatePass {
  /** Settles with what the attempt used (counted later, perhaps); never rejects. */
  settle(use: GateUse | Promise<GateUse>): Promise<void>;
}

/** Admits attempts before they are sent. */
export interface AttemptGate {
  /** Whether attempts of `feature` under `aliases` are gated (else nothing is planned). */
  applies(feature: string, aliases: readonly string[]): boolean;
  /** Whether their tokens count (else their plan is not made: only requests count). */
  countsTokens(feature: string, aliases: readonly string[]): boolean;
  /**
   * Admits an attempt: gives its pass (or undefined when nothing is counted),
   * at once or as a promise; throws or rejects with the refusal (a
   * `LimitExceededError`).
   */
  admit(request: GateRequest): GatePass | undefined | Promise<GatePass | undefined>;
  /** Whether a refusal concerns the refused alias only (so the next alias may pass). */
  refusesAliasOnly(error: unknown): boolean;
}
