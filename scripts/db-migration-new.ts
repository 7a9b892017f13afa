// `npm run db:migration:new -- <name>`: writes prisma/migrations/<timestamp>_<name>/migration.sql
// with the changes from the committed migrations to prisma/schema.prisma, using an in-memory PGlite.
import { relative } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { checkMigrationName, createMigration } from "../src/db/migrate.ts";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length !== 1) {
    throw new Error(
      "usage: npm run db:migration:new -- <name>   (name in snake_case, e.g. add_keyword_index)",
    );
  }
  const name = args[0];
  checkMigrationName(name);
  const pglite = new PGlite();
  try {
    const file = await createMigration({ kind: "pglite", pglite }, name);
    console.log(
      file
        ? `wrote ${relative(process.cwd(), file)}`
        : "No changes: prisma/schema.prisma matches the migrations. Nothing written.",
    );
  } finally {
    await pglite.close();
  }
}

main().catch((e: unknown) => {
  console.error(`db:migration:new: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
