// Tests the migrations and src/db/migrate.ts on the wasm schema engine: on an in-memory PGlite and,
// when TEST_DATABASE_URL is set, on a fresh PostgreSQL database that the test creates and drops.
import { randomBytes } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyMigrations,
  createMigration,
  DEFAULT_MIGRATIONS_DIR,
  type MigrationTarget,
} from "../../src/db/migrate.ts";
import { migrationsApplied } from "../../src/db/migrations-applied.ts";

type Engine = "pglite" | "postgres";

// Under the projects of vitest.config.ts each project tests its own engine; run alone, both.
const only = process.env.OPTGRAPH_TEST_ENGINE;
const serverUrl = process.env.TEST_DATABASE_URL;
const engines: Engine[] = [];
if (!only || only === "pglite") engines.push("pglite");
if (serverUrl && (!only || only === "postgres")) engines.push("postgres");

interface TestDb {
  target: MigrationTarget;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** An empty in-memory PGlite's data directory, made once: loading it is a second, initdb several. */
let emptyDataDir: Promise<Blob> | undefined;

/** A fresh, empty in-memory PGlite (from the one initdb this file runs). */
async function emptyPglite(): Promise<PGlite> {
  emptyDataDir ??= (async () => {
    const first = await PGlite.create();
    try {
      return await first.dumpDataDir("none");
    } finally {
      await first.close();
    }
  })();
  return PGlite.create({ loadDataDir: await emptyDataDir });
}

/** An empty database: an in-memory PGlite, or a uniquely named database on TEST_DATABASE_URL's server. */
async function openDb(engine: Engine): Promise<TestDb> {
  if (engine === "pglite") {
    const pglite = await emptyPglite();
    return {
      target: { kind: "pglite", pglite },
      query: async <T>(sql: string, params?: unknown[]) =>
        (await pglite.query<T>(sql, params)).rows,
      close: () => pglite.close(),
    };
  }
  const name = `optgraph_migrate_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl!);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return {
    target: { kind: "postgres", url: url.toString() },
    query: async <T>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as T[],
    close: async () => {
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

const committed = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

const MODELS = [
  "ApiKey",
  "Campaign",
  "Consent",
  "ConsentEvent",
  "DisclosureVersion",
  "IdempotencyRecord",
  "KeywordEvent",
  "Organization",
  "Sender",
  "Subscriber",
];

/** A migrations directory in the temp dir holding the given migrations. */
function tempMigrations(migrations: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "optgraph-migrations-"));
  writeFileSync(join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

describe.each(engines)("committed migrations on %s", (engine) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openDb(engine);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("applies every committed migration once; a second apply applies nothing", async () => {
    expect(committed.length).toBeGreaterThanOrEqual(2);
    expect(await applyMigrations(db.target)).toEqual({ applied: committed });
    expect(await applyMigrations(db.target)).toEqual({ applied: [] });

    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([...MODELS, "_prisma_migrations"]),
    );

    const rows = await db.query<{
      migration_name: string;
      finished: boolean;
      rolled_back: boolean;
      applied_steps_count: number;
    }>(
      `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back,
              applied_steps_count FROM _prisma_migrations ORDER BY migration_name`,
    );
    expect(rows).toEqual(
      committed.map((migration_name) => ({
        migration_name,
        finished: true,
        rolled_back: false,
        applied_steps_count: 1,
      })),
    );
  });

  it("tells a start-up whether the schema engine is needed: every migration applied, same checksum", async () => {
    const check = (dir = DEFAULT_MIGRATIONS_DIR) =>
      migrationsApplied(dir, (text) => db.query(text));
    // applied by the test before: the start-up skips the engine
    expect(await check()).toBe(true);
    // a migration on disk the database lacks, or one changed since it was applied: the engine
    const dir = mkdtempSync(join(tmpdir(), "optgraph-migrations-applied-"));
    try {
      cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
      mkdirSync(join(dir, "29990101000000_later"));
      writeFileSync(join(dir, "29990101000000_later", "migration.sql"), "SELECT 1;");
      expect(await check(dir)).toBe(false);
      rmSync(join(dir, "29990101000000_later"), { recursive: true });
      expect(await check(dir)).toBe(true);
      const first = committed[0];
      writeFileSync(
        join(dir, first, "migration.sql"),
        `${readFileSync(join(dir, first, "migration.sql"), "utf8")}\n-- changed\n`,
      );
      expect(await check(dir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // no migrations table at all (a new database): the engine
    expect(
      await migrationsApplied(DEFAULT_MIGRATIONS_DIR, () => db.query("select * from nowhere")),
    ).toBe(false);
  });

  it("makes ConsentEvent append-only: UPDATE, DELETE and TRUNCATE are refused", async () => {
    const org = "01900000-0000-7000-8000-000000000001";
    const sub = "01900000-0000-7000-8000-000000000002";
    await db.query(`INSERT INTO "Organization" (id, name) VALUES ($1, 'Acme')`, [org]);
    await db.query(
      `INSERT INTO "Subscriber" (id, "organizationId", phone) VALUES ($1, $2, '+15005550006')`,
      [sub, org],
    );
    const insertEvent = (id: string, sequence: number) =>
      db.query(
        `INSERT INTO "ConsentEvent" (id, "organizationId", sequence, "subscriberId", "toStatus", method,
           "occurredAt", "recordedAt", "prevHash", hash)
         VALUES ($1, $2, $3, $4, 'OPTED_IN', 'API', now(), now(), '', 'h')`,
        [id, org, sequence, sub],
      );
    await insertEvent("01900000-0000-7000-8000-000000000003", 1);

    await expect(db.query(`UPDATE "ConsentEvent" SET hash = 'forged'`)).rejects.toThrow(
      "ConsentEvent is append-only",
    );
    await expect(db.query(`DELETE FROM "ConsentEvent"`)).rejects.toThrow(
      "ConsentEvent is append-only",
    );
    await expect(db.query(`TRUNCATE "ConsentEvent" CASCADE`)).rejects.toThrow(
      "ConsentEvent is append-only",
    );

    await insertEvent("01900000-0000-7000-8000-000000000004", 2); // appending still works
    const events = await db.query<{ sequence: number; hash: string }>(
      `SELECT sequence, hash FROM "ConsentEvent" ORDER BY sequence`,
    );
    expect(events).toEqual([
      { sequence: 1, hash: "h" },
      { sequence: 2, hash: "h" },
    ]);
  });
});

describe.each(engines)("migration scripts on %s", (engine) => {
  let db: TestDb;
  const dirs: string[] = [];
  beforeAll(async () => {
    db = await openDb(engine);
  });
  afterAll(async () => {
    await db?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("applies a plpgsql function whose dollar-quoted body contains ';' as one script", async () => {
    const dir = tempMigrations({
      "20200101000000_plpgsql": `
CREATE TABLE "Counter" ("n" INTEGER NOT NULL, "note" TEXT NOT NULL DEFAULT 'a; b');

CREATE FUNCTION "counter_bump"() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW."n" := NEW."n" + 1;
  NEW."note" := NEW."note" || '; bumped';
  RETURN NEW;
END;
$body$;

CREATE TRIGGER "Counter_bump" BEFORE INSERT ON "Counter" FOR EACH ROW EXECUTE FUNCTION "counter_bump"();
`,
    });
    dirs.push(dir);
    expect(await applyMigrations(db.target, { migrationsDir: dir })).toEqual({
      applied: ["20200101000000_plpgsql"],
    });
    await db.query(`INSERT INTO "Counter" ("n") VALUES (1)`);
    expect(await db.query(`SELECT "n", "note" FROM "Counter"`)).toEqual([
      { n: 2, note: "a; b; bumped" },
    ]);
  });

  it("reports a failing migration in one line, applies none of it, and refuses to go on", async () => {
    const dir = tempMigrations({
      "20200101000000_ok": `CREATE TABLE "Kept" ("id" INTEGER);`,
      "20200102000000_broken": `CREATE TABLE "Half" ("id" INTEGER);\nINSERT INTO "Missing" VALUES (1);`,
    });
    dirs.push(dir);
    const failure = await applyMigrations(db.target, { migrationsDir: dir }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toMatch(
      /^Migrating (PGlite|PostgreSQL).* failed: migration 20200102000000_broken: .*Missing/,
    );
    expect(message).not.toContain("\n");
    // the script ran as one implicit transaction: nothing of the broken migration is left
    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_name IN ('Kept', 'Half') ORDER BY table_name`,
    );
    expect(tables).toEqual([{ table_name: "Kept" }]);
    await expect(applyMigrations(db.target, { migrationsDir: dir })).rejects.toThrow(
      /P3009.*20200102000000_broken/,
    );
  });
});

