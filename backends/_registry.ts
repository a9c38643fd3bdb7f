// The backend CLASS registry: upstream dotted names, short names and names
// added with registerBackendClass().
import { EchoBackend } from "./echo.ts";
import type { BackendClass } from "./types.ts";

export const backendClasses: Map<string, BackendClass> = new Map<string, BackendClass>([
  ["wagtail_ai.ai.echo.EchoBackend", EchoBackend],
  ["echo", EchoBackend],
  ["EchoBackend", EchoBackend],
]);
