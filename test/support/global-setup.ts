// Before the postgres project runs: a fresh, uniquely named database on TEST_DATABASE_URL's
// server, migrated once; dropped after the run. Runs never collide.
// Before the pglite project runs: an embedded data directory, created and migrated once, that each
// test server starts from a copy of (test/support/app.ts): PGlite's initdb takes seconds, a copy
// a fraction of one. Removed, with every copy, after the run.
// Before either: the server bundled as `npm run build` bundles it, from the sources under test, for
// the tests that start it as a process of its own (server-process.ts).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { bundleNode } from "../../scripts/bundle-node.mjs";
import { applyMigrations } from "../../src/db/migrate.ts";
import { SERVER_BUNDLE } from "./server-process.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    /** a migrated embedded data directory to copy, and where copies go */
    pgliteTemplate: { dataDir: string; copies: string };
  }
}

/** What the run needs, all started at the first project's setup: they run side by side. */
interface Prepared {
  bundle: Promise<void>;
  template: Promise<{ base: string; dataDir: string }>;
  database: Promise<{ serverUrl: string; name: string; url: string }> | null;
}
// vitest evaluates this module once per project: what is prepared is kept on the process
const PREPARED = Symbol.for("optgraph.test.prepared");
const shared = globalThis as { [PREPARED]?: Prepared };

function prepare(): Prepared {
  const quiet = <T>(promise: Promise<T>) => (promise.catch(() => undefined), promise);
  const serverUrl = process.env.TEST_DATABASE_URL;
  return (shared[PREPARED] ??= {
    bundle: quiet(bundleNode("src/main.ts", SERVER_BUNDLE)),
    template: quiet(embeddedTemplate()),
    database: serverUrl ? quiet(freshDatabase(serverUrl)) : null,
  });
}

export default async function setup(project: TestProject) {
  const work = prepare();
  await work.bundle;
  if (project.name === "pglite") {
    const { base, dataDir } = await work.template;
    project.provide("pgliteTemplate", { dataDir, copies: join(base, "copies") });
    return () => rmSync(base, { recursive: true, force: true });
  }
  if (project.name !== "postgres" || !work.database) return;
  const { serverUrl, name, url } = await work.database;
  project.provide("postgresUrl", url);
  return async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`drop database if exists "${name}" with (force)`);
    await client.end();
  };
}

async function freshDatabase(serverUrl: string) {
  const name = `optgraph_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await applyMigrations({ kind: "postgres", url: url.toString() });
  return { serverUrl, name, url: url.toString() };
}

async function embeddedTemplate() {
  const base = mkdtempSync(join(tmpdir(), "optgraph-test-pglite-"));
  const dataDir = join(base, "template");
  // in a process of its own: Prisma's migration engine is one per process, and the postgres
  // project's setup runs it here
  await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "test/support/pglite-template.ts", dataDir],
    { cwd: new URL("../../", import.meta.url) },
  );
  return { base, dataDir };
}
