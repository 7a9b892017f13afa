// The README as a new user follows it: a fresh `npm start` (a real process on an empty data
// directory), the key it prints, then every ```graphql block in order with the ```json block after
// it as its variables, and every ```sh block that calls curl, run by bash. The only substitutions
// are the README's own rule: `<API_KEY>` is the printed key, `<a.b.c>` the value at that path in an
// earlier answer, and the address is this server's. It ends at `canSend` → `allowed: true`.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse, type OperationDefinitionNode } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, describe, expect, it } from "vitest";
import { engine } from "../support/app.ts";
import { startServer, type ServerProcess } from "../support/server-process.ts";

const ROOT = new URL("../../", import.meta.url);
const README = readFileSync(new URL("README.md", ROOT), "utf8");
const PERSON_ADDRESS = "http://localhost:4000";

interface Block {
  lang: string;
  text: string;
}

const blocks: Block[] = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({
  lang: match[1],
  text: match[2],
}));

type Answers = Record<string, unknown>;

/** The README's substitution rule, and nothing more. */
function substitute(text: string, key: string, answers: Answers, base: string): string {
  return text
    .replaceAll("<API_KEY>", key)
    .replaceAll(PERSON_ADDRESS, base)
    .replace(/<([A-Za-z]+(?:\.[A-Za-z]+)+)>/g, (placeholder, path: string) => {
      const value = path
        .split(".")
        .reduce<unknown>(
          (at, part) => (at as Record<string, unknown> | undefined)?.[part],
          answers,
        );
      if (typeof value !== "string")
        throw new Error(`${placeholder} is used before an answer holds it`);
      return value;
    });
}

/** `npm start` on an empty data directory, once it printed the key (standard error, read apart). */
async function start(dataDir: string): Promise<ServerProcess & { key: string }> {
  const server = await startServer({ OPTGRAPH_DATA_DIR: dataDir }, { build: "development" });
  // the key is on standard error, the ready line on standard output: either may come first
  for (let waited = 0; !/^\s+og_\S+$/m.test(server.stderr()) && waited < 5000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const key = /^\s+(og_\S+)$/m.exec(server.stderr())?.[1];
  if (!key) throw new Error(`no admin key printed:\n${server.output()}`);
  return Object.assign(server, { key });
}

async function post(base: string, key: string, query: string, variables: unknown) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

/** The first event of a subscription; `meanwhile` runs once it is live (it makes the event). */
function firstEvent(
  base: string,
  key: string,
  query: string,
  variables: unknown,
  meanwhile: () => Promise<void>,
): Promise<Record<string, unknown>> {
  const client = createClient({
    url: `${base.replace("http", "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  return new Promise((resolve, reject) => {
    let triggered = false;
    client.on("connected", () => {
      if (triggered) return;
      triggered = true;
      // the subscription is sent right after the connection is acknowledged
      setTimeout(() => meanwhile().catch(reject), 200);
    });
    client.subscribe(
      { query, variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) reject(new Error(JSON.stringify(result.errors)));
          else resolve(result.data as Record<string, unknown>);
          void client.dispose();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
}

const scratch = mkdtempSync(join(tmpdir(), "optgraph-readme-"));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe.runIf(engine === "pglite")("the README, pasted in order", () => {
  it("runs every block from a fresh start to canSend → allowed: true", async () => {
    const started = performance.now();
    const instance = await start(join(scratch, "db"));
    server = instance;
    const { base, key } = instance;
    const answers: Answers = {};
    const ran: string[] = [];
    let lastSignUp: { query: string; variables: Record<string, Record<string, unknown>> } | null =
      null;

    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i];
      if (block.lang === "sh" && block.text.includes("curl ") && block.text.includes("/graphql")) {
        const script = substitute(block.text, key, answers, base);
        const { stdout } = await promisify(execFile)("bash", ["-euo", "pipefail", "-c", script], {
          cwd: scratch,
        });
        const body = JSON.parse(stdout) as { data?: Answers; errors?: unknown[] };
        expect(body.errors, `sh block ${i}`).toBeUndefined();
        Object.assign(answers, body.data);
        ran.push("sh: curl");
        continue;
      }
      if (block.lang !== "graphql") continue;
      const next = blocks[i + 1];
      const variables =
        next?.lang === "json" ? JSON.parse(substitute(next.text, key, answers, base)) : {};
      const operation = parse(block.text).definitions[0] as OperationDefinitionNode;
      const name = operation.name?.value ?? "(anonymous)";
      ran.push(name);
      if (operation.operation === "subscription") {
        // the README's instructions for each subscription: what makes its first event
        const data = await firstEvent(base, key, block.text, variables, async () => {
          if (name !== "WatchConsents") return; // the import's progress starts with the job now
          expect(lastSignUp, "WatchConsents says: run SignUp again").not.toBeNull();
          const again = {
            input: {
              ...lastSignUp!.variables.input,
              phone: "(415) 555-0142",
              idempotencyKey: "signup-8732",
            },
          };
          const result = await post(base, key, lastSignUp!.query, again);
          expect(result.errors).toBeUndefined();
        });
        Object.assign(answers, data);
        continue;
      }
      const result = await post(base, key, block.text, variables);
      expect(result.errors, `${name}: ${JSON.stringify(result.errors)}`).toBeUndefined();
      Object.assign(answers, result.data);
      if (name === "SignUp") lastSignUp = { query: block.text, variables };
      if (name === "MayWeText") {
        console.log(
          `README: from a fresh start to the first canSend answer in ${Math.round(performance.now() - started)} ms`,
        );
      }
    }

    expect(ran).toEqual(
      expect.arrayContaining([
        "Viewer",
        "CreateSender",
        "CreateCampaign",
        "ActivateCampaign",
        "SignUp",
        "ReplyY",
        "MayWeText",
        "WatchConsents",
      ]),
    );
    expect(answers.optIn).toMatchObject({ consent: { status: "PENDING" } });
    expect(answers.receiveInboundMessage).toMatchObject({
      keywordEvent: { consentEvents: [{ fromStatus: "PENDING", toStatus: "OPTED_IN" }] },
    });
    expect(answers.canSend).toEqual({ allowed: true, reason: "ALLOWED", nextAllowedAt: null });
    expect(answers.consentChanged).toMatchObject({ subscriber: { phone: "+14155550142" } });
    expect(answers.verifyLedger).toMatchObject({ ok: true, firstBrokenEventId: null });
  }, 180_000); // a first start initializes PGlite on disk: tens of seconds on a loaded machine
});
