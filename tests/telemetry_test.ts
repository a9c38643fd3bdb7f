// OpenTelemetry spans: the real @opentelemetry/api tracer type fits createAI()'s `tracer`
// option, and the real SDK records one client span per attempt with the GenAI
// semantic-convention attributes. (The packages are test-only: the library needs none.)
import assert from "node:assert/strict";
import { trace } from "npm:@opentelemetry/api@^1";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "npm:@opentelemetry/sdk-trace-base@^2";
import { createAI, type TelemetryTracer } from "../mod.ts";
import { startPeer } from "./_peer.ts";
import { chainSettings, SECRETS } from "./_operations.ts";

function recordingTracer(): { tracer: TelemetryTracer; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // The OpenTelemetry Tracer type is a TelemetryTracer as it is (checked by deno check).
  const tracer: TelemetryTracer = provider.getTracer("cms-ai-test");
  return { tracer, exporter };
}

Deno.test("telemetry: the tracer of @opentelemetry/api is accepted as it is", async () => {
  const tracer: TelemetryTracer = trace.getTracer("no-op"); // no SDK: a non-recording tracer
  const ai = createAI({
    BACKENDS: { default: { CLASS: "echo", CONFIG: { MODEL_ID: "echo", TOKEN_LIMIT: 100 } } },
  }, { tracer });
  assert.equal(
    await ai.getBackend().promptWithContext({ prePrompt: "", context: "hi" }).text(),
    "This is an echo backend: hi",
  );
});

Deno.test("telemetry: each attempt is a client span with the GenAI attributes; a fallback is an error span", async () => {
  await using primary = await startPeer({ handler: () => ({ status: 503, error: "down" }) });
  await using backup = await startPeer();
  const { tracer, exporter } = recordingTracer();
  const ai = createAI({
    ...chainSettings(primary, backup),
    PRICES: { "gpt-4.1-mini": { input: 0.4, output: 1.6 } },
  }, { tracer });
  const response = ai.getBackend().promptWithContext({
    prePrompt: "Fix:",
    context: "teh text",
    metadata: { user: "42", nested: { no: 1 } },
  });
  for await (const _ of response) { /* streamed */ }
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(spans.map((span) => span.name), ["chat gpt-4o-mini", "chat gpt-4.1-mini"]);
  const [failed, answered] = spans;
  assert.equal(failed.kind, 2); // SpanKind.CLIENT
  assert.equal(failed.status.code, 2); // ERROR
  assert.match(failed.status.message ?? "", /HTTP 503/);
  assert.equal(failed.attributes["error.type"], "APIError");
  assert.equal(failed.attributes["cms_ai.fallback"], true);
  assert.equal(failed.events[0]?.name, "exception");
  assert.equal(answered.status.code, 1); // OK
  const usage = await response.usage();
  assert.deepEqual(
    {
      ...answered.attributes,
      "cms_ai.call_id": typeof answered.attributes["cms_ai.call_id"],
    },
    {
      "gen_ai.operation.name": "chat",
      "gen_ai.system": "openai_compatible",
      "gen_ai.provider.name": "openai_compatible",
      "gen_ai.request.model": "gpt-4.1-mini",
      "gen_ai.response.model": "gpt-4.1-mini",
      "gen_ai.usage.input_tokens": usage?.inputTokens,
      "gen_ai.usage.output_tokens": usage?.outputTokens,
      "cms_ai.alias": "backup",
      "cms_ai.backend": "default",
      "cms_ai.feature": "TEXT_COMPLETION",
      "cms_ai.attempt": 2,
      "cms_ai.call_id": "string",
      "cms_ai.metadata.user": "42",
      "cms_ai.cost.usd": answered.attributes["cms_ai.cost.usd"],
      "cms_ai.fallback_from": ["primary"],
    },
  );
  assert.ok((answered.attributes["cms_ai.cost.usd"] as number) > 0);
  assert.equal(failed.attributes["cms_ai.call_id"], answered.attributes["cms_ai.call_id"]);
  const all = JSON.stringify(spans.map((span) => [span.attributes, span.status, span.events]));
  for (const secret of SECRETS) assert.ok(!all.includes(secret));
  assert.ok(!all.includes("teh text"));
});

Deno.test("telemetry: a tracer that throws never breaks a request; onWarning gets it", async () => {
  await using peer = await startPeer();
  const warnings: Error[] = [];
  const ai = createAI(chainSettings(peer, peer), {
    tracer: {
      startSpan() {
        throw new Error("exporter is down");
      },
    },
    onWarning: (warning) => warnings.push(warning),
  });
  const answer = await ai.getProvider("primary").completion({
    messages: [{ role: "user", content: "Hi" }],
  });
  assert.equal(answer.choices[0].message.content, "Echo: Hi");
  assert.match(warnings[0].message, /tracer\.startSpan\(\) threw: exporter is down/);
  const broken = createAI(chainSettings(peer, peer), {
    tracer: {
      startSpan: () => ({
        setAttribute() {
          throw new Error("bad span");
        },
        setStatus: () => undefined,
        recordException: () => {},
        end: () => {},
      }),
    },
    onWarning: (warning) => warnings.push(warning),
  });
  assert.equal(
    await broken.getBackend().promptWithContext({ prePrompt: "", context: "ok" }).text(),
    "Echo: ok",
  );
  assert.match(warnings.at(-1)!.message, /A span threw: bad span/);
});

Deno.test("telemetry: createAI() refuses a tracer that is not one", () => {
  assert.throws(
    () => createAI({}, { tracer: {} as never }),
    /tracer must be an OpenTelemetry tracer \(with startSpan\(\)\)/,
  );
  assert.throws(() => createAI({}, { onEvent: "log" as never }), /onEvent must be a function/);
  assert.throws(() => createAI({}, { events: true as never }), /events must be an object/);
  assert.throws(
    () => createAI({}, { cooldownStore: {} as never }),
    /cooldownStore must have isCoolingDown\(\), recordFailure\(\) and recordSuccess\(\)/,
  );
});
