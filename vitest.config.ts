// Test projects: the whole suite runs on embedded PGlite, and again on real PostgreSQL when
// TEST_DATABASE_URL is set (a fresh database per run, created and dropped by test/support/global-setup.ts).
import { configDefaults, defineConfig } from "vitest/config";

const engines = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

// Files about the transport or a browser page, not the database: with PostgreSQL in the suite they
// run on it alone (files that run once for another reason say so with `onceAcrossEngines`).
const TRANSPORT_ONLY = [
  "test/hardening/edge.test.ts",
  "test/http/keep-alive.test.ts",
  "test/streams/backpressure.test.ts",
  "test/e2e/graphiql.browser.test.ts",
  "test/admin/admin.e2e.test.ts",
];

export default defineConfig({
  // Node loads graphql's CommonJS build for the libraries; the tests' own imports must get the
  // same copy, not the ESM one Vite would pick, or graphql refuses the mix ("another module").
  resolve: { alias: [{ find: /^graphql$/, replacement: "graphql/index.js" }] },
  test: {
    projects: engines.map((engine) => ({
      extends: true,
      test: {
        name: engine,
        env: { OPTGRAPH_TEST_ENGINE: engine },
        // PGlite runs the database in the worker: two workers keep both cores busy. On PostgreSQL
        // the database runs beside the workers and many files wait on timers, processes and
        // faults: a third worker keeps the cores busy meanwhile (the projects run one after the
        // other, so each has its own group).
        maxWorkers: engine === "pglite" ? 2 : 3,
        sequence: { groupOrder: engine === "pglite" ? 0 : 1 },
        // pure rules do not touch a database: run them once
        exclude:
          engine === "postgres"
            ? [...configDefaults.exclude, "test/domain/**"]
            : engines.length > 1
              ? [...configDefaults.exclude, ...TRANSPORT_ONLY]
              : configDefaults.exclude,
      },
    })),
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    pool: "forks",
    // one database (and one server) per worker, shared by the files it runs; tests isolate by data
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
