// OpenTelemetry tracing against a local OTLP/HTTP receiver: the standard OTEL_* variables turn it
// on; each GraphQL operation is a span named by its type and name, with its database work (plain
// SQL statements, the ledger writer's transaction, Prisma's queries) beneath it; spans carry no
// phone number; a caller's traceparent is the operation's parent. Off, no OpenTelemetry SDK
// module is even loaded (checked in a process of its own).
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { onceAcrossEngines, PLATFORM_KEY, testEnv } from "../support/app.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
  resource: Record<string, unknown>;
}

type KeyValue = { key: string; value: Record<string, unknown> };
const attributesOf = (list: KeyValue[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));

/** An OTLP/HTTP receiver (JSON encoding) that keeps every span it is sent. */
function otlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      paths.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
      // protobuf (the default protocol) is only counted: the spans are read from JSON
      if (req.headers["content-type"] !== "application/json") {
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans: {
          resource: { attributes: KeyValue[] };
          scopeSpans: {
            spans: (Omit<ReceivedSpan, "attributes" | "events" | "resource"> & {
              attributes: KeyValue[];
              events?: { name: string; attributes: KeyValue[] }[];
            })[];
          }[];
        }[];
      };
      for (const { resource, scopeSpans } of body.resourceSpans) {
        for (const { spans: list } of scopeSpans) {
          for (const span of list) {
            spans.push({
              ...span,
              parentSpanId: span.parentSpanId || undefined,
              attributes: attributesOf(span.attributes),
              events: (span.events ?? []).map((e) => ({
                name: e.name,
                attributes: attributesOf(e.attributes),
              })),
              resource: attributesOf(resource.attributes),
            });
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return { server, spans, paths };
}

const OTEL_ENV = (port: number) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  OTEL_SERVICE_NAME: "optgraph-under-test",
  OTEL_BSP_SCHEDULE_DELAY: "50",
});

const PHONE = "+14155550177";
const PHONE_DIGITS = "4155550177";

