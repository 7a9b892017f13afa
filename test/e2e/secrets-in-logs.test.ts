// Secrets and numbers stay out of the log stream: the platform key printed at first start goes to
// standard error only (standard output carries the JSON logs), and an `x-request-id` shaped like
// a key or holding a phone number is replaced, never logged.
import { describe, expect, it } from "vitest";
import { requestIdOf } from "../../src/http/edge.ts";
import { embeddedDataDir, engine } from "../support/app.ts";
import { startServer } from "../support/server-process.ts";

describe("requestIdOf", () => {
  it.each([
    ["req-one", true],
    ["a.b_c-D9", true],
    ["3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1c3b", true],
    ["x".repeat(64), true],
    ["x".repeat(65), false],
    ["og_0123456789abcdef", false],
    ["OG_live_key", false],
    ["+14155550123", false],
    ["14155550123", false],
    ["req-415-555-0123", false],
    ["415.555.0123", false],
    ["has space", false],
    ["", false],
  ])("%s kept: %s", (id, kept) => {
    expect(requestIdOf(id) === id).toBe(kept);
  });

  it("makes up an id when there is none", () => {
    expect(requestIdOf(undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe.runIf(engine === "pglite")("the log stream", () => {
  it("never holds the platform key, nor a key or number sent as x-request-id", async () => {
    const server = await startServer({
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      OPTGRAPH_DATA_DIR: embeddedDataDir(),
    });
    const url = server.url;
    try {
      const deadline = Date.now() + 5000;
      while (!/og_\S+/.test(server.stderr()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const key = /(og_\S+)/.exec(server.stderr())?.[1];
      expect(key).toBeTruthy();

      const sent = [key!, "+14155550123", "call-4155550123", "req-ok.1"];
      const echoed: string[] = [];
      for (const requestId of sent) {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${key}`,
            "x-request-id": requestId,
          },
          body: JSON.stringify({ query: "{ viewer { role } }" }),
        });
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        echoed.push(response.headers.get("x-request-id")!);
      }
      expect(echoed[3]).toBe("req-ok.1");
      for (const id of echoed.slice(0, 3)) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await new Promise((r) => setTimeout(r, 300));
      await server.stop();
    }
    const stdout = server.stdout();
    const logLines = stdout.split("\n").filter((line) => line.startsWith("{"));
    expect(logLines.filter((line) => line.includes('"route":"/graphql"'))).toHaveLength(4);
    expect(stdout).not.toMatch(/og_/);
    expect(stdout).not.toContain("4155550123");
    expect(stdout).toContain('"requestId":"req-ok.1"');
  });
});
