// Writers of one organization take turns in the process before they take a pooled connection, so
// a burst of writes to one organization cannot empty the pool for everyone else; a writer that
// waits too long gets a retryable answer instead of holding on forever.
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { inTurn, LedgerBusyError, queuedKeys } from "../../src/services/ledger-gate.ts";
import { engine, testEnv } from "../support/app.ts";
import { createCampaign, uniqueLongCode } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";

describe("inTurn", () => {
  it("runs the writers of one key one at a time, in arrival order", async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const writer = (name: string, ms: number) =>
      inTurn("org-a", 5_000, async () => {
        running++;
        most = Math.max(most, running);
        log.push(`start ${name}`);
        await sleep(ms);
        log.push(`end ${name}`);
        running--;
        return name;
      });
    const results = await Promise.all([writer("1", 20), writer("2", 5), writer("3", 1)]);
    expect(results).toEqual(["1", "2", "3"]);
    expect(most).toBe(1);
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(queuedKeys()).toBe(0);
  });

  it("lets writers of other keys run meanwhile", async () => {
    const slow = inTurn("org-b", 5_000, () => sleep(50).then(() => "slow"));
    const other = await inTurn("org-c", 5_000, async () => "other");
    expect(other).toBe("other");
    expect(await slow).toBe("slow");
  });

  it("refuses a writer that waited past its limit; the ones behind it still run, in order", async () => {
    const log: string[] = [];
    const first = inTurn("org-d", 5_000, async () => {
      await sleep(80);
      log.push("first");
    });
    const impatient = inTurn("org-d", 20, async () => log.push("impatient"));
    const patient = inTurn("org-d", 5_000, async () => log.push("patient"));
    await expect(impatient).rejects.toBeInstanceOf(LedgerBusyError);
    await Promise.all([first, patient]);
    expect(log).toEqual(["first", "patient"]);
    expect(queuedKeys()).toBe(0);
  });

  it("a writer that throws gives its turn to the next", async () => {
    const failing = inTurn("org-e", 5_000, async () => {
      throw new Error("boom");
    });
    const next = inTurn("org-e", 5_000, async () => "next");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("next");
  });
});

const WRITERS = 80;

describe.runIf(engine === "postgres")("a burst of writes to one organization", () => {
  let app: App | undefined;
  afterAll(() => app?.stop());

  async function gql(key: string, query: string, variables: Record<string, unknown> = {}) {
    const response = await fetch(`http://127.0.0.1:${app!.server.port}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as {
      data?: Record<string, any>;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
  }

  it(`${WRITERS} concurrent opt-ins on a pool of 2 connections all commit, and reads still answer`, async () => {
    // a pool of 2 with a short wait for a connection: without turns, writers queued on the
    // organization's row lock held both connections and the rest timed out waiting for one
    app = await startApp(loadConfig(testEnv({ DB_POOL_MAX: "2", DB_CONNECT_TIMEOUT_MS: "1000" })), {
      logError: () => undefined,
    });
    // the organization and its campaign through the shared server (the same database)
    const org = await newOrganization();
    const key = org.adminKey;
    const campaignId = (await createCampaign(key, { doubleOptIn: false })).id;

    const phones = Array.from({ length: WRITERS }, () => uniqueLongCode());
    const writes = phones.map((phone) =>
      gql(
        key,
        `mutation ($p: String!, $c: ID!) { optIn(input: { phone: $p, campaignId: $c, method: API }) { changed } }`,
        { p: phone, c: campaignId },
      ),
    );
    const read = gql(
      key,
      `query ($p: String!, $c: ID!) { canSend(phone: $p, campaignId: $c) { allowed } }`,
      { p: phones[0], c: campaignId },
    );
    const results = await Promise.all(writes);
    expect((await read).errors).toBeUndefined();
    expect(results.filter((r) => r.errors).map((r) => r.errors![0].message)).toEqual([]);
    expect(results.every((r) => r.data?.optIn.changed === true)).toBe(true);

    const verified = await gql(key, `{ verifyLedger { ok eventsChecked } }`);
    expect(verified.data!.verifyLedger).toEqual({ ok: true, eventsChecked: WRITERS });
  });
});
