// `npm run db:migrate`: applies the committed Prisma migrations to PostgreSQL (DATABASE_URL) or,
// without DATABASE_URL, to the embedded PGlite database in OPTGRAPH_DATA_DIR (default .optgraph/db).
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { applyMigrations, type MigrationTarget } from "../src/db/migrate.ts";

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  let pglite: PGlite | undefined;
  let target: MigrationTarget;
  if (url) {
    target = { kind: "postgres", url };
  } else {
    const dir = process.env.OPTGRAPH_DATA_DIR ?? ".optgraph/db";
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
