// A key revoked while it holds live streams loses them within about a second: its WebSocket is
// closed with 4403 and its SSE stream ends with a final UNAUTHENTICATED error, and nothing written
// after the revocation reaches it. On one instance, and across two on one PostgreSQL, where the
// revocation is made through the other instance.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { App } from "../../src/app.ts";
import { REVOKED_CLOSE } from "../../src/http/live-connections.ts";
import { engine, PLATFORM_KEY, testApp } from "../support/app.ts";
import { startServer, type ServerProcess } from "../support/server-process.ts";
import {
  baseOf,
  ConsentChangedLean,
  ledgerWriter,
  setupOrganization,
  subscribe,
  until,
  type Feed,
} from "./support.ts";

async function gql(base: string, key: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${key}`,
      connection: "close",
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const viewerKey = async (base: string, adminKey: string) =>
  (
    await gql(
      base,
      adminKey,
      "mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }",
      { input: { name: `viewer ${Date.now()}`, role: "VIEWER" } },
    )
  ).createApiKey as { apiKey: { id: string }; secret: string };

const revoke = (base: string, adminKey: string, id: string) =>
  gql(
    base,
    adminKey,
    "mutation ($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
    {
      id,
    },
  );

/** A WebSocket and an SSE subscription of `key` on `streamBase`, each with one event delivered. */
async function liveStreams(
  streamBase: string,
  writeBase: string,
  adminKey: string,
  key: string,
  campaignId: string,
) {
  const closes: { code: number; reason: string }[] = [];
  const feeds: Record<"ws" | "sse", Feed> = {
    ws: subscribe({
      transport: "ws",
      base: streamBase,
      key,
      document: ConsentChangedLean,
      variables: { campaignId },
      onClosed: (event) => closes.push(event),
    }),
    sse: subscribe({
      transport: "sse",
      base: streamBase,
      key,
      document: ConsentChangedLean,
      variables: { campaignId },
    }),
  };
  const writer = ledgerWriter(writeBase, adminKey, campaignId, 1);
  // written until both streams have delivered something: then both are live on the server
  await until(
    async () => {
      await writer.write(1);
      return feeds.ws.items.length > 0 && feeds.sse.items.length > 0;
    },
    "both streams to deliver an event",
    20_000,
    200,
  );
  return { feeds, closes, writer };
}

async function expectEnded(streams: Awaited<ReturnType<typeof liveStreams>>, revokedAt: number) {
  const { feeds, closes, writer } = streams;
  await until(() => closes.length > 0 && feeds.sse.ended, "both streams to end", 10_000);
  // the key cache's second, a recheck's second, and a loaded machine's slack
  expect(performance.now() - revokedAt).toBeLessThan(4000);
  expect(closes[0]).toEqual(REVOKED_CLOSE);
  expect(feeds.sse.errors).toEqual([
    expect.objectContaining({ extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) }),
  ]);
  const delivered = { ws: feeds.ws.items.length, sse: feeds.sse.items.length };
  await writer.write(2);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect({ ws: feeds.ws.items.length, sse: feeds.sse.items.length }).toEqual(delivered);
  await Promise.all([feeds.ws.close(), feeds.sse.close()]);
}

describe("revoking a key ends its live streams", () => {
  let app: App;
  beforeAll(async () => {
    app = await testApp();
  });

  it("on this instance: 4403 over WebSocket, a final error over SSE", async () => {
    const base = baseOf(app);
    const org = await setupOrganization(base, PLATFORM_KEY);
    const viewer = await viewerKey(base, org.key);
    const streams = await liveStreams(base, base, org.key, viewer.secret, org.campaignId);
    const revokedAt = performance.now();
    await revoke(base, org.key, viewer.apiKey.id);
    await expectEnded(streams, revokedAt);
  });
});

describe.runIf(engine === "postgres")("revoking a key through another instance", () => {
  let other: ServerProcess | undefined;
  beforeAll(async () => {
    other = await startServer(
      {
        NODE_ENV: "test",
        DATABASE_URL: inject("postgresUrl"),
        OPTGRAPH_ADMIN_KEY: PLATFORM_KEY,
        OPTGRAPH_RATE_LIMIT_ADMIN: "0",
        OPTGRAPH_RATE_LIMIT_VIEWER: "0",
      },
      { readyTimeoutMs: 30_000 },
    );
  });
  afterAll(() => other?.stop());

  it("ends the streams another instance holds for it", async () => {
    const base = baseOf(await testApp());
    const org = await setupOrganization(base, PLATFORM_KEY);
    const viewer = await viewerKey(base, org.key);
    // the streams live on the other instance; the revocation is made through this one
    const streams = await liveStreams(other!.base, base, org.key, viewer.secret, org.campaignId);
    const revokedAt = performance.now();
    await revoke(base, org.key, viewer.apiKey.id);
    await expectEnded(streams, revokedAt);
  });
});
