// The OpenAI client, providers and backends against hostile servers on
// 127.0.0.1: redirects to other hosts, endless lines and answers, gzip bombs,
// keep-alive comments, echoed credentials, custom-header variables, malformed
// bodies. Every server is closed and every body cancelled at the end.
import assert from "node:assert/strict";
import { bodyLimitOf } from "../_openai/types.ts";
import {
  chatCompletion,
  type ChatRequest,
  chatStream,
  type ClientSettings,
  type StreamEvent,
} from "../_openai/mod.ts";
import {
  APIError,
  createAI,
  createProvider,
  ImproperlyConfigured,
  type OpenAIBackend,
  type OpenAICompatibleProvider,
  registerProvider,
  StreamInterruptedError,
  unregisterProvider,
} from "../mod.ts";
import { endlessBody, gzipOf, type Server, startServer } from "./_hostile.ts";
import { startPeer } from "./_peer.ts";

const KEY = "sk-hostile-SECRET-0987654321";
const encoder = new TextEncoder();

function settingsFor(
  server: { origin: string },
  extra: Partial<ClientSettings> = {},
): ClientSettings {
  return {
    apiKey: KEY,
    baseURL: `${server.origin}/v1`,
    timeoutMs: 10_000,
    maxRetries: 2,
    provider: "openai",
    backend: "default",
    ...extra,
  };
}

function ask(text = "hi", extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "gpt-4o-mini", messages: [{ role: "user", content: text }], ...extra };
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

function textOf(events: StreamEvent[]): string {
  return events.map((event) => (event.type === "text" ? event.text : "")).join("");
}

