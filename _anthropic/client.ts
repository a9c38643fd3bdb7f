// The part of the Anthropic client that sends requests, loaded on the first
// request (see mod.ts): sending with retries (http.ts), the two request kinds
// and the error mapping.
export { createMessage } from "./completion.ts";
export { streamEvents } from "./stream.ts";
export { scrubText, serviceLabel } from "./errors.ts";
