// Whether a database already has every migration of prisma/migrations applied, read from Prisma's
// own `_prisma_migrations` table by name and checksum (the SHA-256 of migration.sql, as Prisma
// records it). When it does, starting up needs no schema engine: its WebAssembly (a 5 MB module,
// compiled, with its own linear memory) stays out of the process for good.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { INSTALL_ROOT } from "../install-root.ts";

export const DEFAULT_MIGRATIONS_DIR = join(INSTALL_ROOT, "prisma", "migrations");

/** A query on the database to check; rows as objects. */
export type CheckQuery = (text: string) => Promise<Record<string, unknown>[]>;

/** The migrations on disk: name → checksum of its migration.sql. */
async function migrationsOnDisk(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const sql = await readFile(join(dir, entry.name, "migration.sql"));
    found.set(entry.name, createHash("sha256").update(sql).digest("hex"));
  }
  return found;
}

/**
 * True when every migration in `dir` is recorded as finished with the same checksum, and none is
 * failed or rolled back; false on any doubt (no table, an error): the schema engine then decides.
 */
export async function migrationsApplied(dir: string, query: CheckQuery): Promise<boolean> {
  try {
    const wanted = await migrationsOnDisk(dir);
    const rows = await query(
      `select migration_name, checksum, finished_at, rolled_back_at from "_prisma_migrations"`,
    );
    const applied = new Map<string, string>();
    for (const row of rows) {
      if (row.rolled_back_at !== null) continue;
      // a started but unfinished (failed) migration needs the engine's verdict
      if (row.finished_at === null) return false;
      applied.set(String(row.migration_name), String(row.checksum));
    }
    for (const [name, checksum] of wanted) {
      if (applied.get(name) !== checksum) return false;
    }
    return wanted.size > 0;
  } catch {
    return false;
  }
}
