// A backend with fallbacks and usage events: the asked backend, whose promptWithContext()
// and describeImage() answers run attempt after attempt through the chain (CONFIG.FALLBACKS,
// and the PROVIDERS fallbacks of a provider backend). Each answer is an AIResponse whose
// observer is a Call: chunks flow from the answering backend's own source untouched.
import type { ChatMessage } from "../chat.ts";
import { checkCallMetadata } from "../_json.ts";
import {
  type AIResponse,
  type AnswerInfo,
  type AnswerObserver,
  observedResponse,
  type ResponseSource,
  responseSource,
} from "../backends/response.ts";
import {
  type Backend,
  BackendFeature,
  type DescribeImageOptions,
  type PromptWithContextOptions,
} from "../backends/types.ts";
import { Call, type ChainEntry, NO_METADATA, type Opened } from "./_call.ts";
import type { Operations } from "./_events.ts";
import { overlay } from "./_overlay.ts";
import type { FallbackOn } from "./_settings.ts";

/** One alias of a backend chain. */
export interface BackendEntry extends ChainEntry {
  /** The backend asked (built on first use). */
  backend(): Backend;
}

/** The backend methods a chain runs, with their feature. */
const METHODS = {
  promptWithContext: BackendFeature.TEXT_COMPLETION,
  describeImage: BackendFeature.IMAGE_DESCRIPTION,
} as const;

type Method = keyof typeof METHODS;
type Options = PromptWithContextOptions | DescribeImageOptions;

/** Who answers from `source`: what it says, else the backend's alias, class and model. */
function whoOf(source: ResponseSource, backend: Backend): AnswerInfo {
  return source.answeredBy ?? {
    alias: backend.alias,
    provider: backend.constructor?.name ?? "backend",
    model: backend.config.modelId,
    backend: backend.alias,
  };
}

/** The prompt of a call, for events with `includePrompts`. */
function promptOf(method: Method, options: Options): ChatMessage[] {
  if (method === "describeImage") {
    const { prompt } = options as DescribeImageOptions;
    return [{
      role: "user",
      content: [{ type: "text", text: prompt }, { type: "image_url", image_url: { url: "" } }],
    }];
  }
  const { prePrompt, context, postPrompt } = options as PromptWithContextOptions;
  const messages: ChatMessage[] = [
    { role: "system", content: prePrompt },
    { role: "user", content: context },
  ];
  if (postPrompt !== undefined) messages.push({ role: "system", content: postPrompt });
  return messages;
}

/**
 * `primary` (the first entry's backend) whose answers run through `entries`
 * with fallbacks, cooldowns and usage events.
 */
export function chainBackend(
  primary: Backend,
  entries: readonly BackendEntry[],
  fallbackOn: FallbackOn,
  ops: Operations,
): Backend {
  const respond = (method: Method, options: Options): AIResponse => {
    // Wrong arguments throw at the call, as the backend's own checks say.
    if (typeof options !== "object" || options === null) {
      return (primary[method] as (options: unknown) => AIResponse)(options);
    }
    const metadata = checkCallMetadata(options.metadata, method);
    const { metadata: _, ...rest } = options;
    const ask = (backend: Backend): AIResponse =>
      (backend[method] as (options: Options) => AIResponse).call(backend, rest as Options);
    // The asked backend checks the arguments now; what it answers is read later.
    const first = responseSource(ask(primary));
    let firstUsed = false;
    const call = new Call(ops, entries, fallbackOn, {
      feature: METHODS[method],
      metadata: metadata ?? NO_METADATA,
      prompt: ops.includePrompts ? () => promptOf(method, options) : undefined,
    });
    const open = (entry: ChainEntry): Opened<ResponseSource> => {
      const backend = (entry as BackendEntry).backend();
      let source: ResponseSource;
      if (entry === entries[0] && !firstUsed) {
        source = first;
        firstUsed = true;
      } else source = responseSource(ask(backend));
      return { target: source, who: whoOf(source, backend) };
    };
    const observer: AnswerObserver = {
      begin(signal) {
        call.signal = signal;
        return call.begin(open);
      },
      firstChunk() {
        call.firstChunk();
      },
      answered(usage, text, source) {
        return call.answered(usage, text, source.estimateUsage?.bind(source));
      },
      failed(error, started) {
        return call.failover(error, started, open);
      },
    };
    return observedResponse(first, observer, options.signal);
  };
  return overlay(primary, {
    promptWithContext: (options: PromptWithContextOptions) => respond("promptWithContext", options),
    describeImage: (options: DescribeImageOptions) => respond("describeImage", options),
  });
}
