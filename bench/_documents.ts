/**
 * Document runs (issue 13): `ai.processText()` over 1 MB of HTML (about 2,000
 * blocks) against a peer on 127.0.0.1 that answers at once (each chunk back
 * as it was sent), and again after one block is edited.
 *
 * Per iteration, on a fresh document, in turn:
 * - one `countTokens` pass over the document (gpt-4o, caches emptied): the
 *   reference;
 * - the first run (caches emptied, an empty answer cache), total wall time;
 * - the peer's time: the same requests (the bodies the first run sent) sent
 *   again with plain `fetch`, four at once as the run did; the library's own
 *   time is the first run's minus this;
 * - the re-run after one block is edited, with the answer cache of the first
 *   run;
 * - the library's own time, measured directly: the same first run (caches
 *   emptied) against an in-process backend that answers at once (no HTTP, no
 *   peer), so that the time is all the document machinery's (reading the
 *   HTML, measuring and grouping chunks, cache keys, putting answers back).
 *   The old figure, the first run's time minus the peer's, is a difference of
 *   two noisy times of about the same size and could come out negative.
 *
 * Run alone: `deno run -A bench/_documents.ts [rounds]` prints the medians as
 * JSON (`bench/report.ts` runs it in a fresh process).
 *
 * @module
 */
import process from "node:process";
import {
  type AI,
  AIResponse,
  countTokens,
  createAI,
  createMemoryCache,
  OpenAIBackend,
  type PromptWithContextOptions,
} from "../mod.ts";
import { clearTokenizerCaches } from "../_tokenizer/mod.ts";
import { clearDocumentMemos } from "../documents/process.ts";
import { type Peer, type RecordedRequest, startPeer } from "../tests/_peer.ts";
import { prose, rng } from "./corpus.ts";

/** 1 MB of HTML: headings, paragraphs with inline markup, lists, tables and code. */
export function htmlDocument(size: number, seed: number): string {
  const random = rng(seed);
  const sentences = prose(size, seed).split(/(?<=[.!?])\s+/).filter((s) => s.length > 0);
  let next = 0;
  const sentence = () => sentences[next++ % sentences.length];
  const words = (n: number) => {
    let out = "";
    while (out.length < n) out += (out ? " " : "") + sentence();
    return out;
  };
  let html = "<!DOCTYPE html>\n<html><head><title>Bench</title></head>\n<body>\n";
  let block = 0;
  while (html.length < size) {
    const pick = random();
    block++;
    if (block % 25 === 1) html += `<h2 id="s${block}">${words(40)}</h2>\n`;
    else if (pick < 0.06) {
      html += "<ul>\n" + Array.from({ length: 4 }, () => `  <li>${words(80)}</li>\n`).join("") +
        "</ul>\n";
      block += 3;
    } else if (pick < 0.08) {
      html += "<table>\n  <tr><th>Name</th><th>Value</th></tr>\n" +
        `  <tr><td>${words(40)}</td><td>${words(40)}</td></tr>\n</table>\n`;
      block += 3;
    } else if (pick < 0.1) {
      html += `<pre><code class="language-ts">const x${block} = ${block};\n// ${
        words(60)
      }</code></pre>\n`;
    } else {
      const text = words(420);
      const cut = text.indexOf(" ", 120);
      html += `<p>${text.slice(0, cut)} <strong>${text.slice(cut + 1, cut + 30)}</strong> ` +
        `<a href="https://example.com/${block}">${text.slice(cut + 30, cut + 50)}</a>` +
        `${text.slice(cut + 50)}</p>\n`;
    }
  }
  return html + "</body></html>\n";
}

/** The document with one paragraph in the middle edited (a word further in than its start). */
export function editOneBlock(html: string): string {
  const at = html.indexOf("<p>", html.length >> 1);
  const space = html.indexOf(" ", html.indexOf(" ", at + 80) + 1);
  return html.slice(0, space) + " (edited)" + html.slice(space);
}

function chunkOf(request: RecordedRequest): string {
  // deno-lint-ignore no-explicit-any
  const user = request.body.messages.findLast((message: any) => message.role === "user");
  return user.content[0].text;
}

/** A peer that sends each chunk back at once, and the AI layer on it. */
export async function documentsSetup(
  calculator: "tiktoken" | "naive" = "tiktoken",
): Promise<{ peer: Peer; ai: AI }> {
  // Each answer changes a word (a correction), so each is put back in place, not matched whole.
  const peer = await startPeer({
    handler: (request) => ({ text: chunkOf(request).replace(" the ", " The ") }),
  });
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk-bench", API_BASE: peer.url },
        TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: calculator },
      },
    },
  });
  return { peer, ai };
}

/**
 * The OpenAI backend's config, length calculator and token counting, but an
 * answer made in process at once (each chunk back with one word changed, as
 * the peer does): no request, no HTTP client, no peer.
 */
class InstantBackend extends OpenAIBackend {
  override promptWithContext(options: PromptWithContextOptions): AIResponse {
    const text = options.context.replace(" the ", " The ");
    return new AIResponse({
      async *stream() {
        yield { type: "text", text };
        yield { type: "finish", reason: "stop" };
      },
      complete: () => Promise.resolve({ text, finishReason: "stop" }),
    });
  }
}

/** The AI layer on {@link InstantBackend}: what a run costs without any request. */
export function instantSetup(calculator: "tiktoken" | "naive" = "tiktoken"): AI {
  return createAI({
    BACKENDS: {
      default: {
        CLASS: InstantBackend,
        CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk-bench", API_BASE: "http://127.0.0.1:9" },
        TEXT_SPLITTING: { SPLITTER_LENGTH_CALCULATOR_CLASS: calculator },
      },
    },
  });
}

