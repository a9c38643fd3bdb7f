// The part of structured output that runs a call, loaded on the first one
// (see mod.ts): the strict subsets, instructions and answer checking (with
// the validator package, itself loaded on first use), the loop, and the
// chat-completions strategies.
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
