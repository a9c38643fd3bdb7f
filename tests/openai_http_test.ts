// The OpenAI-compatible client's own HTTP layer (_openai/http.ts, client.ts,
// errors.ts): the request it sends, how it reads error bodies, what it
// retries, its timeouts and aborts, against servers on 127.0.0.1.
import assert from "node:assert/strict";
import {
  chatCompletion,
  type ChatRequest,
  chatStream,
  type ClientSettings,
} from "../_openai/mod.ts";
import { chatURL } from "../_openai/client.ts";
import { errorDetails } from "../_openai/errors.ts";
import { APIError, ConnectionError, ImproperlyConfigured, TimeoutError } from "../errors.ts";
import { type Server, stalledBody, startServer } from "./_hostile.ts";

const KEY = "sk-http-SECRET-1122334455";
const encoder = new TextEncoder();

function settingsFor(server: Server, extra: Partial<ClientSettings> = {}): ClientSettings {
  return {
    apiKey: KEY,
    baseURL: `${server.origin}/v1`,
    timeoutMs: 10_000,
    maxRetries: 0,
    provider: "openai",
    backend: "default",
    ...extra,
  };
}

function ask(text = "hi", extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "gpt-4o-mini", messages: [{ role: "user", content: text }], ...extra };
}

const COMPLETION = JSON.stringify({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "Fine." }, finish_reason: "stop" }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

function completion(): Response {
  return new Response(COMPLETION, { headers: { "content-type": "application/json" } });
}

function failure(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

Deno.test("chatURL() puts /chat/completions after the base URL's path, keeps its query and adds defaultQuery", () => {
  assert.equal(chatURL("http://127.0.0.1:8/v1"), "http://127.0.0.1:8/v1/chat/completions");
  assert.equal(chatURL("http://127.0.0.1:8/v1//"), "http://127.0.0.1:8/v1/chat/completions");
  assert.equal(
    chatURL("https://x.example/openai/deployments/d?a=1", { "api-version": "2024-10-21" }),
    "https://x.example/openai/deployments/d/chat/completions?a=1&api-version=2024-10-21",
  );
  assert.equal(chatURL("http://h/v1?v=old", { v: "new" }), "http://h/v1/chat/completions?v=new");
  assert.throws(() => chatURL("not a url"), TypeError);
  assert.throws(() => chatURL("localhost:11434/v1"), TypeError); // a scheme "localhost:"
  assert.throws(() => chatURL("ftp://h/v1"), TypeError);
});

Deno.test("errorDetails() reads OpenAI's error object, a bare message, a string error, plain text and an empty body", () => {
  assert.deepEqual(
    errorDetails('{"error":{"message":"Bad key","type":"invalid","code":"invalid_api_key"}}'),
    { message: "Bad key", code: "invalid_api_key" },
  );
  assert.deepEqual(errorDetails('{"error":{"type":"odd"}}'), {
    message: '{"type":"odd"}',
    code: "",
  });
  assert.deepEqual(errorDetails('{"error":"model not loaded"}'), {
    message: "model not loaded",
    code: "",
  });
  assert.deepEqual(errorDetails('{"message":"Too long","code":"context_length_exceeded"}'), {
    message: "Too long",
    code: "context_length_exceeded",
  });
  assert.deepEqual(errorDetails("Bad Gateway\n"), { message: "Bad Gateway", code: "" });
  assert.deepEqual(errorDetails("[1, 2]"), { message: "[1, 2]", code: "" });
  assert.deepEqual(errorDetails("  "), { message: "(no body)", code: "" });
});

Deno.test("chatCompletion() sends JSON with the key as a bearer token, the organization and the settings' headers, which win whatever their case", async () => {
  await using server = await startServer(() => completion());
  await chatCompletion(
    settingsFor(server, { organization: "org-1", headers: { "X-Team": "docs" } }),
    ask("a"),
  );
  const first = server.requests[0];
  assert.equal(first.method, "POST");
  assert.equal(first.path, "/v1/chat/completions");
  assert.equal(first.headers["content-type"], "application/json");
  assert.equal(first.headers.accept, "application/json");
  assert.equal(first.headers.authorization, `Bearer ${KEY}`);
  assert.equal(first.headers["openai-organization"], "org-1");
  assert.equal(first.headers["x-team"], "docs");
  assert.deepEqual(JSON.parse(first.body), {
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "a" }],
    stream: false,
  });
  await chatCompletion(
    settingsFor(server, { apiKey: undefined, headers: { AUTHORIZATION: "Token t" } }),
    ask("b"),
  );
  assert.equal(server.requests[1].headers.authorization, "Token t");
  await chatCompletion(settingsFor(server, { apiKey: "" }), ask("c"));
  assert.equal(server.requests[2].headers.authorization, undefined, "no key, no header");
});

