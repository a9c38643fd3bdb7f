// What the CLI writes to a terminal: text from a service (answers, error
// messages) may hold escape sequences that set the window title, clear the
// screen, move the cursor, make hyperlinks or overwrite a line with a bare CR.
// Written to a terminal, every control character other than newline and tab
// is shown as a visible escape instead; written to a pipe or file, the text
// is left as it is.

// C0 controls except tab (0x09) and newline (0x0a), DEL, and C1 controls (0x80-0x9f,
// which some terminals take as CSI and OSC too).
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function visible(char: string): string {
  if (char === "\r") return "\\r";
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/**
 * `text` with every control character other than newline and tab replaced by
 * a visible escape (`\x1b`, `\r`, `\x9b`...).
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
