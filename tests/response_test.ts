import assert from "node:assert/strict";
import { AIResponse, createAI, type ResponseEvent } from "../mod.ts";
import { runScript } from "./_llm.ts";
import { startPeer } from "./_peer.ts";

function counted(chunks: string[], options: { fail?: Error; complete?: boolean } = {}) {
  const calls = { stream: 0, complete: 0, returned: 0 };
  const source = {
    stream(): AsyncIterable<ResponseEvent> {
      calls.stream++;
      let i = 0;
      return {
        [Symbol.asyncIterator]() {
          return {
            next(): Promise<IteratorResult<ResponseEvent>> {
              if (i < chunks.length) {
                return Promise.resolve({ done: false, value: { type: "text", text: chunks[i++] } });
              }
              if (options.fail) return Promise.reject(options.fail);
              if (i === chunks.length) {
                i++;
                return Promise.resolve({
                  done: false,
                  value: {
                    type: "usage",
                    usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
                  },
                });
              }
              return Promise.resolve({ done: true, value: undefined });
            },
            return(): Promise<IteratorResult<ResponseEvent>> {
              calls.returned++;
              return Promise.resolve({ done: true, value: undefined });
            },
          };
        },
      };
    },
    ...(options.complete
      ? {
        complete() {
          calls.complete++;
          return Promise.resolve({
            text: chunks.join(""),
            usage: { inputTokens: 5, outputTokens: 6, totalTokens: 11 },
          });
        },
      }
      : {}),
  };
  return { source, calls };
}

Deno.test("AIResponse sends nothing until read", () => {
  const { source, calls } = counted(["a"]);
  new AIResponse(source);
  assert.equal(calls.stream, 0);
});

Deno.test("AIResponse.text() after iteration sends no second request", async () => {
  const { source, calls } = counted(["a", "b", "c"]);
  const response = new AIResponse(source);
  const seen: string[] = [];
  for await (const chunk of response) seen.push(chunk);
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.equal(await response.text(), "abc");
  assert.equal(await response.text(), "abc");
  assert.deepEqual(await response.usage(), { inputTokens: 1, outputTokens: 2, totalTokens: 3 });
  const again: string[] = [];
  for await (const chunk of response) again.push(chunk);
  assert.deepEqual(again, ["a", "b", "c"]);
  assert.equal(calls.stream, 1);
});

Deno.test("AIResponse.text() alone uses complete() once when the source has it", async () => {
  const { source, calls } = counted(["x", "y"], { complete: true });
  const response = new AIResponse(source);
  const [a, b] = await Promise.all([response.text(), response.text()]);
  assert.equal(a, "xy");
  assert.equal(b, "xy");
  assert.equal((await response.usage())?.totalTokens, 11);
  const chunks: string[] = [];
  for await (const chunk of response) chunks.push(chunk);
  assert.deepEqual(chunks, ["xy"]);
  assert.deepEqual(calls, { stream: 0, complete: 1, returned: 0 });
});

Deno.test("AIResponse keeps an error and throws it to every reader", async () => {
  const failure = new Error("boom");
  const { source, calls } = counted(["a"], { fail: failure });
  const response = new AIResponse(source);
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const chunk of response) seen.push(chunk);
  }, failure);
  assert.deepEqual(seen, ["a"]);
  await assert.rejects(response.text(), failure);
  assert.equal(calls.stream, 1);
});

Deno.test("AIResponse: two concurrent readers share one stream", async () => {
  const { source, calls } = counted(["1", "2", "3"]);
  const response = new AIResponse(source);
  const read = async () => {
    const out: string[] = [];
    for await (const chunk of response) out.push(chunk);
    return out.join("");
  };
  const [a, b] = await Promise.all([read(), read()]);
  assert.equal(a, "123");
  assert.equal(b, "123");
  assert.equal(calls.stream, 1);
});

Deno.test("AIResponse: a reader that stops early cancels the stream", async () => {
  const { source, calls } = counted(["1", "2", "3"]);
  const response = new AIResponse(source);
  for await (const _chunk of response) break;
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(calls.returned, 1);
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
});

Deno.test("AIResponse: a source that throws at once fails the response", async () => {
  const response = new AIResponse({
    stream() {
      throw new RangeError("bad");
    },
  });
  await assert.rejects(response.text(), RangeError);
});

Deno.test("AIResponse: text() keeps reading when a concurrent iterator stops early", async () => {
  const { source, calls } = counted(["1", "2", "3"]);
  const response = new AIResponse(source);
  const iterator = response[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: "1", done: false });
  const whole = response.text();
  await iterator.return();
  assert.equal(await whole, "123");
  assert.equal(calls.stream, 1);
  assert.equal(calls.returned, 0);
});