/** One chat-completion chunk as an SSE event. */
function sse(content: string | null, finish: string | null = null): string {
  const delta = content === null ? {} : { content };
  return `data: ${
    JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;
}

function eventStream(body: BodyInit): Response {
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function noSecret(error: unknown): void {
  const text = `${(error as Error).message} ${JSON.stringify(error)} ${Deno.inspect(error)}`;
  assert.ok(!text.includes(KEY), text);
}

// ---------------------------------------------------------------------------
// 1. Redirects

async function redirectingTo(target: Server, status = 307): Promise<Server> {
  return await startServer(() =>
    new Response(null, { status, headers: { location: `${target.origin}/v1/chat/completions` } })
  );
}

Deno.test("chatCompletion() refuses a redirect to another host with an APIError naming it, not retried", async () => {
  await using evil = await startServer(() => new Response("{}"));
  for (const status of [302, 307, 308]) {
    await using service = await redirectingTo(evil, status);
    await assert.rejects(
      chatCompletion(settingsFor(service, { headers: { "X-Secret": "hdr-secret-1" } }), ask()),
      (error: unknown) => {
        assert.ok(error instanceof APIError, String(error));
        assert.equal(error.status, status);
        assert.equal(error.retryable, false);
        assert.match(error.message, new RegExp(`redirected .* to another host \\(${evil.host}\\)`));
        assert.match(error.message, /"gpt-4o-mini"/);
        noSecret(error);
        return true;
      },
    );
    assert.equal(service.requests.length, 1, "not retried");
  }
  assert.equal(evil.requests.length, 0, "nothing reached the other host");
});

Deno.test("chatStream() refuses a redirect to another host, not retried", async () => {
  await using evil = await startServer(() => eventStream(sse("stolen", "stop")));
  await using service = await redirectingTo(evil);
  await assert.rejects(collect(chatStream(settingsFor(service), ask())), (error: unknown) => {
    assert.ok(error instanceof APIError && !(error instanceof StreamInterruptedError));
    assert.equal(error.retryable, false);
    assert.match(error.message, new RegExp(`another host \\(${evil.host}\\)`));
    return true;
  });
  assert.equal(service.requests.length, 1);
  assert.equal(evil.requests.length, 0);
});

Deno.test("the Azure provider's api-key header and the prompt never follow a redirect to another host", async () => {
  await using evil = await startServer(() => new Response("{}"));
  await using service = await startServer(() =>
    new Response(null, { status: 307, headers: { location: `${evil.origin}/steal` } })
  );
  const provider = createProvider({
    provider: "azure",
    model: "gpt-4o",
    endpoint: service.origin,
    api_key: "az-secret-key-123456",
    headers: { "X-Tenant": "tenant-secret-42" },
  });
  await assert.rejects(
    provider.completion({ messages: [{ role: "user", content: "private prompt" }] }),
    (error: unknown) => error instanceof APIError && error.status === 307,
  );
  assert.equal(service.requests[0].headers["api-key"], "az-secret-key-123456");
  assert.equal(evil.requests.length, 0);
});

Deno.test("chatCompletion() follows a same-origin redirect with the method and body", async () => {
  await using peer = await startPeer();
  await using front = await startServer(async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/old/chat/completions") {
      return new Response(null, { status: 308, headers: { location: "/v1/chat/completions" } });
    }
    // The new path is served by the peer.
    return await fetch(`${peer.origin}${url.pathname}`, {
      method: request.method,
      headers: request.headers,
      body: await request.text(),
    });
  });
  const completion = await chatCompletion(
    settingsFor(front, { baseURL: `${front.origin}/old` }),
    ask("moved"),
  );
  assert.equal(completion.choices[0].message.content, "Echo: moved");
  assert.equal(front.requests.length, 2);
  assert.equal(front.requests[1].method, "POST");
});

// ---------------------------------------------------------------------------
// 2 and 4. Stream lines, answer size, keep-alives

Deno.test("chatStream() ends one endless line at the line limit with an APIError, at once", async () => {
  const { body, cancelled } = endlessBody(encoder.encode("x".repeat(64 * 1024)), {
    prefix: encoder.encode(sse("a") + 'data: {"choices":"'),
  });
  await using service = await startServer(() => eventStream(body));
  const texts: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const event of chatStream(settingsFor(service), ask())) {
        if (event.type === "text") texts.push(event.text);
      }
    })(),
    (error: unknown) => {
      assert.ok(error instanceof APIError, String(error));
      assert.equal(error.retryable, false);
      assert.match(error.message, /sent a line longer than 1048576 characters/);
      return true;
    },
  );
  assert.deepEqual(texts, ["a"]);
  await cancelled; // the request was ended
  assert.equal(service.requests.length, 1);
});

Deno.test("chatStream() takes the line limit from maxEventChars", async () => {
  const { body, cancelled } = endlessBody(encoder.encode("y".repeat(4096)));
  await using service = await startServer(() => eventStream(body));
  await assert.rejects(
    collect(chatStream(settingsFor(service, { maxEventChars: 10_000 }), ask())),
    (error: unknown) =>
      error instanceof APIError && /longer than 10000 characters/.test(error.message),
  );
  await cancelled;
});

Deno.test("chatStream() ends an endless answer at the answer limit with an APIError", async () => {
  const { body, cancelled } = endlessBody(encoder.encode(sse("z".repeat(1000)).repeat(10)));
  await using service = await startServer(() => eventStream(body));
  let received = 0;
  await assert.rejects(
    (async () => {
      const settings = settingsFor(service, { maxAnswerChars: 50_000 });
      for await (const event of chatStream(settings, ask())) {
        if (event.type === "text") received += event.text.length;
      }
    })(),
    (error: unknown) => {
      assert.ok(error instanceof APIError, String(error));
      assert.equal(error.retryable, false);
      assert.match(error.message, /sent an answer longer than 50000 characters/);
      return true;
    },
  );
  assert.ok(received <= 50_000, `${received} characters reached the reader`);
  await cancelled;
});

Deno.test("chatStream() counts SSE comments as activity for the chunk timeout", async () => {
  // A comment every 100 ms for 2.5 s, with a 2 s chunk timeout: never "nothing sent".
  await using service = await startServer(() => {
    let sent = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return eventStream(
      new ReadableStream({
        async pull(controller) {
          await new Promise((resolve) => timer = setTimeout(resolve, 100));
          sent++;
          if (sent < 25) controller.enqueue(encoder.encode(": keep-alive\n\n"));
          else {
            controller.enqueue(
              encoder.encode(sse("done") + sse(null, "stop") + "data: [DONE]\n\n"),
            );
            controller.close();
          }
        },
        cancel() {
          clearTimeout(timer);
        },
      }),
    );
  });
  const events = await collect(chatStream(settingsFor(service, { timeoutMs: 2000 }), ask()));
  assert.equal(textOf(events), "done");
});

Deno.test("chatStream(): a stream of nothing but keep-alive comments is ended by the caller's signal, not by the chunk timeout", async () => {
  // Endless comments: the chunk timeout never fires (each comment is activity), so only the
  // caller's signal (say AbortSignal.timeout() for a total bound) ends the stream.
  const controller = new AbortController();
  const reason = new Error("total time is up");
  let cancelled!: () => void;
  const serverCancelled = new Promise<void>((resolve) => cancelled = resolve);
  await using service = await startServer(() => {
    let sent = 0;
    return eventStream(
      new ReadableStream({
        async pull(stream) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          stream.enqueue(encoder.encode(": keep-alive\n\n"));
          if (++sent === 200) controller.abort(reason);
        },
        cancel() {
          cancelled();
        },
      }),
    );
  });
  const events: StreamEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (
        const event of chatStream(
          settingsFor(service, { timeoutMs: 60_000 }),
          ask("hi", { signal: controller.signal }),
        )
      ) events.push(event);
    })(),
    (error) => error === reason,
  );
  assert.deepEqual(events.filter((event) => event.type === "text"), []);
  await serverCancelled; // the connection was closed, not left running
});

Deno.test("chatStream() still times out when only the first bytes of an event arrive and then nothing", async () => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await using service = await startServer(() =>
    eventStream(
      new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode(sse("a") + "data: {"));
        },
        pull() {
          return new Promise((resolve) => timer = setTimeout(resolve, 60_000));
        },
        cancel() {
          clearTimeout(timer);
        },
      }),
    )
  );
  await assert.rejects(
    collect(chatStream(settingsFor(service, { timeoutMs: 200 }), ask())),
    (error: unknown) => error instanceof APIError && /sent nothing for 200 ms/.test(error.message),
  );
});

// ---------------------------------------------------------------------------
// 3. Response bodies

// 16 MiB of spaces in about 16 KiB of gzip, made once.
let bombBytes: Promise<Uint8Array<ArrayBuffer>> | undefined;
function bomb(): Promise<Uint8Array<ArrayBuffer>> {
  return bombBytes ??= gzipOf(encoder.encode(" ".repeat(16 * 1024 * 1024)));
}

Deno.test("the body limit is four times the answer limit plus 1 MiB (65 MiB by default)", () => {
  const base = { baseURL: "http://127.0.0.1:9/v1", timeoutMs: 1, maxRetries: 0 };
  assert.equal(bodyLimitOf(base), 68_157_440);
  assert.equal(bodyLimitOf({ ...base, maxAnswerChars: 250_000 }), 2_048_576);
});

Deno.test("chatCompletion() ends a gzip bomb answer at the body limit, not retried", async () => {
  const body = await bomb();
  await using service = await startServer(() =>
    new Response(body, {
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
    })
  );
  const settings = settingsFor(service, { maxAnswerChars: 250_000 });
  await assert.rejects(chatCompletion(settings, ask()), (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.retryable, false);
    assert.match(error.message, /sent an answer larger than 2048576 bytes/);
    return true;
  });
  assert.equal(service.requests.length, 1);
});

Deno.test("chatCompletion() bounds an error body too", async () => {
  const body = await bomb();
  await using service = await startServer(() =>
    new Response(body, {
      status: 400,
      headers: { "content-type": "text/plain", "content-encoding": "gzip" },
    })
  );
  const settings = settingsFor(service, { maxAnswerChars: 250_000 });
  await assert.rejects(chatCompletion(settings, ask()), (error: unknown) => {
    assert.ok(error instanceof APIError, String(error));
    assert.equal(error.status, 400);
    // An error body is read up to 64 KiB: its message says that the body was longer.
    assert.match(error.message, /: \(the error body is longer than 65536 bytes\)$/);
    return true;
  });
});

Deno.test("chatCompletion() refuses an answer over maxAnswerChars", async () => {
  await using peer = await startPeer();
  peer.enqueue({ text: "w".repeat(5000) });
  await assert.rejects(
    chatCompletion(settingsFor(peer, { maxAnswerChars: 4000 }), ask()),
    (error: unknown) =>
      error instanceof APIError && /answer .* longer than 4000 characters/.test(error.message),
  );
  peer.enqueue({ text: "w".repeat(4000) });
  const completion = await chatCompletion(settingsFor(peer, { maxAnswerChars: 4000 }), ask());
  assert.equal(completion.choices[0].message.content.length, 4000);
});

// ---------------------------------------------------------------------------
// 6. Secrets in messages

Deno.test("a query-string credential in the base URL is scrubbed when the server echoes the URL", async () => {
  for (const name of ["api-key", "token", "sig"]) {
    const secret = `qs-secret-${name}-424242`;
    await using service = await startServer((request) =>
      Response.json({ error: { message: `bad request to ${request.url}` } }, { status: 400 })
    );
    await assert.rejects(
      chatCompletion(
        settingsFor(service, { baseURL: `${service.origin}/v1?${name}=${secret}` }),
        ask(),
      ),
      (error: unknown) => {
        assert.ok(error instanceof APIError);
        assert.match(error.message, /bad request to/);
        assert.ok(!error.message.includes(secret), error.message);
        return true;
      },
    );
    assert.ok(service.requests.length > 0);
  }
});

Deno.test("OPENAI_CUSTOM_HEADERS has no effect on requests", async () => {
  await using peer = await startPeer();
  Deno.env.set(
    "OPENAI_CUSTOM_HEADERS",
    "Authorization: Bearer sk-from-env-evil\nX-Env-Header: leaked",
  );
  try {
    await chatCompletion(settingsFor(peer, { apiKey: "sk-configured-1" }), ask());
    assert.equal(peer.lastRequest().headers.authorization, "Bearer sk-configured-1");
    assert.equal(peer.lastRequest().headers["x-env-header"], undefined);
    await collect(chatStream(settingsFor(peer, { apiKey: undefined }), ask()));
    assert.equal(peer.lastRequest().headers.authorization, undefined);
    assert.equal(peer.lastRequest().headers["x-env-header"], undefined);
  } finally {
    Deno.env.delete("OPENAI_CUSTOM_HEADERS");
  }
});

Deno.test("a malformed JSON body is described without quoting it", async () => {
  await using peer = await startPeer();
  for (const raw of ['{"a": sk-LEAKME-123456789', '{"choices": [{"message": LEAKME', "LEAKME"]) {
    peer.enqueue({ raw, contentType: "application/json" });
    await assert.rejects(
      chatCompletion(settingsFor(peer, { maxRetries: 0 }), ask()),
      (error: unknown) => {
        assert.ok(error instanceof APIError, String(error));
        assert.match(error.message, /malformed JSON/);
        assert.ok(!error.message.includes("LEAKME"), error.message);
        assert.ok(!error.message.includes("sk-"), error.message);
        return true;
      },
    );
  }
});

// ---------------------------------------------------------------------------
// 8. The replay buffer of a backend response

Deno.test("a backend response bounds what it keeps for replay by the answer limit", async () => {
  const { body, cancelled } = endlessBody(encoder.encode(sse("r".repeat(1000)).repeat(10)));
  await using service = await startServer(() => eventStream(body));
  const ai = createAI({
    BACKENDS: {
      default: {
        CLASS: "openai",
        CONFIG: {
          MODEL_ID: "gpt-4o-mini",
          OPENAI_API_KEY: KEY,
          API_BASE: `${service.origin}/v1`,
          MAX_ANSWER_CHARS: 30_000,
        },
      },
    },
  });
  const response = ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" });
  await assert.rejects(
    (async () => {
      for await (const _ of response) { /* read it all */ }
    })(),
    (error: unknown) => error instanceof APIError && /longer than 30000/.test(error.message),
  );
  await cancelled;
  await assert.rejects(response.text(), APIError);
});

Deno.test("an AIResponse keeps at most 16 MiB of an endless custom provider's answer", async () => {
  let stopped = false;
  registerProvider("endless_test", (settings) => ({
    provider: "endless_test",
    model: settings.model,
    completion: () => Promise.reject(new Error("not used")),
    async *stream() {
      try {
        while (true) yield { type: "text" as const, text: "e".repeat(64 * 1024) };
      } finally {
        stopped = true;
      }
    },
  }));
  try {
    const ai = createAI({
      PROVIDERS: { default: { provider: "endless_test", model: "m" } },
      BACKENDS: { default: { CLASS: "provider", CONFIG: { TOKEN_LIMIT: 1000 } } },
    });
    const response = ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" });
    let kept = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of response) kept += chunk.length;
      })(),
      (error: unknown) =>
        error instanceof APIError && /longer than 16777216 characters/.test(error.message),
    );
    assert.ok(kept <= 16 * 1024 * 1024);
    assert.ok(stopped, "the provider's stream was stopped");
  } finally {
    unregisterProvider("endless_test");
  }
});

Deno.test("the answer and event limits are settings, checked where they are read", () => {
  const backend = (config: Record<string, unknown>) =>
    createAI({
      BACKENDS: {
        default: {
          CLASS: "openai",
          CONFIG: { MODEL_ID: "gpt-4o", OPENAI_API_KEY: "sk-x", ...config },
        },
      },
    }).getBackend() as OpenAIBackend;
  assert.equal(backend({}).config.maxAnswerChars, 16 * 1024 * 1024);
  assert.equal(backend({}).config.maxEventChars, 1024 * 1024);
  assert.equal(backend({ MAX_ANSWER_CHARS: 1000, MAX_EVENT_CHARS: 500 }).config.maxEventChars, 500);
  for (const bad of [0, -1, 1.5, "10", Number.NaN]) {
    assert.throws(() => backend({ MAX_ANSWER_CHARS: bad }), ImproperlyConfigured);
    assert.throws(() => backend({ MAX_EVENT_CHARS: bad }), ImproperlyConfigured);
  }
  const provider = createProvider({
    provider: "openai",
    model: "gpt-4o",
    api_key: "sk-x",
    max_answer_chars: 2000,
    max_event_chars: 100,
  }) as OpenAICompatibleProvider;
  assert.equal(provider.config.maxAnswerChars, 2000);
  assert.equal(provider.config.maxEventChars, 100);
  assert.throws(
    () => createProvider({ provider: "openai", model: "m", api_key: "k", max_event_chars: 0 }),
    (error: unknown) =>
      error instanceof ImproperlyConfigured && /max_event_chars/.test(error.message),
  );
});

Deno.test("a redirect to a host outside --allow-net is refused without a prompt or a retry", async () => {
  await using evil = await startServer(() => new Response("{}"));
  await using service = await redirectingTo(evil);
  const script = `
    import { createAI } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
    const ai = createAI({ BACKENDS: { default: { CLASS: "openai", CONFIG: {
      MODEL_ID: "gpt-4o-mini", API_BASE: "${service.origin}/v1", OPENAI_API_KEY: "sk-child-1234",
      MAX_RETRIES: 2 } } } });
    try {
      await ai.getBackend().promptWithContext({ prePrompt: "p", context: "c" }).text();
    } catch (error) {
      console.log(JSON.stringify({ name: error.name, message: error.message, retryable: error.retryable }));
    }
  `;
  // Without --no-prompt: the child would ask for net permission if it tried the other host.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--allow-net=${service.host}`, "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(script));
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.doesNotMatch(stderr, /allow-net|permission/i);
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.name, "APIError");
  assert.equal(result.retryable, false);
  assert.match(result.message, new RegExp(`another host \\(${evil.host}\\)`));
  assert.equal(service.requests.length, 1);
  assert.equal(evil.requests.length, 0);
});

