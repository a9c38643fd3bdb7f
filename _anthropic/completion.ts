// One non-streaming Messages API request: sent with retries, its 200 answer
// read (bounded), checked and returned as an AnthropicMessage.
import { readBounded } from "../_http/body.ts";
import { RequestControl, send } from "./http.ts";
import { unusableAnswer } from "./errors.ts";
import type {
  AnthropicMessage,
  AnthropicSettings,
  AnthropicTextBlock,
  AnthropicToolUseBlock,
  MessagesRequest,
} from "./types.ts";
import { answerLimitOf, bodyLimitOf } from "./types.ts";
import { checkUsage } from "./wire.ts";

/** Checks a 200 answer's JSON and keeps its text and tool-use blocks. */
function checkMessage(
  text: string | undefined,
  settings: AnthropicSettings,
  model: string,
  requestId: string | undefined,
): AnthropicMessage {
  const fail = (what: string) => unusableAnswer(settings, model, what, requestId);
  if (text === undefined) throw fail(`the body is larger than ${bodyLimitOf(settings)} bytes`);
  if (text.trim() === "") throw fail("the body is empty");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // The body is described, never quoted: it could echo anything.
    throw fail(`the body is not valid JSON (${text.length} characters)`);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw fail("the body is not a JSON object");
  }
  const body = data as Record<string, unknown>;
  if (!Array.isArray(body.content)) throw fail('it has no "content" array');
  const content: (AnthropicTextBlock | AnthropicToolUseBlock)[] = [];
  body.content.forEach((raw, index) => {
    const block = raw as Record<string, unknown> | null;
    if (!block || typeof block !== "object") throw fail(`content[${index}] is not an object`);
    if (block.type === "text") {
      if (typeof block.text !== "string") throw fail(`content[${index}].text is not text`);
      content.push({ type: "text", text: block.text });
    } else if (block.type === "tool_use") {
      if (typeof block.name !== "string") throw fail(`content[${index}].name is not text`);
      content.push({
        type: "tool_use",
        id: typeof block.id === "string" ? block.id : "",
        name: block.name,
        input: block.input,
      });
    }
    // Other blocks (thinking, redacted_thinking, server tools) are not part of the answer.
  });
  const maxAnswer = answerLimitOf(settings);
  let length = 0;
  for (const block of content) {
    length += block.type === "text"
      ? block.text.length
      : (JSON.stringify(block.input) ?? "").length;
    if (length > maxAnswer) throw fail(`the answer is longer than ${maxAnswer} characters`);
  }
  return {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : model,
    content,
    stop_reason: typeof body.stop_reason === "string" ? body.stop_reason : null,
    usage: checkUsage(body.usage),
  };
}

/**
 * Sends one Messages API request and returns the checked answer. Rejects
 * with an errors.ts class, or with `signal.reason` when aborted.
 */
export async function createMessage(
  settings: AnthropicSettings,
  request: MessagesRequest,
): Promise<AnthropicMessage> {
  const control = new RequestControl(request.signal);
  try {
    return await send(settings, request, control, {
      stream: false,
      read: async ({ response, requestId }) =>
        checkMessage(
          await readBounded(response, bodyLimitOf(settings), false),
          settings,
          request.body.model,
          requestId,
        ),
    });
  } finally {
    control.dispose();
  }
}
