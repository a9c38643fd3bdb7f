/**
 * The editor page: one HTML page served by `Deno.serve`, with a rich-text
 * area, a button per prompt (`ai.listPrompts()`: the built-in `correction`
 * and `completion`, and every `PROMPTS` entry), image upload for alt text and
 * a Stop button. A prompt runs over the page's HTML with `ai.processText()`
 * (`format: "html"`: the markup stays), and its progress streams into the
 * page as server-sent events made by `toResponse()`.
 *
 * Run it with `deno task serve` (port from `PORT`, default 8000). Offline by
 * default: it starts the OpenAI-compatible test peer on 127.0.0.1, which
 * answers word by word, and points the OpenAI backend at it. With
 * `--settings FILE` it uses the backends (and `PROMPTS`) of a settings file
 * instead (your key in `OPENAI_API_KEY`, or wherever those settings say).
 *
 * It imports the package by its name, `@cms-ai/backends`, as an application
 * does.
 *
 * @module
 */
import {
  type AI,
  type AISettings,
  BackendFeature,
  createAI,
  createMemoryCache,
  type DocumentFormat,
  errorResponse,
  loadSettings,
  type PromptSettings,
  toResponse,
} from "@cms-ai/backends";
import { type Peer, type PeerReply, type RecordedRequest, startPeer } from "../../tests/_peer.ts";

/** A prompt as the page gets it from `GET /api/prompts`: what a button needs, not the prompt text. */
export interface EditorPrompt {
  /** The name the page posts to `/api/prompts/NAME`. */
  name: string;
  /** The button's label (`LABEL`). */
  label: string;
  /** The button's tooltip (`DESCRIPTION`), when set. */
  description?: string;
  /** `replace`: the answer replaces the text (shown as a diff); `append`: it is added after it. */
  method: "replace" | "append";
}

const IMAGE_PROMPT = "Describe this image in one sentence, for its alt text.";

/** The longest text the page may post (characters). */
const MAX_TEXT = 100_000;
/** The largest upload the page may post (bytes). */
const MAX_UPLOAD = 20 * 1024 * 1024;

// The offline model: fixes a few common misspellings, continues a text, describes an image.
const FIXES: Record<string, string> = {
  teh: "the",
  Teh: "The",
  recieve: "receive",
  suprised: "surprised",
  practise: "practice",
  wich: "which",
  becuase: "because",
  alot: "a lot",
  definately: "definitely",
};

/** The offline alt text of any image. */
export const OFFLINE_ALT_TEXT = "A small green leaf on a plain light background.";

// deno-lint-ignore no-explicit-any
function textOf(content: any): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part) => (part?.type === "text" ? String(part.text ?? "") : "")).join(" ");
}

/** The offline peer's answers, by what the request asks: any prompt but a continuation corrects. */
export function offlineModel(request: RecordedRequest): PeerReply {
  const messages: { role: string; content: unknown }[] = request.body?.messages ?? [];
  const user = messages.find((message) => message.role === "user");
  if (Array.isArray(user?.content) && user.content.some((part) => part?.type === "image_url")) {
    return { text: OFFLINE_ALT_TEXT };
  }
  const system = messages.filter((message) => message.role === "system").map((m) =>
    textOf(m.content)
  )
    .join("\n");
  const text = textOf(user?.content);
  if (/^Continue/.test(system)) {
    return { text: "And so the story went on, one careful word after another." };
  }
  return { text: text.replace(/\b\w+\b/g, (word) => FIXES[word] ?? word) };
}

/** Options of {@link startEditor}. */
export interface EditorOptions {
  /** The port (default 8000; 0 picks a free one). */
  port?: number;
  /** The host name to listen on (default 127.0.0.1). */
  hostname?: string;
  /** Settings to use; without them, the offline peer is started and used. */
  settings?: AISettings;
  /** `PROMPTS` over those of the settings (or of the offline ones): each gets a button. */
  prompts?: Record<string, PromptSettings | null>;
  /** The wait between the offline peer's words (default 60 ms). */
  wordDelayMs?: number;
  /** Told of every error an answer ends with (default: `console.error` of its name and message). */
  onError?: (error: unknown) => void;
}

/** A running editor server. */
export interface Editor {
  /** The page's URL, for example `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** The offline peer, when the editor runs offline. */
  readonly peer: Peer | undefined;
  /** Stops the server and the peer. */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

function offlineSettings(peer: Peer): AISettings {
  const config = {
    MODEL_ID: "gpt-4o-mini",
    API_BASE: peer.url,
    OPENAI_API_KEY: "sk-offline-editor",
    MAX_RETRIES: 0,
  };
  return {
    BACKENDS: {
      default: { CLASS: "openai", CONFIG: config },
      vision: { CLASS: "openai", CONFIG: config },
    },
    IMAGE_DESCRIPTION_BACKEND: "vision",
  };
}

function badRequest(message: string, status = 400): Response {
  return Response.json(
    { error: { type: "invalid_request", message, retryable: false } },
    { status },
  );
}

const FORMATS: readonly DocumentFormat[] = ["html", "text", "markdown"];

async function runPrompt(
  ai: AI,
  request: Request,
  name: string,
  onError: (error: unknown) => void,
  cache: ReturnType<typeof createMemoryCache>,
): Promise<Response> {
  if (!ai.listPrompts().some((prompt) => prompt.name === name)) {
    return badRequest(`Unknown prompt "${name}"`, 404);
  }
  let body: { text?: unknown; format?: unknown } | null;
  try {
    body = await request.json();
  } catch {
    return badRequest('The body must be JSON: {"text": "...", "format": "html"}');
  }
  const text = body?.text;
  const format = body?.format ?? "html";
  if (typeof text !== "string" || text.trim() === "") return badRequest("There is no text.");
  if (text.length > MAX_TEXT) return badRequest(`The text is over ${MAX_TEXT} characters.`, 413);
  if (!FORMATS.includes(format as DocumentFormat)) {
    return badRequest('The format must be "html", "text" or "markdown".');
  }
  const options = { signal: request.signal, onError, format: "sse" as const };
  try {
    // Each chunk's progress streams as it comes; unchanged chunks come from the cache.
    const run = ai.processText({
      prompt: name,
      text,
      format: format as DocumentFormat,
      signal: request.signal,
      cache,
    });
    return await toResponse(run, options);
  } catch (error) {
    return errorResponse(error, options);
  }
}

async function altText(
  ai: AI,
  request: Request,
  onError: (error: unknown) => void,
): Promise<Response> {
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > MAX_UPLOAD) return badRequest("The image is too large.", 413);
  let image: FormDataEntryValue | null;
  try {
    // Read the whole upload first: Deno does not abort request.signal when the client of an
    // upload goes away, and toResponse() stops the AI request when its body is cancelled.
    image = (await request.formData()).get("image");
  } catch {
    return badRequest("The body must be a form with an image.");
  }
  if (!(image instanceof File)) return badRequest("There is no image.");
  const options = { signal: request.signal, onError, format: "sse" as const };
  try {
    const response = ai.getBackend(BackendFeature.IMAGE_DESCRIPTION).describeImage({
      image,
      prompt: IMAGE_PROMPT,
      signal: request.signal,
    });
    return await toResponse(response, options);
  } catch (error) {
    return errorResponse(error, options);
  }
}