/**
 * Sends the requests of a run again, `width` at once, through the same
 * backend (its HTTP client, the transport and the peer): what the requests
 * cost without the document machinery around them.
 */
export async function replay(
  ai: AI,
  requests: readonly RecordedRequest[],
  width = 4,
): Promise<void> {
  const backend = ai.getBackend();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++];
      // deno-lint-ignore no-explicit-any
      const prePrompt = (request.body.messages as any)[0].content[0].text;
      await backend.promptWithContext({ prePrompt, context: chunkOf(request) }).text();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** Sends the bodies of a run again with plain `fetch`, `width` at once: the transport and the peer. */
export async function replayFetch(peer: Peer, bodies: readonly string[], width = 4): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const response = await fetch(`${peer.url}/chat/completions`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
      });
      await response.json();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** One iteration's figures, in ms (wall time; `cpu` holds the same in process CPU time). */
export interface DocumentsSample {
  count: number;
  first: number;
  peer: number;
  /** The same requests with plain fetch (no HTTP client). */
  fetch: number;
  rerun: number;
  /** The first run against the in-process backend: the library's own time. */
  own: number;
  requests: number;
  rerunRequests: number;
  cpu: { count: number; first: number; peer: number; rerun: number; own: number };
}

/** CPU time of this process (user and system), ms. */
function cpuNow(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Measures one iteration on a fresh document. */
export async function documentsSample(
  peer: Peer,
  ai: AI,
  seed: number,
  instant: AI,
): Promise<DocumentsSample> {
  const html = htmlDocument(1_000_000, seed);
  clearTokenizerCaches();
  let cpu = cpuNow();
  let start = performance.now();
  await countTokens(html, "gpt-4o");
  const count = performance.now() - start;
  const countCpu = cpuNow() - cpu;

  clearTokenizerCaches();
  clearDocumentMemos();
  peer.reset();
  const cache = createMemoryCache();
  cpu = cpuNow();
  start = performance.now();
  const result = await ai.processText({ prompt: "correction", text: html, format: "html", cache })
    .text();
  const first = performance.now() - start;
  const firstCpu = cpuNow() - cpu;
  if (result.length !== html.length || result === html) throw new Error("the run went wrong");
  const requests = [...peer.requests];

  cpu = cpuNow();
  start = performance.now();
  await replay(ai, requests);
  const peerMs = performance.now() - start;
  const peerCpu = cpuNow() - cpu;
  start = performance.now();
  await replayFetch(peer, requests.map((request) => request.text));
  const fetchMs = performance.now() - start;

  const edited = editOneBlock(html);
  peer.reset();
  cpu = cpuNow();
  start = performance.now();
  const again = await ai.processText({ prompt: "correction", text: edited, format: "html", cache })
    .text();
  const rerun = performance.now() - start;
  const rerunCpu = cpuNow() - cpu;
  if (again.length !== edited.length || !again.includes("(edited)")) {
    throw new Error("the re-run went wrong");
  }

  clearTokenizerCaches();
  clearDocumentMemos();
  cpu = cpuNow();
  start = performance.now();
  const own = await instant.processText({
    prompt: "correction",
    text: html,
    format: "html",
    cache: createMemoryCache(),
  }).text();
  const ownMs = performance.now() - start;
  const ownCpu = cpuNow() - cpu;
  if (own !== result) throw new Error("the in-process run went wrong");
  return {
    count,
    first,
    peer: peerMs,
    rerun,
    own: ownMs,
    fetch: fetchMs,
    requests: requests.length,
    rerunRequests: peer.requests.length,
    cpu: { count: countCpu, first: firstCpu, peer: peerCpu, rerun: rerunCpu, own: ownCpu },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of `rounds` iterations (after one warm-up), and the per-iteration ratios. */
export async function measureDocuments(
  rounds: number,
  calculator: "tiktoken" | "naive" = "tiktoken",
) {
  const { peer, ai } = await documentsSetup(calculator);
  const instant = instantSetup(calculator);
  try {
    const samples: DocumentsSample[] = [];
    for (let i = 0; i < rounds + 1; i++) {
      samples.push(await documentsSample(peer, ai, 900 + i, instant));
    }
    const counted = samples.slice(1);
    const pick = (key: Exclude<keyof DocumentsSample, "cpu">) =>
      median(counted.map((sample) => sample[key]));
    return {
      medians: {
        count: pick("count"),
        first: pick("first"),
        peer: pick("peer"),
        fetch: pick("fetch"),
        own: pick("own"),
        firstMinusPeer: median(counted.map((s) => s.first - s.peer)),
        rerun: pick("rerun"),
        requests: pick("requests"),
        rerunRequests: Math.max(...counted.map((s) => s.rerunRequests)),
      },
      libraryOverCount: median(counted.map((s) => s.own / s.count)),
      firstMinusPeerOverCount: median(counted.map((s) => (s.first - s.peer) / s.count)),
      withClientOverCount: median(counted.map((s) => (s.first - s.fetch) / s.count)),
      rerunOverFirst: median(counted.map((s) => s.rerun / s.first)),
      cpu: {
        libraryOverCount: median(counted.map((s) => s.cpu.own / s.cpu.count)),
        rerunOverFirst: median(counted.map((s) => s.cpu.rerun / s.cpu.first)),
      },
      rounds,
      blocks: (htmlDocument(1_000_000, 900).match(/<(p|h2|li|td|th)\b/g) ?? []).length,
    };
  } finally {
    await peer.close();
  }
}

if (import.meta.main) {
  const rounds = Number(Deno.args[0] ?? 9);
  const exact = await measureDocuments(rounds, "tiktoken");
  const naive = await measureDocuments(Math.max(3, Math.floor(rounds / 2)), "naive");
  console.log(JSON.stringify({ exact, naive }));
}
