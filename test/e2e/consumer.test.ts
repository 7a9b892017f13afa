// A consumer's project as the README sets it up: docs/consumers/codegen.ts generates typed documents
// from a running server's GET /schema.graphql (no key), the project type-checks under
// "module": "NodeNext", and its typed query (sent as a persisted document: `documentId` only, from
// the persisted-documents.json codegen wrote, which the server reads as its registry) and typed
// subscription (graphql-ws) run against a live server. The scratch project borrows this
// repository's node_modules, so it needs no network.
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { PLATFORM_KEY, engine, testApp, testEnv } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { OptIn } from "../support/documents.ts";
import { ok } from "../support/graphql.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const bin = (path: string) => join(ROOT, "node_modules", path);

/** The consumer's own code: one typed query, one typed subscription. */
const CONSUMER = `
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { graphql } from "./gql/index.js";
import type { ConsentStatus } from "./gql/graphql.js";

const Viewer = graphql(\`
  query ConsumerViewer {
    viewer {
      role
      organization {
        name
      }
    }
  }
\`);
const Changes = graphql(\`
  subscription ConsumerChanges($campaignId: ID!, $after: String) {
    consentChanged(campaignId: $campaignId, after: $after) {
      toStatus
      subscriber {
        phone
      }
    }
  }
\`);

const { OPTGRAPH_URL, OPTGRAPH_KEY, CAMPAIGN_ID, AFTER } = process.env as Record<string, string>;

// a persisted document: its id alone, as codegen's persistedDocuments mode sends it
const documentId: string = (Viewer as unknown as { __meta__: { hash: string } }).__meta__.hash;
const response = await fetch(OPTGRAPH_URL, {
  method: "POST",
  headers: { "content-type": "application/json", authorization: \`Bearer \${OPTGRAPH_KEY}\` },
  body: JSON.stringify({ documentId }),
});
const body = (await response.json()) as { data?: import("./gql/graphql.js").ConsumerViewerQuery };
const role: "ADMIN" | "OPERATOR" | "PARTNER" | "VIEWER" | undefined = body.data?.viewer.role;

const client = createClient({
  url: OPTGRAPH_URL.replace("http", "ws"),
  webSocketImpl: WebSocket,
  connectionParams: { authorization: \`Bearer \${OPTGRAPH_KEY}\` },
  retryAttempts: 0,
});
const first = await new Promise<{ status: ConsentStatus; phone: string }>((resolve, reject) => {
  const stop = client.subscribe<import("./gql/graphql.js").ConsumerChangesSubscription>(
    { query: print(Changes), variables: { campaignId: CAMPAIGN_ID, after: AFTER } },
    {
      next: ({ data, errors }) => {
        if (errors || !data) return reject(new Error(JSON.stringify(errors)));
        stop();
        resolve({ status: data.consentChanged.toStatus, phone: data.consentChanged.subscriber.phone });
      },
      error: reject,
      complete: () => undefined,
    },
  );
});
await client.dispose();
console.log(JSON.stringify({ status: response.status, role, organization: body.data?.viewer.organization.name, first }));
`;

const dirs: string[] = [];
let persisted: App | undefined;
afterAll(async () => {
  await persisted?.stop();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

describe.runIf(engine === "pglite")("a consumer project", () => {
  it("generates from GET /schema.graphql, type-checks under NodeNext, and runs a persisted query and a subscription", async () => {
    const shared = await testApp();
    const project = mkdtempSync(join(tmpdir(), "optgraph-consumer-"));
    dirs.push(project);
    symlinkSync(join(ROOT, "node_modules"), join(project, "node_modules"), "dir");
    mkdirSync(join(project, "src"));
    copyFileSync(join(ROOT, "docs/consumers/codegen.ts"), join(project, "codegen.ts"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          skipLibCheck: true,
          verbatimModuleSyntax: true,
          types: ["node"],
          noEmit: true,
        },
        include: ["src"],
      }),
    );
    writeFileSync(join(project, "src/consumer.ts"), CONSUMER);

    const schemaUrl = `http://127.0.0.1:${shared.server.port}/schema.graphql`;
    await run(process.execPath, [bin("@graphql-codegen/cli/cjs/bin.js"), "--silent"], {
      cwd: project,
      env: { ...process.env, OPTGRAPH_SCHEMA: schemaUrl },
    });
    await run(process.execPath, [bin("typescript/bin/tsc"), "-p", "."], { cwd: project });

    // the server takes codegen's persisted-documents.json as its registry
    persisted = await startApp(
      loadConfig(
        testEnv({
          OPTGRAPH_PERSISTED_OPERATIONS: join(project, "src/gql/persisted-documents.json"),
        }),
      ),
      { pglite: shared.db.pglite },
    );
    const campaign = await createCampaign(PLATFORM_KEY, { purpose: "INFORMATIONAL" });
    const first = await ok(PLATFORM_KEY, OptIn, {
      input: { phone: "+14155550131", campaignId: campaign.id, method: "WEB_FORM" },
    });
    await ok(PLATFORM_KEY, OptIn, {
      input: { phone: "+14155550132", campaignId: campaign.id, method: "WEB_FORM" },
    });

    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/consumer.ts"], {
      cwd: project,
      env: {
        ...process.env,
        OPTGRAPH_URL: `http://127.0.0.1:${persisted.server.port}/graphql`,
        OPTGRAPH_KEY: PLATFORM_KEY,
        CAMPAIGN_ID: campaign.id,
        AFTER: first.optIn.event!.cursor,
      },
    });
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({
      status: 200,
      role: "ADMIN",
      organization: expect.any(String),
      first: { status: "OPTED_IN", phone: "+14155550132" },
    });
  }, 180_000);
});
