/**
 * The variants of the request benchmarks (issue 16), shared by
 * `bench/request_bench.ts` and `bench/_request_measure.ts`: the same chat
 * request (a system and a user message, as text parts, `max_tokens: 256`)
 * sent through the module's OpenAI backend, the module's provider, the bare
 * `openai` client (which the module wrapped until issue 16; now a dev-only
 * peer, imported only here), plain `fetch` (the floor), and the Vercel
 * AI SDK (`ai` with its OpenAI-compatible provider; a dev-only peer, imported
 * only here, never by the package).
 *
 * Each variant answers whole (`json`) or streams (`stream`, which calls
 * `onFirst` at the first text chunk and returns the text's length).
 *
 * @module
 */
import { startServerProcess } from "./_server_process.ts";
// Each variant loads its own code on first use, so that a process measuring one
// variant's memory holds that variant's code only.

/** What a variant can do against one base URL. */
export interface Variant {
  /** One whole request; resolves to the answer's length. */
  json(context: string): Promise<number>;
  /** One streamed request; calls `onFirst` at the first text chunk; resolves to the text length. */
  stream(context: string, onFirst?: () => void): Promise<number>;
}

/** Builds a variant for a base URL (ending in `/v1`), loading its code. */
export type VariantFactory = (baseURL: string) => Promise<Variant>;

/** The model asked. */
export const MODEL = "gpt-4o-mini";
/** The API key sent (the server ignores it). */
export const KEY = "sk-bench";
/** The system prompt of every request. */
export const PRE_PROMPT = "Correct the spelling of the text, keep its meaning.";
const MAX_TOKENS = 256;

function messages(context: string) {
  return [
    { role: "system" as const, content: [{ type: "text" as const, text: PRE_PROMPT }] },
    { role: "user" as const, content: [{ type: "text" as const, text: context }] },
  ];
}

async function moduleAI(baseURL: string) {
  const { createAI } = await import("../mod.ts");
  return createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: MODEL,
          OPENAI_API_KEY: KEY,
          API_BASE: baseURL,
          MAX_OUTPUT_TOKENS: MAX_TOKENS,
          // A window of a million tokens (as gpt-4.1's), so that the 2 MB prompt fits.
          TOKEN_LIMIT: 1_000_000,
        },
      },
    },
    PROVIDERS: {
      default: { provider: "openai_compatible", model: MODEL, api_base: baseURL, api_key: KEY },
    },
  });
}

/**
 * The module's OpenAI backend: `promptWithContext()`, `text()` or iterated. The
 * backend is built once (`ai.getBackend()`), as the bare client is: what
 * building one costs is measured apart (the LLM backend's row, issue 16 goal 5).
 */
export const backendVariant: VariantFactory = async (baseURL) => {
  const backend = (await moduleAI(baseURL)).getBackend();
  return {
    async json(context) {
      const text = await backend.promptWithContext({ prePrompt: PRE_PROMPT, context }).text();
      return text.length;
    },
    async stream(context, onFirst) {
      let length = 0;
      const response = backend.promptWithContext({ prePrompt: PRE_PROMPT, context });
      for await (const chunk of response) {
        if (length === 0) onFirst?.();
        length += chunk.length;
      }
      return length;
    },
  };
};

/** The module's provider: `completion()` and `stream()`. */
export const providerVariant: VariantFactory = async (baseURL) => {
  const provider = (await moduleAI(baseURL)).getProvider();
  return {
    async json(context) {
      const completion = await provider.completion({
        messages: messages(context),
        max_tokens: MAX_TOKENS,
      });
      return completion.choices[0].message.content.length;
    },
    async stream(context, onFirst) {
      let length = 0;
      for await (
        const event of provider.stream({
          messages: messages(context),
          max_tokens: MAX_TOKENS,
        })
      ) {
        if (event.type !== "text") continue;
        if (length === 0) onFirst?.();
        length += event.text.length;
      }
      return length;
    },
  };
};