const PAGE_URL = new URL("./index.html", import.meta.url);
const SSE_URL = new URL("./sse.js", import.meta.url);

/** Starts the editor server (and the offline peer, without `settings`). */
export async function startEditor(options: EditorOptions = {}): Promise<Editor> {
  let peer: Peer | undefined;
  let settings = options.settings;
  if (settings === undefined) {
    peer = await startPeer({ handler: offlineModel, chunkDelayMs: options.wordDelayMs ?? 60 });
    settings = offlineSettings(peer);
  }
  const onError = options.onError ??
    ((error: unknown) =>
      console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error)));
  if (options.prompts !== undefined) {
    settings = { ...settings, PROMPTS: { ...settings.PROMPTS, ...options.prompts } };
  }
  const page = await Deno.readTextFile(PAGE_URL);
  const sseScript = await Deno.readTextFile(SSE_URL);
  const ai = createAI(settings, { onWarning: () => {} });
  // Answers of chunks already corrected: running a prompt again after an edit sends only the
  // chunks around it.
  const cache = createMemoryCache({ maxEntries: 2_000 });
  // Start-up checks: preload() loads the packages the backends need, then check() reports
  // every problem (those packages included). The page still starts, and shows the errors.
  await ai.preload().catch(() => {});
  for (const problem of ai.check()) console.error(`Settings problem: ${problem.message}`);
  const prompts: EditorPrompt[] = ai.listPrompts().map(({ name, label, description, method }) =>
    description === undefined ? { name, label, method } : { name, label, description, method }
  );

  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8000,
    onListen() {},
  }, (request) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (route === "GET /") {
      return new Response(page, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-security-policy":
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; " +
            "img-src blob: data:; connect-src 'self'",
        },
      });
    }
    if (route === "GET /sse.js") {
      // The page's reader of server-sent events (tests/web_sse_test.ts reads it too).
      return new Response(sseScript, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "cache-control": "no-store",
        },
      });
    }
    if (route === "GET /api/prompts") return Response.json(prompts);
    // One path segment: the prompt's name as the page encodes it (encodeURIComponent), so any
    // name of PROMPTS (spaces, dots, accents, a slash) reaches its prompt.
    const match = /^POST \/api\/prompts\/([^/]+)$/.exec(route);
    if (match) {
      let name: string;
      try {
        name = decodeURIComponent(match[1]);
      } catch {
        return badRequest("The prompt name in the URL is not valid percent-encoding.");
      }
      return runPrompt(ai, request, name, onError, cache);
    }
    if (route === "POST /api/alt-text") return altText(ai, request, onError);
    return new Response("Not found", { status: 404 });
  });
  const url = `http://${options.hostname ?? "127.0.0.1"}:${server.addr.port}/`;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await server.shutdown();
      await peer?.close();
    })();
    return closed;
  };
  return { url, peer, close, [Symbol.asyncDispose]: close };
}

const USAGE = "Usage: deno task serve [--settings FILE]   (port from PORT, default 8000)";

function parseArgs(args: string[]): string | undefined {
  if (args.length === 0) return undefined;
  if (args.length === 2 && args[0] === "--settings" && args[1] !== "") return args[1];
  const match = args.length === 1 && /^--settings=(.+)$/.exec(args[0]);
  if (match) return match[1];
  throw new TypeError(`Unexpected arguments: ${args.join(" ")}`);
}

if (import.meta.main) {
  let settingsFile: string | undefined;
  let port: number;
  try {
    settingsFile = parseArgs(Deno.args);
    port = Number(Deno.env.get("PORT") ?? "8000");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`PORT must be a port number, not "${Deno.env.get("PORT")}"`);
    }
  } catch (error) {
    console.error(`Error: ${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  try {
    const settings = settingsFile === undefined ? undefined : await loadSettings(settingsFile);
    const editor = await startEditor({ port, settings });
    console.log(
      `Editor on ${editor.url}` +
        (editor.peer ? ` (offline: the test model on ${editor.peer.url})` : ` (${settingsFile})`),
    );
  } catch (error) {
    console.error(`Error: ${error instanceof Error ? `${error.name}: ${error.message}` : error}`);
    Deno.exit(1);
  }
}