// ---------------------------------------------------------------------------
// 7. Provider options that are not JSON

Deno.test("provider completion() and stream() refuse options that are not JSON data with a TypeError, before any request", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "openai",
    model: "gpt-4o",
    api_key: KEY,
    api_base: peer.url,
  });
  const messages = [{ role: "user" as const, content: "hi" }];
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ seed: 1n }, /options\.seed of completion\(\) must be JSON data, got a bigint/],
    [
      { logit_bias: cycle },
      /options\.logit_bias\.self of completion\(\) must be JSON data, got a circular reference/,
    ],
    [
      { temperature: Number.NaN },
      /options\.temperature of completion\(\) must be JSON data, got NaN/,
    ],
    [{ top_p: Infinity }, /options\.top_p of completion\(\) must be JSON data, got Infinity/],
    [{ logit_bias: { a: -Infinity } }, /options\.logit_bias\.a .* got -Infinity/],
    [{ user: new Date(0) }, /options\.user of completion\(\) must be JSON data, got a Date/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(provider.completion({ messages, ...options }), (error: unknown) => {
      assert.ok(error instanceof TypeError, String(error));
      assert.match((error as Error).message, message);
      return true;
    });
    assert.throws(() => provider.stream({ messages, ...options }), TypeError);
  }
  assert.equal(peer.requests.length, 0);
  // JSON data, null included, is sent as it is.
  await provider.completion({ messages, response_format: null, logit_bias: { a: [1, "b", true] } });
  assert.equal(peer.lastRequest().body.response_format, null);
  assert.deepEqual(peer.lastRequest().body.logit_bias, { a: [1, "b", true] });
});

