// The gates of a production-configured server: per-key rate limits counted per root field,
// persisted-only operations for PARTNER keys, introspection and suggestions off, the WebSocket
// origin check, and the metrics those leave behind.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { PLATFORM_KEY, testEnv } from "../support/app.ts";
import { disclosures, uniqueLongCode } from "../support/fixtures.ts";

const REGISTERED = "query PersistedViewer { viewer { role } }";
// an entry as GraphQL Code Generator's persistedDocuments writes it: `sha256:<hex>` → document
const GENERATED = "query GeneratedViewer { viewer { role organization { id } } }";
const GENERATED_HASH = createHash("sha256").update(GENERATED).digest("hex");

let app: App;
let url: string;

async function post(key: string, body: Record<string, unknown>) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as any,
  };
}

async function data(key: string, query: string, variables: Record<string, unknown> = {}) {
  const { body } = await post(key, { query, variables });
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

let adminKey: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "optgraph-persisted-"));
  const manifest = join(dir, "persisted-documents.json");
  writeFileSync(
    manifest,
    JSON.stringify({ "viewer-role-v1": REGISTERED, [`sha256:${GENERATED_HASH}`]: GENERATED }),
  );
  app = await startApp(
    loadConfig(
      testEnv({
        NODE_ENV: "production",
        LOG_LEVEL: "silent",
        OPTGRAPH_RATE_LIMIT_OPERATOR: "3",
        OPTGRAPH_PERSISTED_OPERATIONS: manifest,
        OPTGRAPH_ALLOWED_ORIGINS: "https://admin.example",
      }),
    ),
    { logError: () => undefined },
  );
  url = `http://127.0.0.1:${app.server.port}/graphql`;
  const created = await data(
    PLATFORM_KEY,
    "mutation($n: String!) { createOrganization(input: { name: $n }) { secret } }",
    {
      n: `gates ${Date.now()}`,
    },
  );
  adminKey = created.createOrganization.secret;
});

afterAll(() => app?.stop());

async function keyWithRole(role: string, campaignIds?: string[]) {
  const result = await data(
    adminKey,
    "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }",
    { i: { name: `${role} key`, role, campaignIds } },
  );
  return result.createApiKey.secret as string;
}

