// `npm start` as a user runs it: a real process, a fresh PGlite data directory, a restart that
// keeps the data, and PostgreSQL through DATABASE_URL (start-failures.test.ts: when it cannot start).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, inject } from "vitest";
import { engine } from "../support/app.ts";
import { startServer } from "../support/server-process.ts";

/** `npm start`'s command: tsx compiling the sources on the way */
const npmStart = (env: Record<string, string>) =>
  startServer({ NODE_ENV: "test", ...env }, { build: "development" });

async function query(url: string, key: string, body: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body,
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe.runIf(engine === "pglite")("npm start on the embedded database", () => {
  it("creates a data directory with a printed admin key, and a restart keeps the data", async () => {
    const parent = mkdtempSync(join(tmpdir(), "optgraph-start-"));
    dirs.push(parent);
    const dataDir = join(parent, "db");
    const first = await npmStart({ OPTGRAPH_DATA_DIR: dataDir });
    // the key is on standard error, the ready line on standard output: either may be read first
    for (let waited = 0; !/og_\S+/.test(first.output()) && waited < 5000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const key = /(og_\S+)/.exec(first.output())?.[1];
    expect(first.output()).toContain("shown only this once");
    expect(key).toBeTruthy();
    const created = await query(
      first.url,
      key!,
      JSON.stringify({
        query:
          'mutation { createSender(input: { address: "+14155550142", kind: LONG_CODE }) { sender { address } } }',
      }),
    );
    expect(created).toEqual({ data: { createSender: { sender: { address: "+14155550142" } } } });
    expect(await first.stop()).toBe(0);

    const second = await npmStart({ OPTGRAPH_DATA_DIR: dataDir });
    expect(second.output()).not.toContain("Created the default organization");
    const ready = await fetch(new URL("/readyz", second.url));
    expect(ready.status).toBe(200);
    const senders = await query(
      second.url,
      key!,
      JSON.stringify({ query: "{ senders(first: 10) { edges { node { address } } } }" }),
    );
    expect(senders).toEqual({
      data: { senders: { edges: [{ node: { address: "+14155550142" } }] } },
    });
    expect(await second.stop()).toBe(0);
  });
});

describe.runIf(engine === "postgres")("npm start on PostgreSQL", () => {
  it("starts on DATABASE_URL, migrated through the same path, and answers /readyz", async () => {
    const started = await npmStart({
      DATABASE_URL: inject("postgresUrl"),
      OPTGRAPH_ADMIN_KEY: "og_start_test_key_0123456789",
    });
    const ready = await fetch(new URL("/readyz", started.url));
    expect(await ready.json()).toEqual({ status: "ready", database: "postgres" });
    expect(await started.stop()).toBe(0);
  });
});