// ---------------------------------------------------------------------------
// 8. Absurd usage values

Deno.test("absurd usage values are not reported, in answers and streams", async () => {
  await using peer = await startPeer();
  const absurd = [
    { prompt_tokens: -5, completion_tokens: 1, total_tokens: 1 },
    { prompt_tokens: 1, completion_tokens: 1e308, total_tokens: 1 },
    { prompt_tokens: [3], completion_tokens: 1, total_tokens: 4 },
    { prompt_tokens: 1, completion_tokens: true, total_tokens: 2 },
    { prompt_tokens: 1, completion_tokens: 2, total_tokens: 1.5 },
    { prompt_tokens: "3", completion_tokens: 2 },
  ];
  const choices = [{
    index: 0,
    message: { role: "assistant", content: "ok" },
    finish_reason: "stop",
  }];
  for (const usage of absurd) {
    peer.enqueue({ json: { choices, usage } });
    const completion = await chatCompletion(settingsFor(peer), ask());
    assert.equal(completion.usage, undefined, JSON.stringify(usage));
  }
  peer.enqueue({ json: { choices, usage: { prompt_tokens: 3, completion_tokens: 2 } } });
  const usage = (await chatCompletion(settingsFor(peer), ask())).usage;
  assert.equal(usage?.inputTokens, 3);
  assert.equal(usage?.outputTokens, 2);
  assert.equal(usage?.totalTokens, 5);
  await using service = await startServer(() =>
    eventStream(
      sse("a") + sse(null, "stop") +
        `data: ${JSON.stringify({ choices: [], usage: absurd[1] })}\n\ndata: [DONE]\n\n`,
    )
  );
  const events = await collect(chatStream(settingsFor(service), ask()));
  assert.deepEqual(events, [{ type: "text", text: "a" }, { type: "finish", reason: "stop" }]);
});

