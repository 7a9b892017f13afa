// `node --import tsx test/support/pglite-template.ts <dir>`: creates an embedded data directory at
// <dir> and applies the migrations. Run in a process of its own by the global setup: Prisma's
// migration engine is one instance per process, and the postgres project's setup uses it too.
import { PGlite } from "@electric-sql/pglite";
import { applyMigrations } from "../../src/db/migrate.ts";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: pglite-template.ts <data directory>");
const pglite = await PGlite.create(dataDir);
try {
  await applyMigrations({ kind: "pglite", pglite });
} finally {
  await pglite.close();
}
