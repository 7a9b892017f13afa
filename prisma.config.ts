// Prisma CLI configuration, for machines that have Prisma's native CLI (`prisma migrate deploy`).
// optgraph itself migrates through the wasm schema engine (src/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/optgraph" },
});