describe("rate limits", () => {
  it("counts every root field (aliases included) against the key, and answers 429 RATE_LIMITED", async () => {
    const key = await keyWithRole("OPERATOR");
    const three = "{ a: viewer { role } b: viewer { role } c: viewer { role } }";
    expect((await post(key, { query: three })).body).toEqual({
      data: { a: { role: "OPERATOR" }, b: { role: "OPERATOR" }, c: { role: "OPERATOR" } },
    });
    const refused = await post(key, { query: "{ viewer { role } }" });
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe("RATE_LIMITED");
    expect(refused.body.errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    // another key of the same role has its own bucket
    const other = await keyWithRole("OPERATOR");
    expect((await post(other, { query: "{ viewer { role } }" })).status).toBe(200);
    // four aliases never fit in a bucket of three
    const four = await keyWithRole("OPERATOR");
    const tooMany = await post(four, {
      query: "{ a: viewer { role } b: viewer { role } c: viewer { role } d: viewer { role } }",
    });
    expect(tooMany.body.errors[0].extensions.code).toBe("RATE_LIMITED");
  });
});

describe("persisted operations for PARTNER keys", () => {
  it("lets a PARTNER key run only registered operations, and an ADMIN key anything", async () => {
    const sender = await data(
      adminKey,
      "mutation($a: String!) { createSender(input: { address: $a, kind: LONG_CODE }) { sender { id } } }",
      {
        a: uniqueLongCode(),
      },
    );
    const campaign = await data(
      adminKey,
      "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
      {
        i: {
          name: "Partner program",
          purpose: "MARKETING",
          senderId: sender.createSender.sender.id,
          disclosures: disclosures(),
        },
      },
    );
    const partner = await keyWithRole("PARTNER", [campaign.createCampaign.campaign.id]);

    const adHoc = await post(partner, { query: "{ viewer { role } }" });
    expect(adHoc.body.errors[0].extensions.code).toBe("FORBIDDEN");
    expect(adHoc.body.data ?? null).toBeNull();
    expect((await post(partner, { query: REGISTERED })).body).toEqual({
      data: { viewer: { role: "PARTNER" } },
    });
    expect(
      (
        await post(partner, {
          extensions: { persistedQuery: { version: 1, sha256Hash: "viewer-role-v1" } },
        })
      ).body,
    ).toEqual({
      data: { viewer: { role: "PARTNER" } },
    });
    expect((await post(adminKey, { query: "{ viewer { role } }" })).body).toEqual({
      data: { viewer: { role: "ADMIN" } },
    });

    // codegen's entries: by `documentId` as its client sends it, and by Apollo's bare sha256
    const generated = { viewer: { role: "PARTNER", organization: { id: expect.any(String) } } };
    const byDocumentId = await post(partner, { documentId: `sha256:${GENERATED_HASH}` });
    expect(byDocumentId.body).toEqual({ data: generated });
    const byApolloHash = await post(partner, {
      extensions: { persistedQuery: { version: 1, sha256Hash: GENERATED_HASH } },
    });
    expect(byApolloHash.body).toEqual({ data: generated });
    const unknown = await post(partner, { documentId: "sha256:0000" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0].extensions.code).toBe("NOT_FOUND");
  });
});

describe("schema exposure in production", () => {
  it("refuses introspection, gives no field suggestions, and serves no GraphiQL", async () => {
    const introspection = await post(adminKey, { query: "{ __schema { types { name } } }" });
    expect(introspection.body.errors?.length).toBeGreaterThan(0);
    expect(introspection.body.data ?? null).toBeNull();
    const typo = await post(adminKey, { query: "{ viewr { role } }" });
    expect(typo.body.errors[0].message).not.toMatch(/Did you mean/);
    expect(typo.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const page = await fetch(url, { headers: { accept: "text/html" } });
    expect(await page.text()).not.toMatch(/graphiql/i);
  });
});

describe("WebSocket origin check", () => {
  const connect = (origin: string | undefined) =>
    new Promise<string>((resolve) => {
      const client = createClient({
        url: url.replace("http", "ws"),
        webSocketImpl: class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, origin ? { headers: { origin } } : {});
          }
        },
        connectionParams: { authorization: `Bearer ${adminKey}` },
        retryAttempts: 0,
        lazy: false,
        on: { connected: () => resolve("connected") },
        onNonLazyError: (error) =>
          resolve(
            `refused: ${String((error as Error).message ?? (error as CloseEvent).code ?? error)}`,
          ),
      });
      setTimeout(() => {
        void client.dispose();
      }, 2000);
    });

  it("accepts no Origin, the same host and listed origins, and refuses others", async () => {
    expect(await connect(undefined)).toBe("connected");
    expect(await connect("https://admin.example")).toBe("connected");
    expect(await connect(`http://127.0.0.1:${app.server.port}`)).toBe("connected");
    expect(await connect("https://evil.example")).toMatch(/^refused/);
  });
});

describe("metrics", () => {
  it("exposes request, error-code, subscription and pool metrics in Prometheus format", async () => {
    const response = await fetch(url.replace("/graphql", "/metrics"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    expect(text).toMatch(
      /optgraph_http_requests_total\{route="\/graphql",method="POST",status="200"\} \d+/,
    );
    expect(text).toMatch(/optgraph_graphql_errors_total\{code="RATE_LIMITED"\} [1-9]/);
    expect(text).toMatch(/optgraph_subscriptions_active\{stream="consentChanged"\} \d+/);
    expect(text).toMatch(/optgraph_http_request_duration_seconds_bucket/);
  });
});
