// Plain SQL transactions (src/db/client.ts): statements go out as they are issued (pipelined on
// PostgreSQL), so one that `work` does not wait for is still the transaction's: answered before it
// commits, and its failure fails it with nothing written. A deadline still ends a statement that
// never answers, pipelined or not.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "../../src/db/client.ts";
import { engine, testApp } from "../support/app.ts";
import { newOrganization } from "../support/graphql.ts";
import { rawSql } from "../consent/ops.ts";

const rename = (id: string, name: string): [string, unknown[]] => [
  `update "Organization" set name = $2 where id = $1::uuid`,
  [id, name],
];

async function nameOf(id: string): Promise<string> {
  const { rows } = await rawSql(`select name from "Organization" where id = $1::uuid`, [id]);
  return (rows[0] as { name: string }).name;
}

describe(`plain SQL transactions (${engine})`, () => {
  it("commits a last statement the work did not wait for", async () => {
    const { db } = await testApp();
    const org = await newOrganization();
    const name = `renamed ${randomUUID()}`;
    await db.transaction(async (sql) => {
      await sql(`select 1`);
      void sql(...rename(org.rowId, name));
    });
    expect(await nameOf(org.rowId)).toBe(name);
  });

  it("fails, writing nothing, when a statement it did not wait for fails", async () => {
    const { db } = await testApp();
    const org = await newOrganization();
    const before = await nameOf(org.rowId);
    const done = db.transaction(async (sql) => {
      void sql(...rename(org.rowId, `never ${randomUUID()}`));
      // fails in the database: the transaction must not commit the rename before it
      void sql(`select 1 / 0`);
      return "answered";
    });
    await expect(done).rejects.toThrow(/division by zero/);
    expect(await nameOf(org.rowId)).toBe(before);
  });

  it("reports the statement that failed first, not those that failed after it", async () => {
    const { db } = await testApp();
    const done = db.transaction(async (sql) => {
      void sql(`select 1 / 0`);
      await sql(`select 1`); // fails too: the transaction is aborted
    });
    await expect(done).rejects.toThrow(/division by zero/);
  });

  it.runIf(engine === "postgres")(
    "ends a statement that does not answer within the deadline, and releases its locks",
    async () => {
      const { db } = await testApp();
      const org = await newOrganization();
      let slept = false;
      const done = db.transaction(
        async (sql) => {
          await sql(`select id from "Organization" where id = $1::uuid for update`, [org.rowId]);
          await sql(`select pg_sleep(2)`);
          slept = true;
        },
        { timeoutMs: 300 },
      );
      await expect(done).rejects.toBeInstanceOf(DatabaseUnavailableError);
      // ended, not answered: a connection that waits for its statements would have let it sleep
      expect(slept).toBe(false);
      // the row lock went with the connection (once the server noticed, after its sleep)
      const name = `after ${randomUUID()}`;
      await db.transaction(async (sql) => {
        await sql(...rename(org.rowId, name));
      });
      expect(await nameOf(org.rowId)).toBe(name);
    },
  );
});
