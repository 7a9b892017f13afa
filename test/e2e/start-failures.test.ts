// The server when it cannot start, or is told something it does not know: one line on standard
// error (no stack) and exit code 1 for a bad value, a port in use and an unreachable database; a
// warning naming the nearest valid variable for a misspelled OPTGRAPH_* one, and a normal start.
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { embeddedDataDir, engine } from "../support/app.ts";
import { runServer as run } from "../support/server-process.ts";

const lines = (text: string) => text.trim().split("\n");

let occupied: Server | undefined;
afterAll(
  () => new Promise<void>((resolve) => (occupied ? occupied.close(() => resolve()) : resolve())),
);

// each case starts a process of its own: slow on a loaded machine
describe.runIf(engine === "pglite")("start-up failures", { timeout: 120_000 }, () => {
  it("a port already in use: one line naming it, exit 1", async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied!.listen(0, "127.0.0.1", resolve));
    const port = (occupied.address() as { port: number }).port;
    const result = await run({ PORT: String(port), OPTGRAPH_DATA_DIR: embeddedDataDir() });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `optgraph cannot start: port ${port} on 127.0.0.1 is already in use (PORT, HOST): stop the other process or choose another port`,
    ]);
  });

  it("an unreachable database: one line naming it, exit 1", async () => {
    const result = await run({
      DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere",
      DB_CONNECT_TIMEOUT_MS: "2000",
    });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(lines(result.stderr)[0]).toMatch(
      /^optgraph cannot start: database: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere/,
    );
  });

  it.each([
    ["PORT", "eighty", 'must be a whole number, got "eighty"'],
    ["LOG_LEVEL", "loud", 'must be fatal, error, warn, info, debug, trace or silent, got "loud"'],
    ["NODE_ENV", "staging", 'must be development, production or test, got "staging"'],
    ["OPTGRAPH_MAX_DEPTH", "0", "must be between 1 and 100, got 0"],
    ["DATABASE_URL", "mysql://app:hunter2@db/app", "must use postgres: or postgresql:, got mysql:"],
  ])("a bad %s: one line naming it, exit 1", async (name, value, problem) => {
    const result = await run({ [name]: value, OPTGRAPH_DATA_DIR: "memory://" });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `optgraph cannot start: configuration: ${name} ${problem}`,
    ]);
  });

  it("a misspelled variable: a warning with the nearest valid name, and the service starts", async () => {
    const result = await run(
      {
        NODE_ENV: "test",
        OPTGRAPH_DATA_DIR: embeddedDataDir(),
        OPTGRAPH_ADMN_KEY: "og_misspelled_key_0123456789",
      },
      { until: (stdout) => stdout.includes("ready on") },
    );
    expect(result.stdout).toContain("optgraph ready on");
    expect(lines(result.stderr)[0]).toBe(
      "optgraph: unknown variable OPTGRAPH_ADMN_KEY; did you mean OPTGRAPH_ADMIN_KEY?",
    );
    // the misspelled key was ignored: a random platform key was made and printed instead
    expect(result.stderr).toContain("shown only this once");
    expect(result.stderr).not.toContain("og_misspelled_key_0123456789");
    expect(result.code).toBe(0);
  });
});
