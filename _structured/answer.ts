// What the model is told and what its answer is taken for: the schema in the
// prompt (for JSON mode and the prompt strategy), the repair request that
// shows it its mistakes, and the answer parsed and checked.
import type { ValidationIssue } from "../errors.ts";
import { type ResolvedSchema, WRAPPED_KEY } from "./schema.ts";
import type { JSONSchema } from "../structured.ts";
import { validateJSON, validateStandard } from "./validate.ts";

/** The system text that asks for JSON following `schema` (JSON mode and the prompt strategy). */
export function schemaInstruction(schema: JSONSchema): string {
  return "Answer with one JSON value that follows this JSON Schema, and nothing else: no " +
    "explanation, no Markdown code fence.\n\nJSON Schema:\n" + JSON.stringify(schema);
}

/** The list of issues, one per line, for the repair request and error messages. */
export function issueList(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) =>
    `- ${issue.path === "" ? "(the answer)" : issue.path}: ${issue.message}`
  )
    .join("\n");
}

/** The text of the repair request: what was wrong, and to answer again. */
export function repairText(issues: readonly ValidationIssue[]): string {
  return "Your answer does not follow the JSON Schema:\n" + issueList(issues) +
    "\n\nAnswer again with the corrected JSON only.";
}

/** The text of an answer without a Markdown code fence around it. */
function unfenced(text: string): string {
  const match = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(text.trim());
  return match ? match[1] : text.trim();
}

/** One answer of the model, before it is checked. */
export interface RawAnswer {
  /** The answer's text (for a tool call: its input as JSON). */
  text: string;
  /** The value, when the service gave it already parsed (a tool call's input). */
  value?: unknown;
  /** Whether the answer stopped at the token limit. */
  truncated?: boolean;
}

/** An answer checked: its value (after a Standard Schema's transforms) or what is wrong. */
export type CheckedAnswer = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/**
 * Parses an answer (a JSON text, possibly in a code fence, or a value given
 * parsed), takes it out of its wrapper when the schema was sent wrapped, and
 * checks it against the schema, then the Standard Schema.
 */
export async function checkAnswer(
  answer: RawAnswer,
  schema: ResolvedSchema,
  wrapped: boolean,
): Promise<CheckedAnswer> {
  let value: unknown;
  if ("value" in answer) {
    value = answer.value;
  } else {
    const text = unfenced(answer.text);
    try {
      value = JSON.parse(text);
    } catch {
      const message = text === ""
        ? "The answer is empty, not JSON"
        : answer.truncated
        ? "The answer was cut off at the token limit before its JSON was complete"
        : "The answer is not valid JSON";
      return { ok: false, issues: [{ path: "", message }] };
    }
  }
  if (wrapped) {
    // The schema was sent as the "value" property of an object (see wrapRoot()).
    if (
      typeof value !== "object" || value === null || Array.isArray(value) ||
      !Object.hasOwn(value, WRAPPED_KEY)
    ) {
      return {
        ok: false,
        issues: [{
          path: "",
          message: `The answer must be an object with the key "${WRAPPED_KEY}"`,
        }],
      };
    }
    value = (value as Record<string, unknown>)[WRAPPED_KEY];
  }
  const issues = await validateJSON(schema.json, value);
  if (issues.length > 0) return { ok: false, issues };
  if (schema.standard === undefined) return { ok: true, value };
  const result = await validateStandard(schema.standard, value);
  return "issues" in result
    ? { ok: false, issues: result.issues }
    : { ok: true, value: result.value };
}
