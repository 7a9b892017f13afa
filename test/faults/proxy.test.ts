// Fault: the network between optgraph and PostgreSQL fails. A TCP proxy (written here) first kills
// connections right after they carry a COMMIT (the write commits, its answer never comes back),
// then blackholes the database (connections accepted, nothing forwarded, every open connection
// dead for good, as after a middlebox lost its state), then delays every chunk, then heals — while
// clients write and a subscription is cut. Instance A sits behind the proxy with stream polling off, so
// it hears of another instance's writes only through its LISTEN connection, which the blackhole
// killed silently; instance B talks to the cluster directly and writes once the network healed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engine } from "../support/app.ts";
import {
  expectSurvived,
  FaultProxy,
  runScenario,
  sleep,
  startCluster,
  startOptgraph,
  setupTenant,
  WriteLoad,
  type Cluster,
  type Optgraph,
  type Tenant,
} from "./support.ts";

const LOSE_COMMIT_REPLIES_MS = 2000;
const BLACKHOLE_MS = 8000;
const DELAY_MS = 6000;
const DELAY_PER_CHUNK_MS = 300;

describe.runIf(process.env.TEST_DATABASE_URL && engine === "postgres")(
  "a database behind a blackholing, then slow, network",
  () => {
    let cluster: Cluster;
    let proxy: FaultProxy;
    let app: Optgraph;
    let other: Optgraph;
    let tenant: Tenant;

    beforeAll(async () => {
      cluster = await startCluster();
      proxy = await new FaultProxy(cluster.port).listen();
      const url = new URL(cluster.url());
      url.port = String(proxy.port);
      app = await startOptgraph(url.toString(), { OPTGRAPH_STREAM_POLL_MS: "600000" });
      other = await startOptgraph(cluster.url());
      tenant = await setupTenant(app.base);
    });

    afterAll(async () => {
      await app?.stop();
      await other?.stop();
      await proxy?.close();
      await cluster?.destroy();
    });

    it("answers every request in time, goes unready and back, and loses nothing", async () => {
      let healedAt = 0;
      const result = await runScenario("proxy", cluster, app, tenant, async (subscriber) => {
        proxy.set("lose-commit-replies");
        await sleep(LOSE_COMMIT_REPLIES_MS);
        const outageFrom = Date.now();
        proxy.set("blackhole");
        const deadAtBlackhole = proxy.open;
        await sleep(1000);
        subscriber.cut();
        await sleep(BLACKHOLE_MS - 1000);
        const outageTo = Date.now();
        proxy.set("delay", DELAY_PER_CHUNK_MS);
        await sleep(DELAY_MS);
        proxy.set("pass");
        healedAt = Date.now();
        return {
          outageFrom,
          outageTo,
          extra: {
            "COMMIT answers lost": `${proxy.commitRepliesLost} in ${LOSE_COMMIT_REPLIES_MS} ms`,
            blackhole: `${BLACKHOLE_MS} ms (${deadAtBlackhole} open connections killed silently)`,
            delay: `${DELAY_MS} ms at ${DELAY_PER_CHUNK_MS} ms per chunk each way`,
            "connections through the proxy": proxy.accepted,
          },
        };
      });
      try {
        expectSurvived(result);
        // writes whose answer was lost after COMMIT were retried and answered from their key
        expect(proxy.commitRepliesLost).toBeGreaterThan(0);
        expect(result.ledger.replayed).toBeGreaterThan(0);

        // Another instance writes, one call at a time, until A's subscription has delivered it
        // all: A hears of those writes only by a NOTIFY on a LISTEN connection that answers.
        const otherLoad = new WriteLoad(other.base, tenant, "proxy-other");
        let writes = 0;
        let deliveredAt: number | null = null;
        while (deliveredAt === null && Date.now() - healedAt < 40_000) {
          writes += await otherLoad.writeOnce(1, writes);
          const [{ ledgerSequence }] = await cluster.query(
            `select "ledgerSequence" from "Organization" where id = $1`,
            [tenant.organizationId],
          );
          if (await result.subscriber.waitFor(ledgerSequence, 2000)) deliveredAt = Date.now();
        }
        console.log(
          `faults[proxy]: another instance's writes reached A's subscription over LISTEN ` +
            (deliveredAt === null
              ? "never"
              : `${deliveredAt - healedAt} ms after the heal (${writes} writes)`),
        );
        expect(deliveredAt).not.toBeNull();
      } finally {
        await result.subscriber.stop();
      }
    }, 180_000);
  },
);