Deno.test("chatStream() asks for an event stream with usage", async () => {
  await using server = await startServer(() =>
    new Response(
      'data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n' +
        "data: [DONE]\n\n",
      { headers: { "content-type": "text/event-stream" } },
    )
  );
  const texts: string[] = [];
  for await (const event of chatStream(settingsFor(server), ask())) {
    if (event.type === "text") texts.push(event.text);
  }
  assert.deepEqual(texts, ["Hi"]);
  const request = server.requests[0];
  assert.equal(request.headers.accept, "text/event-stream");
  assert.deepEqual(JSON.parse(request.body).stream_options, { include_usage: true });
  assert.equal(JSON.parse(request.body).stream, true);
});

Deno.test("chatCompletion() retries a status the server marks x-should-retry: true, and none it marks false", async () => {
  await using server = await startServer(() => completion());
  let calls = 0;
  server.setHandler(() =>
    ++calls === 1
      ? failure(400, '{"error":{"message":"try again"}}', {
        "x-should-retry": "true",
        "retry-after-ms": "1",
      })
      : completion()
  );
  const answer = await chatCompletion(settingsFor(server, { maxRetries: 2 }), ask());
  assert.equal(answer.choices[0].message.content, "Fine.");
  assert.equal(server.requests.length, 2);

  server.setHandler(() =>
    failure(503, '{"error":{"message":"down"}}', { "x-should-retry": "false" })
  );
  await assert.rejects(
    chatCompletion(settingsFor(server, { maxRetries: 2 }), ask()),
    (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 503);
      assert.match(error.message, /answered HTTP 503 .*: down$/);
      return true;
    },
  );
  assert.equal(server.requests.length, 3, "the 503 was not retried");
});

Deno.test("chatCompletion() names the service's message from each error body shape and never the key", async () => {
  const bodies: [string, RegExp][] = [
    ['{"error":"model not loaded"}', /HTTP 422 for model "gpt-4o-mini": model not loaded$/],
    ['{"message":"quota"}', /HTTP 422 for model "gpt-4o-mini": quota$/],
    ["upstream said no", /HTTP 422 for model "gpt-4o-mini": upstream said no$/],
    ["", /HTTP 422 for model "gpt-4o-mini": \(no body\)$/],
    [`{"error":{"message":"bad key ${KEY}"}}`, /: bad key \*\*\*$/],
  ];
  await using server = await startServer(() => completion());
  for (const [body, expected] of bodies) {
    server.setHandler(() => failure(422, body, { "x-request-id": `req-${KEY}` }));
    await assert.rejects(chatCompletion(settingsFor(server), ask()), (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 422);
      assert.match(error.message, expected);
      assert.equal(error.requestId, "req-***");
      return true;
    });
  }
});

Deno.test("chatCompletion() says an error body over 64 KiB is so, without reading it to its end", async () => {
  await using server = await startServer(() =>
    new Response("x".repeat(3_000_000), { status: 500, headers: { "content-type": "text/plain" } })
  );
  await assert.rejects(
    chatCompletion(settingsFor(server, { maxAnswerChars: 250_000 }), ask()),
    (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 500);
      assert.match(error.message, /: \(the error body is longer than 65536 bytes\)$/);
      return true;
    },
  );
});

Deno.test("chatCompletion() answers a redirect without a Location with an APIError, not retried", async () => {
  await using server = await startServer(() => new Response(null, { status: 302 }));
  await assert.rejects(
    chatCompletion(settingsFor(server, { maxRetries: 2 }), ask()),
    (error: unknown) => {
      assert.ok(error instanceof APIError);
      assert.equal(error.status, 302);
      assert.equal(error.retryable, false);
      assert.match(error.message, /redirected the request for model "gpt-4o-mini" \(HTTP 302\)/);
      return true;
    },
  );
  assert.equal(server.requests.length, 1);
});

Deno.test("chatCompletion() reads a 200 answer that is not JSON as text and says so", async () => {
  await using server = await startServer(() =>
    new Response("<html>login</html>", { headers: { "content-type": "text/html" } })
  );
  await assert.rejects(chatCompletion(settingsFor(server), ask()), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.equal(error.status, 200);
    assert.match(error.message, /the body is not a JSON object \(<html>login<\/html>\)/);
    return true;
  });
});

Deno.test("chatCompletion() times out when the answer's body stalls after its headers", async () => {
  const { body, release } = stalledBody(encoder.encode('{"id":"x",'));
  await using server = await startServer(() =>
    new Response(body, { headers: { "content-type": "application/json" } })
  );
  try {
    await assert.rejects(
      chatCompletion(settingsFor(server, { timeoutMs: 300 }), ask()),
      (error: unknown) => {
        assert.ok(error instanceof TimeoutError, String(error));
        assert.match(error.message, /timed out after 300 ms$/);
        return true;
      },
    );
  } finally {
    release();
  }
});