describe("tracing on (OTLP over HTTP)", () => {
  const receiver = otlpReceiver();
  let app: App;
  let url: string;
  const saved: Record<string, string | undefined> = {};

  async function post(key: string, query: string, variables = {}, headers = {}) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: any[] };
  }

  /** The spans of the trace of the operation span with this name, once `least` of them arrived. */
  async function spansOf(operation: string, least = 2): Promise<ReceivedSpan[]> {
    let found: ReceivedSpan[] = [];
    await expect
      .poll(
        () => {
          const root = receiver.spans.find((s) => s.name === operation);
          if (!root) return false;
          found = receiver.spans.filter((s) => s.traceId === root.traceId);
          return found.length >= least;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(true);
    return found;
  }

  const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
    spans.filter((s) => s.parentSpanId === parent.spanId);

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    const env = OTEL_ENV((receiver.server.address() as AddressInfo).port);
    // the SDK reads the OTEL_* variables from the process's environment itself
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    app = await startApp(loadConfig(testEnv(env)), { logError: () => undefined });
    url = `http://127.0.0.1:${app.server.port}/graphql`;
  });

  afterAll(async () => {
    await app?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  it("sends a span per operation with its database work beneath it, and no phone number", async () => {
    const org = await post(
      PLATFORM_KEY,
      "mutation TracedOrganization($name: String!) { createOrganization(input: { name: $name }) { secret } }",
      { name: `traced ${Date.now()}` },
    );
    const key = org.data.createOrganization.secret as string;
    const sender = await post(
      key,
      "mutation TracedSender($a: String!) { createSender(input: { address: $a, kind: LONG_CODE }) { sender { id } } }",
      { a: uniqueLongCode() },
    );
    const campaign = await post(
      key,
      `mutation TracedCampaign($input: CreateCampaignInput!) {
        createCampaign(input: $input) { campaign { id } }
      }`,
      {
        input: {
          name: "Traced",
          purpose: "INFORMATIONAL",
          senderId: sender.data.createSender.sender.id,
          disclosures: disclosures(),
        },
      },
    );
    const campaignId = campaign.data.createCampaign.campaign.id as string;
    await post(
      key,
      "mutation TracedActivate($id: ID!) { setCampaignStatus(input: { id: $id, status: ACTIVE }) { campaign { status } } }",
      { id: campaignId },
    );
    const optIn = await post(
      key,
      "mutation TracedOptIn($phone: String!, $c: ID!) { optIn(input: { phone: $phone, campaignId: $c, method: API }) { changed } }",
      { phone: PHONE, c: campaignId },
    );
    expect(optIn.data.optIn.changed).toBe(true);
    const canSend = await post(
      key,
      "query TracedCanSend($phone: String!, $c: ID!) { canSend(phone: $phone, campaignId: $c) { allowed } }",
      { phone: PHONE, c: campaignId },
    );
    expect(canSend.data.canSend.allowed).toBe(true);

    // the query: the operation span, and the canSend lookup (plain SQL) as its child
    const query = await spansOf("query.TracedCanSend");
    const operation = query.find((s) => s.name === "query.TracedCanSend")!;
    expect(operation.attributes).toMatchObject({
      "graphql.execute.operationName": "TracedCanSend",
      "graphql.execute.operationType": "query",
    });
    expect(operation.resource["service.name"]).toBe("optgraph-under-test");
    const lookup = childrenOf(query, operation).find((s) => s.name === "SELECT");
    expect(lookup?.attributes).toMatchObject({
      "db.operation.name": "SELECT",
      "db.system.name": "postgresql",
    });

    // the mutation: the ledger writer's transaction beneath it, its statements beneath that
    const mutation = await spansOf("mutation.TracedOptIn");
    const write = mutation.find((s) => s.name === "mutation.TracedOptIn")!;
    expect(write.attributes["graphql.execute.operationType"]).toBe("mutation");
    const transaction = mutation.find((s) => s.name === "transaction");
    expect(transaction).toBeDefined();
    const ancestors = (span: ReceivedSpan): string[] => {
      const parent = mutation.find((s) => s.spanId === span.parentSpanId);
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };
    expect(ancestors(transaction!)).toContain("mutation.TracedOptIn");
    const statements = childrenOf(mutation, transaction!).map(
      (s) => s.attributes["db.operation.name"],
    );
    // its reads, then its one write: the rows in the parts of a WITH, the ledger head updated last
    expect(statements).toEqual(expect.arrayContaining(["SELECT", "UPDATE"]));

    // Prisma's queries are traced too, under the operation that ran them
    const created = await spansOf("mutation.TracedSender");
    const prisma = created.filter((s) => s.name.startsWith("prisma:client:"));
    expect(prisma.map((s) => s.name)).toContain("prisma:client:operation");
    expect(created.find((s) => s.name === "prisma:client:operation")!.parentSpanId).toBe(
      created.find((s) => s.name === "mutation.TracedSender")!.spanId,
    );

    const everything = JSON.stringify(receiver.spans);
    expect(everything).not.toContain(PHONE_DIGITS);
    expect(receiver.paths[0]).toMatch(/^POST \/v1\/traces application\/json/);
  });

  it("records a failed operation's error codes, not its message", async () => {
    const result = await post(
      PLATFORM_KEY,
      'query TracedBadPhone($c: ID!) { canSend(phone: "415555017", campaignId: $c) { allowed } }',
      // a well-formed campaign ID: the number is checked first
      { c: Buffer.from("Campaign:00000000-0000-4000-8000-000000000000").toString("base64") },
    );
    expect(result.errors?.[0].message).toContain("415555017");
    expect(result.errors?.[0].extensions.code).toBe("BAD_USER_INPUT");
    const operation = (await spansOf("query.TracedBadPhone", 1)).find(
      (s) => s.name === "query.TracedBadPhone",
    )!;
    expect(operation.attributes["graphql.error.codes"]).toBe("BAD_USER_INPUT");
    expect(operation.events.map((e) => e.attributes["exception.message"])).toEqual([
      "BAD_USER_INPUT",
    ]);
    expect(JSON.stringify(operation)).not.toContain("415555017");
  });

  it("continues the caller's trace (W3C traceparent)", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentId = "00f067aa0ba902b7";
    await post(
      PLATFORM_KEY,
      "query TracedViewer { viewer { role } }",
      {},
      {
        traceparent: `00-${traceId}-${parentId}-01`,
      },
    );
    await expect
      .poll(() => receiver.spans.find((s) => s.name === "query.TracedViewer"), { timeout: 10_000 })
      .toMatchObject({ traceId, parentSpanId: parentId });
  });
});