/** A source whose first chunk never comes: it only ends when its signal aborts. */
function stalled() {
  const seen: { signal?: AbortSignal; returned: boolean } = { returned: false };
  const source = {
    stream(signal?: AbortSignal): AsyncIterable<ResponseEvent> {
      seen.signal = signal;
      return {
        [Symbol.asyncIterator]() {
          return {
            next(): Promise<IteratorResult<ResponseEvent>> {
              return new Promise((_, reject) => {
                if (!signal) return;
                signal.addEventListener("abort", () => reject(signal.reason), { once: true });
              });
            },
            return(): Promise<IteratorResult<ResponseEvent>> {
              seen.returned = true;
              return Promise.resolve({ done: true, value: undefined });
            },
          };
        },
      };
    },
  };
  return { source, seen };
}

Deno.test("AIResponse: a reader that leaves while waiting for a chunk cancels the stream at once", async () => {
  const { source, seen } = stalled();
  const response = new AIResponse(source);
  const iterator = response[Symbol.asyncIterator]();
  const pending = iterator.next();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(await iterator.return(), { done: true, value: undefined });
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(seen.signal?.aborted, true);
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(seen.returned, true);
});

Deno.test("AIResponse: a reader that leaves while waiting leaves the other readers reading", async () => {
  const { source, seen } = stalled();
  const controller = new AbortController();
  const response = new AIResponse(source, { signal: controller.signal });
  const first = response[Symbol.asyncIterator]();
  const second = response[Symbol.asyncIterator]();
  const firstNext = first.next();
  const secondNext = second.next();
  await new Promise((resolve) => setTimeout(resolve, 0));
  await first.return();
  assert.deepEqual(await firstNext, { done: true, value: undefined });
  assert.equal(seen.signal?.aborted, false);
  const reason = new Error("the user left");
  controller.abort(reason);
  await assert.rejects(secondNext, reason);
  await assert.rejects(response.text(), reason);
});

Deno.test("AIResponse: cancelling a ReadableStream of it while a chunk is delayed ends the request", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["a", "b"], chunkDelayMs: 60_000 });
  const backend = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: peer.url, OPENAI_API_KEY: "sk-x" },
      },
    },
  }).getAIBackend("default");
  const response = backend.promptWithContext({ prePrompt: "p", context: "c" });
  const reader = ReadableStream.from(response).getReader();
  assert.deepEqual(await reader.read(), { done: false, value: "a" });
  const pending = reader.read();
  // Let the read reach the wait for the delayed chunk.
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  await reader.cancel();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await assert.rejects(response.text(), (error: Error) => error.name === "AbortError");
  while (peer.active > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(peer.requests.length, 1);
});

Deno.test("AIResponse and streams leave no listener on a long-lived caller signal once they end", async () => {
  await using peer = await startPeer();
  const controller = new AbortController();
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  }) as typeof signal.removeEventListener;
  const ai = createAI({
    BACKENDS: {
      echo: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } },
      openai: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o", API_BASE: peer.url, OPENAI_API_KEY: "sk-listen" },
      },
    },
  });
  for (const alias of ["echo", "openai"]) {
    const backend = ai.getAIBackend(alias);
    for (let i = 0; i < 20; i++) {
      const response = backend.promptWithContext({ prePrompt: "p", context: `c ${i}`, signal });
      let text = "";
      for await (const piece of response) text += piece;
      assert.ok(text.length > 0);
      // A reader that leaves early unlinks too.
      for await (const _ of backend.promptWithContext({ prePrompt: "p", context: "x y", signal })) {
        break;
      }
    }
  }
  assert.equal(listeners, 0);
});

Deno.test("AIResponse: responses that shared a long-lived signal can be collected (no memory held per response)", async () => {
  // In a child process with --expose-gc: 30,000 echo responses read to the end
  // with one app-wide signal; the heap must not keep anything per response.
  const script = `
    import { createAI } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    const backend = createAI({
      BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
    }).getBackend();
    const signal = new AbortController().signal;
    const run = async (n) => {
      for (let i = 0; i < n; i++) {
        for await (const _ of backend.promptWithContext({ prePrompt: "p", context: "c", signal })) {}
      }
    };
    await run(2000);
    globalThis.gc(); globalThis.gc();
    const before = Deno.memoryUsage().heapUsed;
    await run(30000);
    globalThis.gc(); globalThis.gc();
    console.log(Deno.memoryUsage().heapUsed - before);
  `;
  const run = await runScript(script, {}, ["--allow-read", "--v8-flags=--expose-gc"]);
  assert.equal(run.code, 0, run.stderr);
  const growth = Number(run.stdout.trim());
  // Held per response, 30,000 responses would keep over 10 MB.
  assert.ok(growth < 3 * 1024 * 1024, `heap grew by ${growth} bytes`);
});