Deno.test("chatCompletion(): an answer whose connection breaks mid-body is a ConnectionError, not sent again", async () => {
  await using server = await startServer(() =>
    new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(encoder.encode('{"id":"x","choices":'));
          controller.error(new Error("cut"));
        },
      }),
      { headers: { "content-type": "application/json" } },
    )
  );
  await assert.rejects(
    chatCompletion(settingsFor(server, { maxRetries: 2 }), ask()),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      // Retryable for the caller (a fallback, a retry of its own), but the service made and
      // billed the answer: this request does not ask for it again.
      assert.equal(error.retryable, true);
      assert.match(error.message, /^The answer from openai for model "gpt-4o-mini" broke off/);
      return true;
    },
  );
  assert.equal(server.requests.length, 1);
});

Deno.test("chatCompletion(): a refused connection is retried, and its message names the URL without its query", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const secret = "q s!ecret'(1)~";
  await assert.rejects(
    chatCompletion({
      baseURL: `http://127.0.0.1:${port}/v1`,
      apiKey: KEY,
      timeoutMs: 5_000,
      maxRetries: 1,
      provider: "openai",
      defaultQuery: { "api-key": secret },
    }, ask()),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionError, String(error));
      assert.equal(error.retryable, true);
      assert.match(
        error.message,
        new RegExp(
          `^Cannot connect to openai at http://127\\.0\\.0\\.1:${port}/v1 \\(after 1 retry\\): `,
        ),
      );
      for (const form of [secret, encodeURIComponent(secret), "api-key="]) {
        assert.ok(!error.message.includes(form), error.message);
      }
      return true;
    },
  );
});

Deno.test("chatURL() percent-encodes defaultQuery values as encodeURIComponent does", () => {
  assert.equal(
    chatURL("http://h/v1", { "api-key": "a b!'()~" }),
    // As the URL serializes it (a `'` in a query becomes %27); the scrubber knows that form.
    new URL(`http://h/v1/chat/completions?api-key=${encodeURIComponent("a b!'()~")}`).href,
  );
});

Deno.test("chatCompletion() refuses a header that HTTP cannot carry, naming it, before any request", async () => {
  await using server = await startServer(() => completion());
  await assert.rejects(
    chatCompletion(settingsFor(server, { headers: { "X-Team": "docs\r\nX-Evil: 1" } }), ask()),
    (error: unknown) => {
      assert.ok(error instanceof ImproperlyConfigured, String(error));
      assert.match(error.message, /^The header "X-Team" of openai cannot be sent/);
      assert.ok(!error.message.includes("docs"));
      return true;
    },
  );
  assert.equal(server.requests.length, 0);
});

Deno.test("chatCompletion() says an empty 200 body is empty", async () => {
  await using server = await startServer(() =>
    new Response("", { headers: { "content-type": "application/json" } })
  );
  await assert.rejects(chatCompletion(settingsFor(server), ask()), (error: unknown) => {
    assert.ok(error instanceof APIError);
    assert.match(error.message, /the body is empty$/);
    return true;
  });
});

Deno.test("chatCompletion() rejects with the abort reason during the wait between attempts", async () => {
  let answered!: () => void;
  const first = new Promise<void>((resolve) => (answered = resolve));
  await using server = await startServer(() => {
    answered();
    return failure(429, '{"error":{"message":"slow down"}}', { "retry-after-ms": "30000" });
  });
  const controller = new AbortController();
  const reason = new Error("user left");
  const pending = chatCompletion(
    settingsFor(server, { maxRetries: 2 }),
    ask("x", { signal: controller.signal }),
  );
  // Aborted once the first attempt is answered: the request then waits 30 s for the next one.
  await first;
  await new Promise((resolve) => setTimeout(resolve, 50));
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
  assert.equal(server.requests.length, 1);
});

Deno.test("chatCompletion() reports a base URL that is not a URL as ImproperlyConfigured, without quoting it", async () => {
  for (const baseURL of ["not a url", "localhost:11434/v1", "ftp://files.example/v1"]) {
    await assert.rejects(
      chatCompletion(
        { baseURL, apiKey: KEY, timeoutMs: 1000, maxRetries: 0, provider: "openai" },
        ask(),
      ),
      (error: unknown) => {
        assert.ok(error instanceof ImproperlyConfigured, String(error));
        assert.match(error.message, /^The base URL of openai is not a valid URL/);
        assert.ok(!error.message.includes(baseURL));
        return true;
      },
    );
  }
});
