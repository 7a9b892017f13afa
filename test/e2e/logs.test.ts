// What the service writes to its log: one JSON line per request with a request id, and never a
// phone number or an API key, even for failed requests.
import { describe, expect, it } from "vitest";
import { scrub } from "../../src/http/logging.ts";
import { embeddedDataDir, engine } from "../support/app.ts";
import { startServer } from "../support/server-process.ts";

const KEY = "og_logs_test_key_0123456789";

describe("scrub", () => {
  it.each([
    ["phone +14155550177 failed", "phone [number] failed"],
    ["(415) 555-0177", "[number]"],
    [`key ${KEY} unknown`, "key og_[redacted] unknown"],
    ["sequence 12 of 40", "sequence 12 of 40"],
  ])("%s", (text, expected) => expect(scrub(text)).toBe(expected));
});

describe.runIf(engine === "pglite")("request logs", () => {
  it("are JSON lines with request ids and no numbers or keys", async () => {
    const server = await startServer({
      LOG_LEVEL: "info",
      OPTGRAPH_DATA_DIR: embeddedDataDir(),
      OPTGRAPH_ADMIN_KEY: KEY,
    });
    const url = server.url;
    const post = (query: string, requestId?: string) =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${KEY}`,
          ...(requestId ? { "x-request-id": requestId } : {}),
        },
        body: JSON.stringify({ query }),
      });
    await post(
      'mutation { createSender(input: { address: "+14155550178", kind: LONG_CODE }) { sender { id } } }',
      "req-one",
    );
    await post('{ subscriber(phone: "+14155550177") { id } }');
    await post('{ subscriber(phone: "not a number 4155550179") { id } }');
    await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer og_wrong_key_4155550180",
      },
      body: "{}",
    });
    await new Promise((r) => setTimeout(r, 300));
    await server.stop();

    const lines = server
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"));
    const requests = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.route === "/graphql");
    expect(requests).toHaveLength(4);
    expect(requests[0]).toMatchObject({
      requestId: "req-one",
      method: "POST",
      status: 200,
      service: "optgraph",
    });
    for (const entry of requests) expect(entry.requestId).toMatch(/\S{6,}/);
    for (const digits of ["4155550177", "4155550178", "4155550179", "4155550180", "555-0177"]) {
      expect(lines.join("\n")).not.toContain(digits);
    }
    expect(lines.join("\n")).not.toContain("og_logs_test_key");
    expect(lines.join("\n")).not.toContain("og_wrong_key");
  });
});
