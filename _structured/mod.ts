// Structured output: a JSON Schema in, a checked object out, whichever
// service answers. Providers and backends use `chatObject()` (strategies of a
// chat-completions service) or `runStructured()` with their own requests
// (Anthropic's forced tool); the answer is always checked here with
// @cfworker/json-schema (and a Standard Schema's validate()), repaired once,
// and otherwise a StructuredOutputError. The public types are in
// ../structured.ts. Files: schema.ts (the schema argument), arguments.ts (the call's arguments),
// wire_schema.ts (the strict subsets), answer.ts (instructions, parsing,
// checking), validate.ts (the validator), run.ts (the loop), chat.ts (the
// chat-completions strategies), openai.ts (them through the OpenAI client).
export { checkObjectArguments, type ObjectArguments } from "./arguments.ts";
export {
  checkSchemaName,
  DEFAULT_SCHEMA_NAME,
  hasObjectRoot,
  type ResolvedSchema,
  resolveSchema,
  wrapRoot,
} from "./schema.ts";
export { type SchemaDialect, type WireSchema, wireSchema } from "./wire_schema.ts";
export { repairText, schemaInstruction } from "./answer.ts";
export { addUsage, type Attempt, type Repair, runStructured } from "./run.ts";
export {
  type ChatAnswer,
  chatObject,
  chatPlan,
  type ChatStrategy,
  repairMessages,
} from "./chat.ts";
export { preloadValidator } from "./validate.ts";
export { openAIObject, type OpenAIObjectRequest } from "./openai.ts";
