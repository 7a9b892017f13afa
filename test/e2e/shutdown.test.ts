// The production start as an operator runs it: `npm run build`'s server under `npm run start:prod`
// (plain node, npm passing the signal on), stopped with SIGTERM while canSendMany calls run over
// HTTP and over a WebSocket that also holds a live subscription. Every call answers 200, the
// subscription ends with 1001 (not 1006), the process exits 0 and leaves nothing behind. And the
// development start, `npm start`, leaves no server running after SIGTERM either.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import { connect } from "node:net";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { graphql } from "../generated/gql.ts";
import { disclosures } from "../support/fixtures.ts";
import { embeddedDataDir, engine, testEnv } from "../support/app.ts";
import { ActivateCampaign, CreateCampaign, CreateSender, OptIn } from "../support/documents.ts";

const ROOT = new URL("../../", import.meta.url);
const KEY = "og_shutdown_test_key_0123456789";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
}

/** `npm run <script>` with a fresh embedded database; resolves once the server says it is ready. */
function startScript(script: string, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(npm, ["run", "--silent", script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...testEnv({ OPTGRAPH_DATA_DIR: embeddedDataDir() }),
      DATABASE_URL: "",
      OPTGRAPH_ADMIN_KEY: KEY,
      LOG_LEVEL: process.env.SHUTDOWN_DEBUG ? "info" : "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (chunk) => (out += chunk));
  child.stderr!.on("data", (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", () => {
      const match = /ready on http:\/\/[^:]+:(\d+)\//.exec(out);
      if (match) resolve({ child, port: Number(match[1]), output: () => out });
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

/** Every process below `pid` (npm's shell, tsx, node…), read from the process table. */
function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  for (let i = 0, parents = [pid]; i < parents.length; i++) {
    for (const [child, parent] of table) {
      if (parent === parents[i]) {
        found.push(child);
        parents.push(child);
      }
    }
  }
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether anything still accepts connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** Signals npm and waits for it; then no process it started may be alive, nor the port open. */
async function stopAndCheck(started: Started, signal: NodeJS.Signals) {
  const family = descendants(started.child.pid!);
  expect(family.length).toBeGreaterThan(0);
  const exited = once(started.child, "exit") as Promise<[number | null, string | null]>;
  started.child.kill(signal);
  const [code] = await exited;
  // a process left behind lives on; one that exits with npm is gone within moments
  for (let waited = 0; family.some(alive) && waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const leftBehind = family.filter(alive);
  for (const pid of leftBehind) process.kill(pid, "SIGKILL");
  expect(leftBehind).toEqual([]);
  expect(await listening(started.port)).toBe(false);
  return code;
}

const CanSendMany = graphql(`
  query ShutdownCanSendMany($phones: [String!]!, $campaignId: ID!) {
    canSendMany(phones: $phones, campaignId: $campaignId, at: "2026-12-01T18:00:00Z") {
      phone
      allowed
      reason
    }
  }
`);
const ConsentChanged = graphql(`
  subscription ShutdownConsentChanged($campaignId: ID!, $after: String) {
    consentChanged(campaignId: $campaignId, after: $after) {
      cursor
      toStatus
    }
  }
`);

describe.runIf(engine === "pglite")("stopping the server", () => {
  // dist/main.mjs, the server as `npm run build` bundles it: the run's global setup bundled it from
  // the sources under test

  it("npm run start:prod: SIGTERM lets in-flight calls and WebSocket queries finish, closes subscriptions with 1001, exits 0", async () => {
    const server = await startScript("start:prod", { OPTGRAPH_SHUTDOWN_GRACE_MS: "60000" });
    const base = `http://127.0.0.1:${server.port}/graphql`;
    // a client's pool of keep-alive connections, opened before the signal as a running client's are
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const post = (body: unknown) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const request = http.request(
          base,
          {
            method: "POST",
            agent,
            headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          },
          (response) => {
            let text = "";
            response.setEncoding("utf8");
            response.on("data", (chunk) => (text += chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode!, body: JSON.parse(text) }),
            );
          },
        );
        request.on("error", (error) => {
          reject(error);
        });
        request.end(JSON.stringify(body));
      });
    const run = async (document: any, variables: Record<string, unknown>) => {
      const { status, body } = await post({ query: print(document), variables });
      expect(body.errors).toBeUndefined();
      expect(status).toBe(200);
      return body.data;
    };

    const senderId = (
      await run(CreateSender, { input: { address: "+14155550177", kind: "LONG_CODE" } })
    ).createSender.sender.id;
    const campaignId = (
      await run(CreateCampaign, {
        input: {
          name: "Shutdown",
          purpose: "INFORMATIONAL",
          senderId,
          keywords: [],
          doubleOptIn: false,
          disclosures: disclosures(),
        },
      })
    ).createCampaign.campaign.id;
    await run(ActivateCampaign, { id: campaignId });
    const optedIn = ["+14155550100", "+14155550101", "+14155550102"];
    const phones = Array.from({ length: 9000 }, (_, i) => `+1415556${String(i).padStart(4, "0")}`);
    phones.push(...optedIn);

    let closedWith!: (event: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>(
      (resolve) => (closedWith = resolve),
    );
    const client: Client = createClient({
      url: base.replace("http", "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${KEY}` },
      retryAttempts: 0,
      on: { closed: (event) => closedWith(event as { code: number; reason: string }) },
    });
    const cursors: string[] = [];
    for (const phone of optedIn) {
      cursors.push(
        (await run(OptIn, { input: { phone, campaignId, method: "WEB_FORM" } })).optIn.event.cursor,
      );
    }
    const events: string[] = [];
    let subscriptionError: unknown = null;
    const firstEvent = new Promise<void>((resolve) => {
      client.subscribe(
        // replays the events after the first opt-in's, then goes on live
        { query: print(ConsentChanged), variables: { campaignId, after: cursors[0] } },
        {
          next: (result) => {
            events.push((result.data as any).consentChanged.toStatus);
            resolve();
          },
          error: (error) => (subscriptionError = error),
          complete: () => undefined,
        },
      );
    });
    await firstEvent;

    const expected = (answer: { phone: string; allowed: boolean }[]) => {
      expect(answer).toHaveLength(phones.length);
      expect(answer.filter((decision) => decision.allowed).map((d) => d.phone)).toEqual(optedIn);
    };
    // the pool's eight connections are open (and accepted) before the calls go out on them
    await Promise.all(
      Array.from({ length: 8 }, () => run(CanSendMany, { phones: optedIn, campaignId })),
    );
    // calls in flight: over the WebSocket, then over HTTP on the pool's connections
    const overWebSocket = Array.from(
      { length: 8 },
      () =>
        new Promise<any>((resolve, reject) => {
          let result: any;
          client.subscribe(
            { query: print(CanSendMany), variables: { phones, campaignId } },
            { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
          );
        }),
    );
    const overHttp = Array.from({ length: 8 }, () =>
      post({ query: print(CanSendMany), variables: { phones, campaignId } }),
    );
    // the server is at work on them once the first has answered (the database takes one statement
    // at a time, in order): the others are still to run when the signal comes
    await Promise.race(overWebSocket);

    const code = await stopAndCheck(server, "SIGTERM");

    for (const answer of await Promise.all(overHttp)) {
      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expected(answer.body.data.canSendMany);
    }
    for (const answer of await Promise.all(overWebSocket)) {
      expect(answer.errors).toBeUndefined();
      expected(answer.data.canSendMany);
    }
    expect(await closed).toMatchObject({ code: 1001 });
    expect(subscriptionError).toMatchObject({ code: 1001 });
    expect(events).toEqual(["OPTED_IN", "OPTED_IN"]);
    expect(code).toBe(0);
    expect(server.output()).toContain("SIGTERM: shutting down");
    agent.destroy();
    await client.dispose();
  }, 240_000);

  it("npm start (development, tsx) leaves no server behind after SIGTERM", async () => {
    const server = await startScript("start");
    const ready = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    expect(ready.status).toBe(200);
    expect(await stopAndCheck(server, "SIGTERM")).toBe(0);
  }, 240_000);
});
