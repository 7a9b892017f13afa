// The graphql-http audit suite (GraphQL over HTTP spec), run as it is against the live server:
// no MUST and no SHOULD may fail. The fetch adds the API key and the CSRF header, as a client would.
import { auditServer } from "graphql-http";
import { describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";
import { newOrganization } from "../support/graphql.ts";
import { CSRF_HEADER } from "../../src/http/protections.ts";

describe("graphql-http audits", () => {
  it("passes every MUST and SHOULD audit", async () => {
    const app = await testApp();
    const org = await newOrganization();
    const results = await auditServer({
      url: `http://127.0.0.1:${app.server.port}/graphql`,
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
        const headers = new Headers(init?.headers);
        headers.set("authorization", `Bearer ${org.adminKey}`);
        headers.set(CSRF_HEADER, "1");
        return fetch(input, { ...init, headers });
      },
    });
    const failing = results
      .filter((result) => result.status !== "ok" && /^(MUST|SHOULD) /.test(result.name))
      .map((result) => `${result.name}: ${"reason" in result ? result.reason : ""}`);
    const passed = results.filter((result) => result.status === "ok").length;
    console.log(`graphql-http audits: ${passed}/${results.length} ok`);
    expect(failing).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(60);
  });
});
