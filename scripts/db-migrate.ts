// `npm run db:migrate`: applies the committed Prisma migrations to PostgreSQL (DATABASE_URL) or,
// without DATABASE_URL, to the embedded PGlite database in OPTGRAPH_DATA_DIR (default .optgraph/db).
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { loadConfig } from "../src/config.ts";
import { applyMigrations, type MigrationTarget } from "../src/db/migrate.ts";

async function main(): Promise<void> {
  const { database } = loadConfig();
  let pglite: PGlite | undefined;
  let target: MigrationTarget;
  if (database.kind === "postgres") {
    target = { kind: "postgres", url: database.url };
  } else {
    const dir = database.dataDir;
    mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir);
    target = { kind: "pglite", pglite };
    console.log(`PGlite database in ${dir}`);
  }
  try {
    const { applied } = await applyMigrations(target);
    for (const name of applied) console.log(`applied ${name}`);
    if (applied.length === 0) console.log("No pending migrations.");
  } finally {
    await pglite?.close();
  }
}

main().catch((e: unknown) => {
  console.error(`db:migrate: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
