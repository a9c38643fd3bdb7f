// The request path made cheaper by issue 16: the client cache (settings compared field by
// field, no digest), the net-permission check once per allowed base URL, the guarded fetch's
// direct send, the client settings that backends and providers build once, the stream handed
// from the backends to AIResponse without a generator between, and a stream ended from inside.
import assert from "node:assert/strict";
import {
  chatCompletion,
  type ChatRequest,
  chatStream,
  clearClientCache,
  clientCacheSize,
  type ClientSettings,
  isClientCached,
} from "../_openai/mod.ts";
import { createGuardedFetch } from "../_http/fetch.ts";
import { deferredStream } from "../backends/_prepared.ts";
import { createAI, TimeoutError } from "../mod.ts";
import { type Peer, startPeer } from "./_peer.ts";

function settingsFor(peer: Peer, extra: Partial<ClientSettings> = {}): ClientSettings {
  return {
    apiKey: "sk-one",
    baseURL: peer.url,
    timeoutMs: 10_000,
    maxRetries: 0,
    provider: "openai",
    ...extra,
  };
}

function ask(text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "gpt-4o-mini", messages: [{ role: "user", content: text }], ...extra };
}

/** Waits (up to about 5 s) until `condition()` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 4000 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(condition(), "condition not reached");
}

Deno.test("the client cache finds one client for equal settings given as different objects", async () => {
  await using peer = await startPeer();
  clearClientCache();
  const headers = { "X-Team": "blog", "X-Site": "one" };
  await chatCompletion(settingsFor(peer, { headers }), ask("a"));
  // Equal values in other objects, the headers in another order: the same client.
  await chatCompletion(
    settingsFor(peer, { headers: { "X-Site": "one", "X-Team": "blog" } }),
    ask("b"),
  );
  assert.equal(clientCacheSize(), 1);
  assert.ok(await isClientCached(settingsFor(peer, { headers: { ...headers } })));
  assert.equal(peer.requests.length, 2);
  clearClientCache();
});

Deno.test("the client cache never shares a client across keys, base URLs, headers or queries", async () => {
  await using peer = await startPeer();
  clearClientCache();
  const variants: Partial<ClientSettings>[] = [
    {},
    { apiKey: "sk-two" },
    { apiKey: undefined },
    { baseURL: `${peer.origin}/other/v1` },
    { headers: { "X-Team": "blog" } },
    { headers: { "X-Team": "shop" } },
    { headers: { "x-team": "blog" } },
    { defaultQuery: { "api-version": "1" } },
    { defaultQuery: { "api-version": "2" } },
    { organization: "org-1" },
    { timeoutMs: 20_000 },
    { maxRetries: 1 },
    { maxAnswerChars: 1000 },
  ];
  for (const [index, extra] of variants.entries()) {
    await chatCompletion(settingsFor(peer, extra), ask(`request ${index}`));
    assert.equal(clientCacheSize(), index + 1, `settings ${index} got a client of its own`);
    const request = peer.lastRequest();
    assert.equal(
      request.headers.authorization,
      "apiKey" in extra ? (extra.apiKey ? `Bearer ${extra.apiKey}` : undefined) : "Bearer sk-one",
    );
    if (extra.headers) assert.equal(request.headers["x-team"], Object.values(extra.headers)[0]);
    if (extra.defaultQuery) assert.deepEqual(request.query, extra.defaultQuery);
  }
  // Each key keeps being sent to its own requests, in any order.
  await chatCompletion(settingsFor(peer, { apiKey: "sk-two" }), ask("two again"));
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-two");
  await chatCompletion(settingsFor(peer), ask("one again"));
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-one");
  assert.equal(clientCacheSize(), variants.length);
  clearClientCache();
});

Deno.test("the client cache: a settings object changed after a request gets the client of its new values", async () => {
  await using peer = await startPeer();
  clearClientCache();
  const settings = settingsFor(peer, { headers: { "X-Team": "blog" } });
  await chatCompletion(settings, ask("a"));
  settings.apiKey = "sk-changed";
  await chatCompletion(settings, ask("b"));
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-changed");
  settings.headers!["X-Team"] = "shop";
  await chatCompletion(settings, ask("c"));
  assert.equal(peer.lastRequest().headers["x-team"], "shop");
  assert.equal(clientCacheSize(), 3);
  clearClientCache();
});

Deno.test("a provider reuses one client; providers with other keys or base URLs never share it", async () => {
  await using peer = await startPeer();
  await using other = await startPeer();
  clearClientCache();
  const entry = (api_key: string, api_base = peer.url) => ({
    provider: "openai_compatible",
    model: "gpt-4o-mini",
    api_base,
    api_key,
    max_retries: 0,
  });
  const ai = createAI({
    PROVIDERS: {
      default: entry("sk-alpha"),
      same: entry("sk-alpha"),
      beta: entry("sk-beta"),
      elsewhere: entry("sk-alpha", other.url),
    },
  });
  const messages = [{ role: "user" as const, content: "hi" }];
  for (let i = 0; i < 3; i++) await ai.getProvider().completion({ messages });
  assert.equal(clientCacheSize(), 1);
  await ai.getProvider("same").completion({ messages });
  assert.equal(clientCacheSize(), 1, "equal settings of another alias find the same client");
  await ai.getProvider("beta").completion({ messages });
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-beta");
  await ai.getProvider().completion({ messages });
  assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-alpha");
  await ai.getProvider("elsewhere").completion({ messages });
  assert.equal(other.requests.length, 1);
  assert.equal(clientCacheSize(), 3);
  clearClientCache();
});

Deno.test("the OpenAI backend sends the OPENAI_API_KEY of the moment, the client found again for it", async () => {
  await using peer = await startPeer();
  clearClientCache();
  const before = Deno.env.get("OPENAI_API_KEY");
  try {
    Deno.env.set("OPENAI_API_KEY", "sk-env-first");
    const ai = createAI({
      BACKENDS: {
        default: { CLASS: "openai", CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: peer.url } },
      },
    });
    const backend = ai.getBackend();
    const send = () => backend.promptWithContext({ prePrompt: "p", context: "c" }).text();
    await send();
    await send();
    assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-env-first");
    assert.equal(clientCacheSize(), 1);
    Deno.env.set("OPENAI_API_KEY", "sk-env-second");
    await send();
    assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-env-second");
    assert.equal(clientCacheSize(), 2);
    // Another backend instance with the same settings finds the same client.
    await ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" }).text();
    assert.equal(clientCacheSize(), 2);
  } finally {
    if (before === undefined) Deno.env.delete("OPENAI_API_KEY");
    else Deno.env.set("OPENAI_API_KEY", before);
    clearClientCache();
  }
});

Deno.test("the OpenAI backend's stream times out mid-stream with a TimeoutError", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["first", " second"], chunkDelayMs: 10_000 });
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          API_BASE: peer.url,
          OPENAI_API_KEY: "sk-x",
          TIMEOUT_SECONDS: 2,
          MAX_RETRIES: 0,
        },
      },
    },
  });
  const chunks: string[] = [];
  await assert.rejects(
    async () => {
      for await (
        const chunk of ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" })
      ) {
        chunks.push(chunk);
      }
    },
    (error: unknown) =>
      error instanceof TimeoutError && /sent nothing for 2000 ms/.test(error.message),
  );
  assert.deepEqual(chunks, ["first"]);
  await waitFor(() => peer.active === 0);
});

Deno.test("the OpenAI backend's stream: an abort mid-stream rejects with its reason and ends the request", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["first", " second"], chunkDelayMs: 10_000 });
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: { MODEL_ID: "gpt-4o-mini", API_BASE: peer.url, OPENAI_API_KEY: "sk-x" },
      },
    },
  });
  const controller = new AbortController();
  const reason = new Error("the editor was closed");
  const chunks: string[] = [];
  await assert.rejects(async () => {
    const response = ai.getBackend().promptWithContext({
      prePrompt: "p",
      context: "c",
      signal: controller.signal,
    });
    for await (const chunk of response) {
      chunks.push(chunk);
      controller.abort(reason);
    }
  }, (error: unknown) => error === reason);
  assert.deepEqual(chunks, ["first"]);
  await waitFor(() => peer.active === 0);
});

Deno.test("the provider backend's stream: a reader that breaks out mid-stream ends the request", async () => {
  await using peer = await startPeer();
  peer.enqueue({ stream: ["first", " second"], chunkDelayMs: 10_000 });
  const ai = createAI({
    PROVIDERS: {
      default: {
        provider: "openai_compatible",
        model: "gpt-4o-mini",
        api_base: peer.url,
        api_key: "sk-x",
      },
    },
    BACKENDS: { default: { CLASS: "provider", CONFIG: {} } },
  });
  const response = ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" });
  for await (const chunk of response) {
    assert.equal(chunk, "first");
    break;
  }
  await waitFor(() => peer.active === 0);
  assert.equal(peer.requests.length, 1);
});

Deno.test("chatStream() read to its end, then again: each reading is a whole answer", async () => {
  await using peer = await startPeer();
  const stream = chatStream(settingsFor(peer), ask("again"));
  for (let i = 0; i < 2; i++) {
    let text = "";
    for await (const event of stream) if (event.type === "text") text += event.text;
    assert.equal(text, "Echo: again");
  }
  assert.equal(peer.requests.length, 2);
});

Deno.test("deferredStream() opens at the first next() and passes each call to the stream it gave", async () => {
  let opened = 0;
  const stream = deferredStream(() => {
    opened++;
    return Promise.resolve((async function* () {
      yield 1;
      yield 2;
    })());
  });
  assert.equal(opened, 0, "nothing is opened before it is read");
  const seen: number[] = [];
  for await (const value of stream) seen.push(value);
  assert.deepEqual(seen, [1, 2]);
  assert.equal(opened, 1);
});

Deno.test("deferredStream(): return() while the stream is opening closes it once it is open", async () => {
  let release!: () => void;
  const ready = new Promise<void>((resolve) => (release = resolve));
  let closed = false;
  const stream = deferredStream(async () => {
    await ready;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false as const, value: "never" }),
        return: () => {
          closed = true;
          return Promise.resolve({ done: true as const, value: undefined });
        },
      }),
    };
  });
  const iterator = stream[Symbol.asyncIterator]();
  const pending = iterator.next();
  await iterator.return!();
  release();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.ok(closed, "the stream opened after return() was closed");
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("deferredStream(): a failure to open is thrown at the first next()", async () => {
  const stream = deferredStream<number>(() => Promise.reject(new RangeError("no room")));
  const iterator = stream[Symbol.asyncIterator]();
  await assert.rejects(iterator.next(), RangeError);
});

Deno.test("createGuardedFetch() sends a Request's method, headers and body as given", async () => {
  await using peer = await startPeer();
  const guarded = createGuardedFetch();
  const response = await guarded(
    new Request(`${peer.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-team": "blog" },
      body: JSON.stringify(ask("from a Request")),
    }),
  );
  const body = await response.json();
  assert.equal(body.choices[0].message.content, "Echo: from a Request");
  assert.equal(peer.lastRequest().headers["x-team"], "blog");
});

Deno.test("createGuardedFetch() sends a Headers object as given and still refuses a cross-origin redirect", async () => {
  await using peer = await startPeer();
  await using other = await startPeer();
  const guarded = createGuardedFetch();
  const headers = new Headers({ "content-type": "application/json", "x-team": "blog" });
  const ok = await guarded(`${peer.url}/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify(ask("with Headers")),
  });
  assert.equal((await ok.json()).choices[0].message.content, "Echo: with Headers");
  assert.equal(peer.lastRequest().headers["x-team"], "blog");
  peer.enqueue({ status: 307, headers: { location: `${other.url}/chat/completions` } });
  await assert.rejects(
    guarded(`${peer.url}/chat/completions`, { method: "POST", headers, body: "{}" }),
    (error: unknown) => error instanceof Error && error.name === "RedirectRefusedError",
  );
  assert.equal(other.requests.length, 0);
});

Deno.test("checkOptionsData() copies flat options as they are and walks any other", async () => {
  const { checkOptionsData } = await import("../providers/openai_compatible.ts");
  assert.deepEqual(
    checkOptionsData({ temperature: 0.2, user: "u", seed: undefined, n: null }, "completion"),
    {
      temperature: 0.2,
      user: "u",
      n: null,
    },
  );
  const format = { type: "json_object" };
  const copied = checkOptionsData(
    { temperature: 0.2, response_format: format, stop: ["x"] },
    "completion",
  );
  assert.deepEqual(copied, { temperature: 0.2, response_format: format, stop: ["x"] });
  assert.notEqual(copied.response_format, format, "an object option is copied");
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
  assert.deepEqual(checkOptionsData(many, "completion"), many);
  assert.throws(() => checkOptionsData({ temperature: 0.2, seed: Infinity }, "stream"), TypeError);
  assert.throws(
    () => checkOptionsData({ temperature: 0.2, logit_bias: { a: NaN } }, "completion"),
    /logit_bias\.a of completion\(\) must be JSON data, got NaN/,
  );
});
