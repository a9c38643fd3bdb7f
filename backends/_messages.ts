// Chat messages shared by the OpenAI and provider backends (the OpenAI backend's shapes).
import type { ChatMessage, ContentPart } from "../chat.ts";
import { readImage, toDataUrl } from "./_image.ts";
import type { DescribeImageOptions, PromptWithContextOptions } from "./types.ts";

/** system(prePrompt), user(context) and, when given, system(postPrompt), as text parts. */
export function promptMessages(options: PromptWithContextOptions): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: "system", content: [{ type: "text", text: options.prePrompt }] },
    { role: "user", content: [{ type: "text", text: options.context }] },
  ];
  if (options.postPrompt !== undefined) {
    messages.push({ role: "system", content: [{ type: "text", text: options.postPrompt }] });
  }
  return messages;
}

/** Reads and checks the image, then one user message: the prompt and the image as a data URL. */
export async function imageMessage(
  options: DescribeImageOptions,
  maxBytes: number,
): Promise<ChatMessage> {
  const { image, fileName, prompt } = options;
  const checked = await readImage(
    image,
    fileName === undefined ? { maxBytes } : { fileName, maxBytes },
  );
  const content: ContentPart[] = [
    { type: "text", text: prompt },
    { type: "image_url", image_url: { url: toDataUrl(checked) } },
  ];
  return { role: "user", content };
}
