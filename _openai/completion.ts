// One non-streaming chat request: sent with the cached client of its settings
// (http.ts), its 200 answer read within the attempt's time, checked and turned
// into the OpenAI completion shape.
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
import { sendChat } from "./http.ts";
import { answerLimitOf, type ChatRequest, type ClientSettings } from "./types.ts";
import { contentOf, requestBody, toUsage } from "./wire.ts";

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
 * The JSON of a 200 answer: parsed when its type is JSON (`application/json`,
 * `+json`), else its text as it is (which validateCompletion then refuses).
 */
async function answerBody(response: Response): Promise<unknown> {
  if (response.status === 204) return null;
  const text = await response.text();
  if (text === "") return "";
  const type = response.headers.get("content-type")?.split(";")[0].trim().toLowerCase() ?? "";
  return type.includes("application/json") || type.endsWith("+json") ? JSON.parse(text) : text;
}

/**
 * Sends one chat request and returns the completion in the OpenAI shape
 * (`choices[0].message.content` is a string, `""` when the service sent null).
 * Rejects with an errors.ts class, or with `signal.reason` when aborted.
 */
export function chatCompletion(
  settings: ClientSettings,
  request: ChatRequest,
): Promise<ChatCompletion> {
  const { signal, model } = request;
  try {
    if (signal?.aborted) throw abortReason(signal);
    const client = getClient(settings);
    checkNetPermission(settings, model);
    const body = requestBody(request);
    body.stream = false;
    const context: ErrorContext = { settings, model, signal, streaming: false };
    return sendChat(
      settings,
      client,
      { model, body: JSON.stringify(body), stream: false, signal },
      async (response, requestId) =>
        validateCompletion(await answerBody(response), context, requestId),
    );
  } catch (error) {
    return Promise.reject(mapError(error, { settings, model, signal, streaming: false }));
  }
}
