// Fault: PostgreSQL restarts mid-load. First `pg_ctl restart -m fast` (down for about a second),
// then a fast stop held down for a few seconds before it starts again, so the outage is long
// enough to see on /readyz. The subscription is cut while the database is down.
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

const DOWN_MS = 4000;

describe.runIf(process.env.TEST_DATABASE_URL && engine === "postgres")(
  "PostgreSQL restarted mid-load",
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

    it("answers every request in time, goes unready and back, and loses nothing", async () => {
      const result = await runScenario("restart", cluster, app, tenant, async (subscriber) => {
        let started = Date.now();
        await cluster.restart();
        const quickRestartMs = Date.now() - started;
        await sleep(3000);
        started = Date.now();
        await cluster.stop();
        const outageFrom = Date.now();
        subscriber.cut();
        await sleep(DOWN_MS);
        await cluster.start();
        const outageTo = Date.now();
        return {
          outageFrom,
          outageTo,
          extra: {
            restarts: `pg_ctl restart -m fast (${quickRestartMs} ms), then stop -m fast, ${DOWN_MS} ms down, start (${outageTo - started} ms in all)`,
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