Deno.test("a stream's body is bounded by its line and answer limits, not by the body limit", async () => {
  // 2 MiB of keep-alive comments, over the 1.4 MiB body limit of maxAnswerChars 100.
  const comments = ": keep-alive\n".repeat(160_000);
  await using service = await startServer(() =>
    eventStream(comments + sse("ok") + sse(null, "stop") + "data: [DONE]\n\n")
  );
  const settings = settingsFor(service, { maxAnswerChars: 100 });
  assert.ok(comments.length > bodyLimitOf(settings));
  assert.equal(textOf(await collect(chatStream(settings, ask()))), "ok");
});

Deno.test("the Anthropic provider refuses options that are not JSON data too", async () => {
  await using peer = await startPeer();
  const provider = createProvider({
    provider: "anthropic",
    model: "claude-3-5-haiku-latest",
    api_key: KEY,
    api_base: peer.origin,
  });
  const messages = [{ role: "user" as const, content: "hi" }];
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (
    const options of [{ temperature: Number.NaN }, { top_p: Infinity }, { top_k: cycle }]
  ) {
    await assert.rejects(
      provider.completion({ messages, ...options } as never),
      (error: unknown) => error instanceof TypeError && /must be JSON data/.test(error.message),
    );
    assert.throws(() => provider.stream({ messages, ...options } as never), TypeError);
  }
  assert.equal(peer.requests.length, 0);
});