/** The bare `openai` client (npm:openai@^7), with the timeout and retries the module defaults to. */
export const openaiVariant: VariantFactory = async (baseURL) => {
  const { default: OpenAI } = await import("openai");
  const client = new OpenAI({ apiKey: KEY, baseURL, timeout: 15_000, maxRetries: 2 });
  return {
    async json(context) {
      const completion = await client.chat.completions.create({
        model: MODEL,
        messages: messages(context),
        max_tokens: MAX_TOKENS,
      });
      return completion.choices[0].message.content?.length ?? 0;
    },
    async stream(context, onFirst) {
      let length = 0;
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: messages(context),
        max_tokens: MAX_TOKENS,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content;
        if (!text) continue;
        if (length === 0) onFirst?.();
        length += text.length;
      }
      return length;
    },
  };
};

/** Plain `fetch` and a minimal event-stream reader: the floor. */
export const fetchVariant: VariantFactory = (baseURL) => Promise.resolve(fetchOf(baseURL));

function fetchOf(baseURL: string): Variant {
  const url = `${baseURL}/chat/completions`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
  const send = (context: string, stream: boolean) =>
    fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({
        model: MODEL,
        messages: messages(context),
        max_tokens: MAX_TOKENS,
        ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      }),
    });
  return {
    async json(context) {
      const response = await send(context, false);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = await response.json();
      return body.choices[0].message.content.length;
    },
    async stream(context, onFirst) {
      const response = await send(context, true);
      if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
      let length = 0;
      let buffer = "";
      for await (const text of response.body.pipeThrough(new TextDecoderStream())) {
        buffer += text;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!event.startsWith("data: ")) continue;
          const data = event.slice(6);
          if (data === "[DONE]") return length;
          const content = JSON.parse(data).choices[0]?.delta?.content;
          if (!content) continue;
          if (length === 0) onFirst?.();
          length += content.length;
        }
      }
      return length;
    },
  };
}

/** The Vercel AI SDK: `generateText()` and `streamText()` with its OpenAI-compatible provider. */
export const vercelVariant: VariantFactory = async (baseURL) => {
  const { generateText, streamText } = await import("npm:ai@^7");
  const { createOpenAICompatible } = await import("npm:@ai-sdk/openai-compatible@^3");
  const provider = createOpenAICompatible({
    name: "bench",
    baseURL,
    apiKey: KEY,
    includeUsage: true,
  });
  const model = provider.chatModel(MODEL);
  const prompt = (context: string) => [
    { role: "user" as const, content: [{ type: "text" as const, text: context }] },
  ];
  return {
    async json(context) {
      const result = await generateText({
        model,
        instructions: PRE_PROMPT,
        messages: prompt(context),
        maxOutputTokens: MAX_TOKENS,
        maxRetries: 2,
      });
      return result.text.length;
    },
    async stream(context, onFirst) {
      let length = 0;
      let failure: unknown;
      const result = streamText({
        model,
        instructions: PRE_PROMPT,
        messages: prompt(context),
        maxOutputTokens: MAX_TOKENS,
        maxRetries: 2,
        onError: ({ error }) => {
          failure = error;
        },
      });
      for await (const text of result.textStream) {
        if (length === 0) onFirst?.();
        length += text.length;
      }
      if (failure !== undefined) throw failure;
      return length;
    },
  };
};

/** Every variant by its name in the tables, the bare client first (the baseline). */
export const VARIANTS: Record<string, VariantFactory> = {
  "openai client": openaiVariant,
  "module backend": backendVariant,
  "module provider": providerVariant,
  "fetch": fetchVariant,
  "Vercel AI SDK": vercelVariant,
};

/** The request server in a process of its own (`bench/_request_peer.ts`). */
export async function startRequestPeer(): Promise<{ origin: string; stop(): Promise<void> }> {
  const server = await startServerProcess(new URL("_request_peer.ts", import.meta.url).pathname);
  return { origin: server.url, stop: server.stop };
}
