// The kind a traced statement is named by (src/db/traced.ts).
import { describe, expect, it } from "vitest";
import { statementKind } from "../../src/db/traced.ts";

describe("statementKind", () => {
  it("is the first keyword of a plain statement", () => {
    expect(statementKind("select 1")).toBe("SELECT");
    expect(statementKind('  insert into "Consent" (id) values ($1)')).toBe("INSERT");
    expect(statementKind("update t set a = 1")).toBe("UPDATE");
  });

  it("is the statement a WITH leads to, not a keyword inside its parts", () => {
    // the ledger writer's write: rows inserted in its parts, the head updated by the statement
    expect(
      statementKind(
        `with w0 as (insert into "Consent" (id) select c.id from unnest($1::uuid[]) as c(id)),
         w1 as (insert into "ConsentEvent" (id) select e.id from unnest($2::uuid[]) as e(id))
         update "Organization" set "ledgerSequence" = $3 where id = $4::uuid`,
      ),
    ).toBe("UPDATE");
    expect(
      statementKind(
        `with input as (select * from unnest($1::text[]) as i(phone)),
         created as (insert into "Subscriber" (phone) select phone from input returning id)
         select id from created`,
      ),
    ).toBe("SELECT");
    // parentheses inside quotes and names that merely contain a keyword do not count
    expect(statementKind(`with "a(" as (select ')' as x) delete from updated_rows`)).toBe("DELETE");
  });
});