/**
 * Starts the app in a process of its own, sends it a query, and reports the OpenTelemetry modules
 * the process loaded (ES modules through a resolve hook, CommonJS ones from require.cache).
 */
function modulesLoaded(env: Record<string, string>): Promise<string[]> {
  const hook = `
    let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      port.postMessage(result.url);
      return result;
    }`;
  const script = `
    import { register, createRequire } from "node:module";
    import { MessageChannel } from "node:worker_threads";
    const urls = [];
    const { port1, port2 } = new MessageChannel();
    port1.on("message", (url) => urls.push(url));
    port1.unref();
    register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}), {
      data: { port: port2 },
      transferList: [port2],
    });
    const { startApp } = await import("./src/app.ts");
    const { loadConfig } = await import("./src/config.ts");
    const app = await startApp(loadConfig());
    const response = await fetch("http://127.0.0.1:" + app.server.port + "/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer ${PLATFORM_KEY}" },
      body: JSON.stringify({ query: "{ viewer { role } }" }),
    });
    if (response.status !== 200) throw new Error("query failed: " + response.status);
    await app.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify([...urls, ...cjs]));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "--eval", script],
      { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    // a test that fails or times out leaves no process behind to load the machine
    onTestFinished(() => {
      child.kill("SIGKILL");
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`exit ${code}: ${err}`));
      const loaded = JSON.parse(out.trim().split("\n").at(-1)!) as string[];
      resolve(loaded.filter((m) => /opentelemetry|@prisma[\\/]instrumentation/.test(m)));
    });
  });
}

// which modules a process loads does not depend on its database: once
describe.runIf(onceAcrossEngines)("tracing off", () => {
  // prom-client requires @opentelemetry/api (its exemplars) whatever we do: only the API, no SDK
  const SDK =
    /@opentelemetry[\\/](?!api[\\/])|@envelop[\\/]opentelemetry|@prisma[\\/]instrumentation/;

  it("loads no OpenTelemetry SDK module without an OTLP endpoint, and loads it with one", async () => {
    const receiver = otlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    const port = (receiver.server.address() as AddressInfo).port;
    // a database each: the two processes run at once
    const base = () => testEnv({ LOG_LEVEL: "silent" });
    try {
      const [off, on] = await Promise.all([
        modulesLoaded({ ...base(), OTEL_SERVICE_NAME: "optgraph" }),
        // the default protocol this time: OTLP/HTTP with protobuf
        modulesLoaded({ ...base(), ...OTEL_ENV(port), OTEL_EXPORTER_OTLP_PROTOCOL: "" }),
      ]);
      expect(off.filter((m) => SDK.test(m))).toEqual([]);
      // the same check sees the SDK when tracing is on
      expect(on.some((m) => /@opentelemetry[\\/]sdk-trace-node/.test(m))).toBe(true);
      expect(on.some((m) => /@envelop[\\/]opentelemetry/.test(m))).toBe(true);
      expect(on.some((m) => /@prisma[\\/]instrumentation/.test(m))).toBe(true);
      expect(on.some((m) => /exporter-trace-otlp-proto/.test(m))).toBe(true);
      // and its spans were sent (the app's stop flushes them)
      expect(receiver.paths).toContain("POST /v1/traces application/x-protobuf");
    } finally {
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  }, 300_000);
});
