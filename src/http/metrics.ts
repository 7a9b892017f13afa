// Prometheus metrics on GET /metrics: Node's defaults under prom-client's own names, requests,
// latency, GraphQL errors by code, open subscriptions, database pool usage, how far each stream's
// tailer trails its ledger, and the consent counters (src/services/consent-metrics.ts). With
// OPTGRAPH_METRICS_TOKEN set, a scrape must carry it as a Bearer token.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Plugin } from "graphql-yoga";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/client.ts";
import { consentMetrics } from "../services/consent-metrics.ts";
import type { Runtime } from "../services/runtime.ts";
import { registerReviewMetrics } from "./review-metrics.ts";

export interface Metrics {
  readonly registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** counts the error codes of every GraphQL result */
  plugin: Plugin;
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Whether the request carries `Authorization: Bearer <token>`, compared in constant time. */
export function carriesToken(req: IncomingMessage, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  // digests have one length whatever was sent, so the comparison time says nothing about the token
  return match !== null && timingSafeEqual(digest(match[1].trim()), digest(token));
}

export function createMetrics(runtime: Runtime, db: Database): Metrics {
  const registry = new Registry();
  // no prefix: stock dashboards look for prom-client's names (process_cpu_seconds_total, nodejs_…)
  collectDefaultMetrics({ register: registry });
  for (const metric of consentMetrics) registry.registerMetric(metric);
  const requests = new Counter({
    name: "optgraph_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "optgraph_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["route"] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const errors = new Counter({
    name: "optgraph_graphql_errors_total",
    help: "GraphQL errors by extensions.code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "optgraph_subscriptions_active",
    help: "Open subscriptions on this instance by stream",
    labelNames: ["stream"] as const,
    registers: [registry],
    collect() {
      this.set({ stream: "consentChanged" }, runtime.streams.consentEvents.size);
      this.set({ stream: "keywordEventReceived" }, runtime.streams.keywordEvents.size);
    },
  });
  new Gauge({
    name: "optgraph_db_pool_connections",
    help: "PostgreSQL pool connections by state",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const pool = db.pool;
      if (!pool) return;
      this.set({ state: "total" }, pool.totalCount);
      this.set({ state: "idle" }, pool.idleCount);
      this.set({ state: "waiting" }, pool.waitingCount);
    },
  });
  new Gauge({
    name: "optgraph_stream_lag_events",
    help: "Events committed but not yet read by this instance's stream tailers (largest over organizations)",
    labelNames: ["stream"] as const,
    registers: [registry],
    async collect() {
      this.set({ stream: "consentChanged" }, await runtime.streams.consentEvents.maxLag());
      this.set({ stream: "keywordEventReceived" }, await runtime.streams.keywordEvents.maxLag());
    },
  });
  registerReviewMetrics(registry, runtime);

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route }, seconds);
    },
    plugin: {
      onResultProcess({ result }) {
        const results = Array.isArray(result) ? result : [result];
        for (const r of results) {
          const list =
            (r as { errors?: readonly { extensions?: { code?: unknown } }[] }).errors ?? [];
          for (const error of list)
            errors.inc({ code: String(error.extensions?.code ?? "UNKNOWN") });
        }
      },
    },
    async serve(req, res) {
      const token = runtime.config.metricsToken;
      if (token !== undefined && !carriesToken(req, token)) {
        res
          .writeHead(401, {
            "content-type": "text/plain; charset=utf-8",
            "www-authenticate": 'Bearer realm="metrics"',
            "cache-control": "no-store",
          })
          .end("A metrics token is required: Authorization: Bearer <OPTGRAPH_METRICS_TOKEN>\n");
        return;
      }
      const body = await registry.metrics();
      res
        .writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" })
        .end(body);
    },
  };
}
