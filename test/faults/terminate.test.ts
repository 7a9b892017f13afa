// Fault: optgraph's backends are killed with pg_terminate_backend, again and again, during a write
// load; then the database is closed to new connections (ALLOW_CONNECTIONS false) while they are
// killed once more, and opened again. Clients retry a failed call with the same idempotency key.
import { afterAll, beforeAll, describe, it } from "vitest";
import { engine } from "../support/app.ts";
import {
  expectSurvived,
  runScenario,
  setupTenant,
  sleep,
  startCluster,
  startOptgraph,
  type Cluster,
  type Optgraph,
  type Tenant,
} from "./support.ts";

const KILL_FOR_MS = 8000;
const KILL_EVERY_MS = 400;
const LOCKOUT_MS = 4000;

describe.runIf(process.env.TEST_DATABASE_URL && engine === "postgres")(
  "backends terminated during a write load",
  () => {
    let cluster: Cluster;
    let app: Optgraph;
    let tenant: Tenant;

    beforeAll(async () => {
      cluster = await startCluster();
      app = await startOptgraph(cluster.url());
      tenant = await setupTenant(app.base);
    });

    afterAll(async () => {
      await app?.stop();
      await cluster?.destroy();
    });

    /** Terminates every backend of optgraph (its pool and its LISTEN connection); returns how many. */
    const killAll = async () =>
      (
        await cluster.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
            where application_name = 'optgraph' and pid <> pg_backend_pid()`,
          [],
          "postgres",
        )
      ).length;

    it("answers every request in time, goes unready and back, and loses nothing", async () => {
      const result = await runScenario("terminate", cluster, app, tenant, async (subscriber) => {
        let killed = 0;
        let rounds = 0;
        const killUntil = Date.now() + KILL_FOR_MS;
        while (Date.now() < killUntil) {
          killed += await killAll();
          rounds += 1;
          if (rounds === 5) subscriber.cut();
          await sleep(KILL_EVERY_MS);
        }
        // locked out: the database takes no new connection, and the open ones are killed
        await cluster.query("alter database optgraph allow_connections false", [], "postgres");
        const outageFrom = Date.now();
        const lockoutUntil = outageFrom + LOCKOUT_MS;
        while (Date.now() < lockoutUntil) {
          killed += await killAll();
          rounds += 1;
          await sleep(KILL_EVERY_MS);
        }
        await cluster.query("alter database optgraph allow_connections true", [], "postgres");
        return {
          outageFrom,
          outageTo: Date.now(),
          extra: {
            "backends terminated": `${killed} in ${rounds} rounds over ${KILL_FOR_MS + LOCKOUT_MS} ms`,
            lockout: `${LOCKOUT_MS} ms`,
          },
        };
      });
      try {
        expectSurvived(result);
      } finally {
        await result.subscriber.stop();
      }
    }, 180_000);
  },
);
