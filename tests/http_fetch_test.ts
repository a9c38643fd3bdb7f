import assert from "node:assert/strict";
import {
  BodyTooLargeError,
  createGuardedFetch,
  RAW_BODY,
  RedirectRefusedError,
} from "../_http/fetch.ts";
import { gzipOf, startServer } from "./_hostile.ts";

async function readAll(response: Response): Promise<number> {
  let bytes = 0;
  for await (const chunk of response.body!) bytes += chunk.byteLength;
  return bytes;
}

Deno.test("createGuardedFetch() refuses a redirect to another port before sending anything there", async () => {
  await using evil = await startServer(() => new Response("stolen"));
  await using service = await startServer(() =>
    new Response("moved", { status: 307, headers: { location: `${evil.origin}/steal?x=1` } })
  );
  const guarded = createGuardedFetch();
  for (const status of [301, 302, 303, 307, 308]) {
    service.setHandler(() =>
      new Response(null, { status, headers: { location: `${evil.origin}/steal` } })
    );
    await assert.rejects(
      guarded(`${service.origin}/v1/chat`, {
        method: "POST",
        headers: { "api-key": "az-secret-1234" },
        body: "prompt",
      }),
      (error: unknown) => {
        assert.ok(error instanceof RedirectRefusedError);
        assert.equal(error.status, status);
        assert.equal(error.reason, "cross-origin");
        assert.equal(error.target, new URL(evil.origin).host);
        assert.match(error.message, new RegExp(`another host \\(${new URL(evil.origin).host}\\)`));
        assert.doesNotMatch(error.message, /steal/);
        return true;
      },
    );
  }
  assert.equal(evil.requests.length, 0);
});

Deno.test("createGuardedFetch() refuses a redirect from http to https on the same host", async () => {
  await using service = await startServer(() =>
    new Response(null, { status: 308, headers: { location: "https://127.0.0.1:1/x" } })
  );
  await assert.rejects(
    createGuardedFetch()(`${service.origin}/x`),
    (error: unknown) => error instanceof RedirectRefusedError && error.reason === "cross-origin",
  );
});

Deno.test("createGuardedFetch() follows same-origin redirects as fetch does", async () => {
  await using service = await startServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/a") return new Response(null, { status: 307, headers: { location: "/b" } });
    if (path === "/c") return new Response(null, { status: 303, headers: { location: "/b" } });
    return new Response("ok");
  });
  const guarded = createGuardedFetch();
  const kept = await guarded(`${service.origin}/a`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-key": "k" },
    body: '{"a":1}',
  });
  assert.equal(await kept.text(), "ok");
  const second = service.requests[1];
  assert.equal(second.method, "POST");
  assert.equal(second.path, "/b");
  assert.equal(second.body, '{"a":1}');
  assert.equal(second.headers["x-key"], "k");
  service.requests.length = 0;
  const seeOther = await guarded(`${service.origin}/c`, { method: "POST", body: "x" });
  assert.equal(await seeOther.text(), "ok");
  assert.equal(service.requests[1].method, "GET");
  assert.equal(service.requests[1].body, "");
});

Deno.test("createGuardedFetch() stops after maxRedirects same-origin redirects", async () => {
  await using service = await startServer(() =>
    new Response(null, { status: 302, headers: { location: "/loop" } })
  );
  await assert.rejects(
    createGuardedFetch({ maxRedirects: 3 })(`${service.origin}/loop`),
    (error: unknown) => error instanceof RedirectRefusedError && error.reason === "too-many",
  );
  assert.equal(service.requests.length, 4);
});

Deno.test("createGuardedFetch() ends a chunked body past maxBodyBytes and closes the connection", async () => {
  let cancelled: () => void = () => {};
  const gone = new Promise<void>((resolve) => cancelled = resolve);
  await using service = await startServer(() => {
    const chunk = new Uint8Array(64 * 1024);
    return new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(chunk);
        },
        cancel() {
          cancelled();
        },
      }),
    );
  });
  const response = await createGuardedFetch({ maxBodyBytes: 1024 * 1024 })(`${service.origin}/`);
  await assert.rejects(readAll(response), (error: unknown) => {
    assert.ok(error instanceof BodyTooLargeError);
    assert.equal(error.max, 1024 * 1024);
    return true;
  });
  await gone;
});

Deno.test("createGuardedFetch() counts a gzip body after decompression", async () => {
  // About 32 KiB of gzip that inflates to 32 MiB.
  const bomb = await gzipOf(new Uint8Array(32 * 1024 * 1024));
  assert.ok(bomb.byteLength < 64 * 1024);
  await using service = await startServer(() =>
    new Response(bomb, {
      headers: { "content-encoding": "gzip", "content-type": "application/json" },
    })
  );
  const response = await createGuardedFetch({ maxBodyBytes: 1024 * 1024 })(`${service.origin}/`);
  await assert.rejects(response.json(), BodyTooLargeError);
});

Deno.test("createGuardedFetch() refuses a declared length over the limit at the first read", async () => {
  await using service = await startServer(() => new Response(new Uint8Array(200_000)));
  const guarded = createGuardedFetch({ maxBodyBytes: 100_000 });
  await assert.rejects((await guarded(`${service.origin}/`)).arrayBuffer(), BodyTooLargeError);
  // Within the limit, an unencoded body with a length is returned as it is.
  const small = createGuardedFetch({ maxBodyBytes: 300_000 });
  assert.equal((await (await small(`${service.origin}/`)).arrayBuffer()).byteLength, 200_000);
});

Deno.test("createGuardedFetch() leaves a 2xx body uncounted with RAW_BODY, but not an error body", async () => {
  await using service = await startServer((request) =>
    new Response(new Uint8Array(300_000), {
      status: new URL(request.url).pathname === "/error" ? 500 : 200,
    })
  );
  const guarded = createGuardedFetch({ maxBodyBytes: 100_000 });
  const init = { [RAW_BODY]: true } as RequestInit;
  assert.equal(await readAll(await guarded(`${service.origin}/ok`, init)), 300_000);
  await assert.rejects(readAll(await guarded(`${service.origin}/error`, init)), BodyTooLargeError);
});
