// The turns a long count takes between slices let timers in also when the
// runtime's Node layer is in use (an application or package that touches the global
// `process`): there, message-channel tasks alone can starve timers, and an abort
// set off by a timer would wait for the whole count.
import assert from "node:assert/strict";
import { countInSlices } from "../_budget.ts";
import { loadEncoding } from "../_tokenizer/mod.ts";

Deno.test("countInSlices() stops at a timer's abort with the Node layer loaded", async () => {
  const process = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process;
  assert.ok(process?.getBuiltinModule?.("node:crypto"), "the Node layer is loaded");
  const encoding = await loadEncoding("o200k_base");
  const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n".repeat(720_000);
  const controller = new AbortController();
  const reason = new Error("the user left");
  let counted = 0;
  const spy = (slice: string) => (counted += slice.length, encoding.count(slice));
  setTimeout(() => controller.abort(reason), 0);
  await assert.rejects(
    countInSlices(spy, text, { signal: controller.signal }),
    (error) => error === reason,
  );
  assert.ok(counted < text.length / 4, `${counted} of ${text.length} characters were counted`);
});
