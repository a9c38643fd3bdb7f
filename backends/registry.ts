// The backend CLASS registry: upstream dotted names, short names and names
// added with registerBackendClass().
import { EchoBackend } from "./echo.ts";
import { LLMBackend } from "./llm/backend.ts";
import { OpenAIBackend } from "./openai.ts";
import { ProviderBackend } from "./provider.ts";
import type { BackendClass } from "./types.ts";

export const backendClasses: Map<string, BackendClass> = new Map<string, BackendClass>([
  ["wagtail_ai.ai.echo.EchoBackend", EchoBackend],
  ["echo", EchoBackend],
  ["EchoBackend", EchoBackend],
  ["wagtail_ai.ai.llm.LLMBackend", LLMBackend],
  ["llm", LLMBackend],
  ["LLMBackend", LLMBackend],
  ["wagtail_ai.ai.openai.OpenAIBackend", OpenAIBackend],
  ["openai", OpenAIBackend],
  ["OpenAIBackend", OpenAIBackend],
  ["provider", ProviderBackend],
  ["ProviderBackend", ProviderBackend],
]);