describe.runIf(engines.includes("pglite"))("createMigration", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("finds nothing to add: prisma/schema.prisma matches the committed migrations", async () => {
    const dir = mkdtempSync(join(tmpdir(), "optgraph-migrations-"));
    dirs.push(dir);
    cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    const pglite = await emptyPglite();
    try {
      expect(
        await createMigration({ kind: "pglite", pglite }, "drift_check", { migrationsDir: dir }),
      ).toBeNull();
    } finally {
      await pglite.close();
    }
  });

  it("writes <timestamp>_<name>/migration.sql and the lock file into an empty migrations directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "optgraph-migrations-"));
    dirs.push(dir);
    const pglite = await emptyPglite();
    try {
      const file = await createMigration({ kind: "pglite", pglite }, "init", {
        migrationsDir: dir,
      });
      expect(file).toMatch(/[/\\]\d{14}_init[/\\]migration\.sql$/);
      expect(readFileSync(file!, "utf8")).toContain(`CREATE TABLE "ConsentEvent"`);
      expect(readFileSync(join(dir, "migration_lock.toml"), "utf8")).toMatch(
        /^provider = "postgresql"$/m,
      );
      await expect(
        createMigration({ kind: "pglite", pglite }, "Bad-Name", { migrationsDir: dir }),
      ).rejects.toThrow(/Invalid migration name/);
    } finally {
      await pglite.close();
    }
  });
});
