// A backend with fallbacks and usage events: the asked backend, whose promptWithContext(),
// describeImage() and promptForObject() answers run attempt after attempt through the chain (CONFIG.FALLBACKS,
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
  type PromptForObjectOptions,
  type PromptWithContextOptions,
} from "../backends/types.ts";
import { BaseBackend } from "../backends/base.ts";
import { OpenAIBackend } from "../backends/openai.ts";
import { ProviderBackend, type ProviderBackendConfig } from "../backends/provider.ts";
import { countMessageTokens, countSchemaTokens, estimateAnswerUsage } from "../_budget.ts";
import { getMaxOutputTokens } from "../tokens.ts";
import type { ObjectCompletion } from "../structured.ts";
import { Call, type ChainEntry, NO_METADATA, type Opened } from "./_call.ts";
import type { Operations } from "./_events.ts";
import { overlay } from "./_overlay.ts";
import type { FallbackOn } from "./_settings.ts";
import type { AttemptPlan } from "./_gate.ts";

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

/** Who answers through `backend`, for a call that has no response source (promptForObject). */
function whoOfBackend(backend: Backend): AnswerInfo {
  const model = backend.config.modelId;
  if (backend instanceof ProviderBackend) {
    const config = backend.config as ProviderBackendConfig;
    return {
      alias: config.providerAlias,
      provider: backend.getProvider().provider,
      model,
      backend: backend.alias,
    };
  }
  const provider = backend instanceof OpenAIBackend ? "openai" : backend.constructor?.name;
  return { alias: backend.alias, provider: provider ?? "backend", model, backend: backend.alias };
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
 * What a call to `backend` will send, for LIMITS, when its response source
 * cannot say (a custom backend's): the call's prompt counted for the
 * backend's model, and the model's maximum output (else what its window
 * leaves) as the answer's cap. For `promptForObject()` (`schema` given),
 * the schema counts, and so does the one repair request it may send: the
 * prompt again with the refused answer (at most the cap), and a second answer.
 */
async function planOfCall(
  backend: Backend,
  messages: ChatMessage[],
  schema?: unknown,
): Promise<AttemptPlan> {
  const model = backend.config.modelId;
  let promptTokens = await countMessageTokens(messages, model);
  const outputTokens = (backend.config as { maxOutputTokens?: number }).maxOutputTokens ??
    getMaxOutputTokens(model) ?? Math.max(0, backend.config.tokenLimit - promptTokens);
  if (schema === undefined) return { model, promptTokens, outputTokens };
  if (typeof schema === "object" && schema !== null && !("~standard" in schema)) {
    promptTokens += await countSchemaTokens(schema, model);
  }
  return { model, promptTokens: 2 * promptTokens + outputTokens, outputTokens: 2 * outputTokens };
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
    const backends = new WeakMap<ResponseSource, Backend>();
    const open = (entry: ChainEntry): Opened<ResponseSource> => {
      const backend = (entry as BackendEntry).backend();
      let source: ResponseSource;
      if (entry === entries[0] && !firstUsed) {
        source = first;
        firstUsed = true;
      } else source = responseSource(ask(backend));
      if (call.gated) backends.set(source, backend);
      return { target: source, who: whoOf(source, backend) };
    };
    /** What `source` will send: as it says, else the call's prompt counted. */
    const planOf = async (source: ResponseSource): Promise<AttemptPlan> => {
      if (source.prepare !== undefined) {
        const plan = await source.prepare(call.signal);
        return {
          model: plan.model,
          promptTokens: plan.promptTokens,
          outputTokens: plan.maxOutputTokens,
        };
      }
      return await planOfCall(backends.get(source)!, promptOf(method, options));
    };
    /** `source` admitted by LIMITS before it is sent; a refusal fails over as any failure. */
    const admitted = (source: ResponseSource): ResponseSource | Promise<ResponseSource> => {
      const refused = (error: unknown) => call.failover(error, false, open).then(admitted);
      let admission: void | Promise<void>;
      try {
        admission = call.admit(() => planOf(source));
      } catch (error) {
        return refused(error);
      }
      return admission === undefined ? source : admission.then(() => source, refused);
    };
    const observer: AnswerObserver = {
      begin(signal) {
        call.signal = signal;
        const opened = call.begin(open);
        return call.gated ? opened.then(admitted) : opened;
      },
      firstChunk() {
        call.firstChunk();
      },
      answered(usage, text, source) {
        return call.answered(usage, text, source.estimateUsage?.bind(source));
      },
      failed(error, started, text) {
        const next = call.failover(error, started, open, text);
        return call.gated ? next.then(admitted) : next;
      },
    };
    return observedResponse(first, observer, options.signal);
  };
  const promptForObject = <T>(options: PromptForObjectOptions<T>): Promise<ObjectCompletion<T>> => {
    const ask = (backend: Backend, sent: PromptForObjectOptions<T>) =>
      backend.promptForObject.call(backend, sent) as Promise<ObjectCompletion<T>>;
    // A backend that cannot, or wrong arguments: thrown at the call, as the backend does.
    if (
      typeof options !== "object" || options === null ||
      primary.promptForObject === BaseBackend.prototype.promptForObject
    ) {
      return ask(primary, options);
    }
    const metadata = checkCallMetadata(options.metadata, "promptForObject");
    const { metadata: _, ...rest } = options;
    // The arguments are checked now; the request is sent once the alias to ask is known.
    (primary as unknown as { checkObjectOptions?: (options: unknown) => void })
      .checkObjectOptions?.(rest);
    const call = new Call(ops, entries, fallbackOn, {
      feature: BackendFeature.TEXT_COMPLETION,
      metadata: metadata ?? NO_METADATA,
      prompt: ops.includePrompts ? () => promptOf("promptWithContext", options) : undefined,
    });
    call.signal = options.signal;
    const open = (entry: ChainEntry): Opened<Backend> => {
      const backend = (entry as BackendEntry).backend();
      return { target: backend, who: whoOfBackend(backend) };
    };
    const messages = () => promptOf("promptWithContext", options);
    return (async () => {
      let attempt = await call.begin(open);
      while (true) {
        let answer: ObjectCompletion<T>;
        try {
          const backend = attempt;
          if (call.gated) {
            const admitted = call.admit(() => planOfCall(backend, messages(), options.schema));
            if (admitted !== undefined) await admitted;
          }
          answer = await ask(backend, rest as PromptForObjectOptions<T>);
        } catch (error) {
          attempt = await call.failover(error, false, open);
          continue;
        }
        const model = attempt.config.modelId;
        await call.answered(
          answer.usage,
          () => JSON.stringify(answer.object) ?? "",
          (text) => estimateAnswerUsage(model, undefined, () => Promise.resolve(messages()), text),
        );
        return answer;
      }
    })();
  };
  return overlay(primary, {
    promptWithContext: (options: PromptWithContextOptions) => respond("promptWithContext", options),
    describeImage: (options: DescribeImageOptions) => respond("describeImage", options),
    promptForObject,
  });
}
