// What the CLI writes to a terminal: text from a service (answers, error
// messages) may hold escape sequences that set the window title, clear the
// screen, move the cursor, make hyperlinks or overwrite a line with a bare CR.
// Written to a terminal, every control character other than newline and tab
// is shown as a visible escape instead; written to a pipe or file, the text
// is left as it is.

// C0 controls except tab (0x09) and newline (0x0a), DEL, C1 controls (0x80-0x9f,
// which some terminals take as CSI and OSC too), and the Unicode bidi controls
// (ALM, LRM, RLM, the embeddings and overrides U+202A-U+202E, the isolates
// U+2066-U+2069), which reorder what is shown ("invoice\u202efdp.exe").
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  if (char === "\r") return "\\r";
  const code = char.charCodeAt(0);
  if (code > 0xff) return `\\u${code.toString(16).padStart(4, "0")}`;
  return `\\x${code.toString(16).padStart(2, "0")}`;
}

/**
 * `text` with every control character other than newline and tab, and every
 * bidi control, replaced by a visible escape (`\x1b`, `\r`, `\x9b`, `\u202e`...).
 */
export function escapeControls(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, visible) : text;
}

/** A writer that escapes control characters when `terminal` is true, else `write` itself. */
export function terminalWriter(
  write: (text: string) => void | Promise<void>,
  terminal: boolean,
): (text: string) => void | Promise<void> {
  return terminal ? (text) => write(escapeControls(text)) : write;
}
