// One non-streaming chat request: sent through a cached client, its 200 answer
// checked and turned into the OpenAI completion shape.
import { type ChatCompletion, toTokenUsage } from "../chat.ts";
import { APIError } from "../errors.ts";
import { checkNetPermission, getClient } from "./client.ts";
import {
  abortReason,
  type ErrorContext,
  mapError,
  scrubText,
  serviceLabel,
  truncate,
} from "./errors.ts";
import {
  answerLimitOf,
  type ChatRequest,
  type ClientSettings,
  type OpenAIModule,
} from "./types.ts";
import { contentOf, requestBody, toUsage } from "./wire.ts";

function isRecord(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a 200 answer and builds the completion, or says what was missing. */
function validateCompletion(
  data: unknown,
  context: ErrorContext,
  requestId: string | undefined,
): ChatCompletion {
  const { settings, model } = context;
  const label = serviceLabel(settings);
  const fail = (what: string) =>
    new APIError(`${label} sent an unusable answer for model "${model}": ${what}`, {
      status: 200,
      retryable: false,
      provider: settings.provider,
      backend: settings.backend,
      requestId,
      model,
    });
  if (data === undefined || data === null || data === "") throw fail("the body is empty");
  if (typeof data !== "object" || Array.isArray(data)) {
    throw fail(
      `the body is not a JSON object (${truncate(scrubText(String(data), settings), 80)})`,
    );
  }
  const body = data as Record<string, unknown>;
  const maxAnswer = answerLimitOf(settings);
  if (!Array.isArray(body.choices)) throw fail('it has no "choices"');
  if (body.choices.length === 0) throw fail('"choices" is empty');
  const choices = body.choices.map((raw, index) => {
    // deno-lint-ignore no-explicit-any
    const choice = raw as any;
    if (!choice || typeof choice !== "object" || !choice.message) {
      throw fail(`choices[${index}] has no "message"`);
    }
    const content = contentOf(choice.message.content);
    if (content === undefined) throw fail(`choices[${index}].message.content is not text`);
    if (content.length > maxAnswer) {
      throw fail(`the answer is longer than ${maxAnswer} characters`);
    }
    return {
      index: typeof choice.index === "number" ? choice.index : index,
      message: { role: "assistant" as const, content },
      finish_reason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    };
  });
  const wire = toUsage(body.usage);
  // Our shape, with the service's own object (its details included) under raw.
  const usage = wire && {
    ...toTokenUsage(wire),
    raw: { ...(body.usage as Record<string, unknown>), ...wire },
  };
  return {
    id: typeof body.id === "string" ? body.id : "",
    object: "chat.completion",
    created: typeof body.created === "number" ? body.created : Math.floor(Date.now() / 1000),
    model: typeof body.model === "string" ? body.model : model,
    choices,
    ...(usage ? { usage } : {}),
  };
}

/**
 * Sends one chat request and returns the completion in the OpenAI shape
 * (`choices[0].message.content` is a string, `""` when the service sent null).
 * Rejects with an errors.ts class, or with `signal.reason` when aborted.
 */
export async function chatCompletion(
  settings: ClientSettings,
  request: ChatRequest,
): Promise<ChatCompletion> {
  const context: ErrorContext = {
    settings,
    model: request.model,
    signal: request.signal,
    streaming: false,
  };
  if (request.signal?.aborted) throw abortReason(request.signal);
  checkNetPermission(settings, request.model);
  let mod: OpenAIModule | undefined;
  try {
    const got = getClient(settings);
    const [loaded, client] = Array.isArray(got) ? got : await got;
    mod = loaded;
    if (request.signal?.aborted) throw abortReason(request.signal);
    const body = requestBody(request);
    body.stream = false;
    // deno-lint-ignore no-explicit-any
    const sent = client.chat.completions.create(body as any, { signal: request.signal });
    const data: unknown = await sent;
    // The client puts the x-request-id header on an object answer; another is looked up.
    const request_id = isRecord(data)
      ? (data as { _request_id?: string | null })._request_id
      : (await sent.asResponse()).headers.get("x-request-id");
    // The request id is a response header: a hostile server may echo the key in it.
    const requestId = request_id ? truncate(scrubText(request_id, settings), 200) : undefined;
    return validateCompletion(data, context, requestId);
  } catch (error) {
    throw mapError(mod, error, context);
  }
}
