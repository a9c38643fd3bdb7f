// The cache key of an answer.

const KEY_VERSION = "cms-ai/document-answer/1";
const encoder = new TextEncoder();

/** The cache key of an answer: the SHA-256 (hex) of the model, the prompt and the text sent. */
export async function answerKey(modelId: string, prompt: string, sent: string): Promise<string> {
  const input = JSON.stringify([KEY_VERSION, modelId, prompt, sent]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(input)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
