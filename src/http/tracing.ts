// OpenTelemetry tracing, configured by the standard OTEL_* variables and exported as OTLP over
// HTTP: a span per GraphQL operation (@envelop/opentelemetry), Prisma's queries under it
// (@prisma/instrumentation) and the plain SQL statements and transactions (src/db/traced.ts). Off
// unless an OTLP endpoint is set; the SDK is then never loaded: every OpenTelemetry package is
// imported here, dynamically, when tracing starts (so a bundle can keep them external too).
// Spans carry operation names and types and statement kinds, never variables, documents, results
// or error messages (they may hold phone numbers): a failed operation records its error codes.
import type { Context as OtelContext, Span, Tracer, TracerProvider } from "@opentelemetry/api";
import type { Plugin } from "graphql-yoga";
import type { TracingConfig } from "../config.ts";
import type { Database } from "../db/client.ts";

export interface Tracing {
  /** the Envelop plugins: the operation span, with the caller's W3C trace context as its parent */
  readonly plugins: Plugin[];
  /** the database with its plain SQL traced */
  traceDatabase(db: Database): Database;
  /** exports the spans still buffered and unregisters the SDK */
  shutdown(): Promise<void>;
}

/** The codes of a result's errors, as clients will see them. */
function errorCodes(errors: readonly unknown[]): string {
  const codes = errors.map((error) => {
    const { extensions, originalError } = error as {
      extensions?: { code?: unknown };
      originalError?: { code?: unknown };
    };
    const code = extensions?.code ?? originalError?.code;
    return typeof code === "string" ? code : "INTERNAL_SERVER_ERROR";
  });
  return [...new Set(codes)].join(",");
}

/**
 * A provider whose spans record an exception as the operation's error codes (noted by the
 * trace-context plugin before the span ends), never as the errors' text.
 */
function withoutMessages(provider: TracerProvider, codes: WeakMap<Span, string>): TracerProvider {
  const redact = (span: Span): Span => {
    const record = span.recordException.bind(span);
    span.recordException = (exception, time) => {
      const name = typeof exception === "string" ? "Error" : (exception.name ?? "Error");
      record({ name, message: codes.get(span) ?? "GraphQL errors" }, time);
    };
    return span;
  };
  return {
    getTracer(name, version, options) {
      const tracer = provider.getTracer(name, version, options);
      return {
        startSpan: (spanName, spanOptions, context) =>
          redact(tracer.startSpan(spanName, spanOptions, context)),
        startActiveSpan: tracer.startActiveSpan.bind(tracer),
      } as Tracer;
    },
  };
}

export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const [api, sdk, resources, exporterModule, envelop, prismaInstrumentation, { tracedDatabase }] =
    await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/sdk-trace-node"),
      import("@opentelemetry/resources"),
      config.protocol === "http/json"
        ? import("@opentelemetry/exporter-trace-otlp-http")
        : import("@opentelemetry/exporter-trace-otlp-proto"),
      import("@envelop/opentelemetry"),
      import("@prisma/instrumentation"),
      import("../db/traced.ts"),
    ]);

  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the default name
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": "optgraph" }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  // the exporter reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT; the provider
  // OTEL_TRACES_SAMPLER(_ARG) and OTEL_BSP_*
  const provider = new sdk.NodeTracerProvider({
    resource,
    spanProcessors: [new sdk.BatchSpanProcessor(new exporterModule.OTLPTraceExporter())],
  });
  provider.register(); // the AsyncLocalStorage context manager and the W3C propagators

  const prisma = new prismaInstrumentation.PrismaInstrumentation({ enabled: false });
  prisma.setTracerProvider(provider);
  prisma.enable();

  const codes = new WeakMap<Span, string>();
  const operations = envelop.useOpenTelemetry(
    { resolvers: false, variables: false, result: false, document: false },
    withoutMessages(provider, codes),
    api.SpanKind.SERVER,
    {},
    "optgraph",
  );
  const headerGetter = {
    get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
    keys: (headers: Headers) => [...headers.keys()],
  };
  // Runs before the operation span's plugin: the caller's traceparent (an HTTP request's headers)
  // becomes the span's parent, and a failed result's codes are on the span before it ends.
  const traceContext: Plugin = {
    onContextBuilding({ context }) {
      const request = (context as { request?: Request }).request;
      if (!request?.headers) return;
      const parent: OtelContext = api.propagation.extract(
        api.ROOT_CONTEXT,
        request.headers,
        headerGetter,
      );
      envelop.setCurrentOtelContext(context, parent);
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result }) {
          if (!("errors" in result) || !result.errors?.length) return;
          const span = api.trace.getSpan(envelop.getCurrentOtelContext(args.contextValue));
          if (!span) return;
          const list = errorCodes(result.errors);
          codes.set(span, list);
          span.setAttribute("graphql.error.codes", list);
        },
      };
    },
  };
  const tracer = provider.getTracer("optgraph");

  return {
    plugins: [traceContext, operations as Plugin],
    traceDatabase: (db) => tracedDatabase(db, tracer),
    shutdown: async () => {
      prisma.disable();
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
