// An empty context is refused at the call on every backend, like an empty image prompt: no
// request is sent for nothing to complete.
import assert from "node:assert/strict";
import { everyBackend } from "./_backends.ts";
import { startPeer } from "./_peer.ts";

Deno.test("promptWithContext() refuses an empty or blank context at the call on every backend, sending nothing", async () => {
  await using peer = await startPeer();
  await using every = await everyBackend(peer);
  for (const alias of ["echo", "openai", "provider", "llm"]) {
    const backend = every.backends[alias];
    for (const context of ["", "   ", "\n\t "]) {
      assert.throws(
        () => backend.promptWithContext({ prePrompt: "Correct this text:", context }),
        (error: Error) => {
          assert.ok(error instanceof TypeError, `${alias}: ${error}`);
          assert.equal(error.message, "context must be a non-empty string");
          return true;
        },
        alias,
      );
    }
    // A context with text is sent as before.
    assert.ok((await backend.promptWithContext({ prePrompt: "p", context: "ok" }).text()).length);
  }
  assert.equal(peer.requests.length, 3);
});
