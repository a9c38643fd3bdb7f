// Structured output: a JSON Schema in, a checked object out, whichever
// service answers. The public types are in ../structured.ts.
//
// Loaded with the package (light): the argument checks, schema.ts (the schema
// argument, Standard Schema) and arguments.ts (the call's arguments), so that
// wrong arguments fail at the call. Loaded on the first call, through
// `loadEngine()` (engine.ts), so that importing the package loads none of it:
// wire_schema.ts (the strict subsets), answer.ts (instructions, parsing,
// checking), validate.ts (the only code that loads @cfworker/json-schema),
// run.ts (the ask-check-repair loop), chat.ts (the chat-completions
// strategies) and openai.ts (them through the OpenAI client). Anthropic's
// forced tool runs `runStructured()` with its own requests.
export { checkObjectArguments, type ObjectArguments } from "./arguments.ts";
export {
  checkSchemaName,
  DEFAULT_SCHEMA_NAME,
  hasObjectRoot,
  type ResolvedSchema,
  resolveSchema,
  WRAPPED_KEY,
  wrapRoot,
} from "./schema.ts";
export type {
  Attempt,
  ChatAnswer,
  ChatStrategy,
  OpenAIObjectRequest,
  Repair,
  SchemaDialect,
  WireSchema,
} from "./engine.ts";

type Engine = typeof import("./engine.ts");
let engine: Promise<Engine> | undefined;

/** The running part of structured output, loaded once on first use. */
export function loadEngine(): Promise<Engine> {
  engine ??= import("./engine.ts").catch((error) => {
    engine = undefined;
    throw error;
  });
  return engine;
}
