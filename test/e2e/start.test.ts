// `npm start` as a user runs it: a real process, a fresh PGlite data directory, a restart that
// keeps the data, PostgreSQL through DATABASE_URL, and one clear line when it cannot start.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, inject } from "vitest";
import { engine } from "../support/app.ts";

const ROOT = new URL("../../", import.meta.url);

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

function startProcess(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk) => (out += chunk));
  child.stderr!.on("data", (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /ready on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ child, output: () => out, url: match[1] });
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

function run(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

function stop(started: Started): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.once("exit", (code) => resolve(code));
    started.child.kill("SIGTERM");
  });
}

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
    const first = await startProcess({ OPTGRAPH_DATA_DIR: dataDir });
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
    expect(await stop(first)).toBe(0);

    const second = await startProcess({ OPTGRAPH_DATA_DIR: dataDir });
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
    expect(await stop(second)).toBe(0);
  });

  it("fails with one clear line when the database cannot be reached", async () => {
    const result = await run({
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere",
      DB_CONNECT_TIMEOUT_MS: "2000",
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^optgraph cannot start: database: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere/,
    );
  });

  it("fails with one clear line on a bad setting", async () => {
    const result = await run({ PORT: "eighty" });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'optgraph cannot start: configuration: PORT must be a whole number, got "eighty"',
    );
  });
});

describe.runIf(engine === "postgres")("npm start on PostgreSQL", () => {
  it("starts on DATABASE_URL, migrated through the same path, and answers /readyz", async () => {
    const started = await startProcess({
      DATABASE_URL: inject("postgresUrl"),
      OPTGRAPH_ADMIN_KEY: "og_start_test_key_0123456789",
    });
    const ready = await fetch(new URL("/readyz", started.url));
    expect(await ready.json()).toEqual({ status: "ready", database: "postgres" });
    expect(await stop(started)).toBe(0);
  });
});
