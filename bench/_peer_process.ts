/**
 * The test peer (`tests/_peer.ts`) in a process of its own, for benchmarks in
 * which the peer's work must not share the measured process's thread: prints
 * its base URL on a line, answers every chat request at once with a short
 * answer, and stops when its stdin closes.
 *
 * @module
 */
import { startPeer } from "../tests/_peer.ts";

const peer = await startPeer();
peer.setHandler(() => ({ text: "A short answer." }));
console.log(peer.url);
// Forget what was received: a long run must not grow the peer's memory.
const forget = setInterval(() => peer.reset(), 1000);
for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
clearInterval(forget);
await peer.close();
