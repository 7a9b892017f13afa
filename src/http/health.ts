// Liveness and readiness: /healthz says the process runs; /readyz says the database answers.
import type { ServerResponse } from "node:http";
import type { Database } from "../db/client.ts";

const READINESS_TIMEOUT_MS = 2000;

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

export function serveHealth(res: ServerResponse) {
  json(res, 200, { status: "ok" });
}

export async function serveReadiness(res: ServerResponse, db: Database) {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("database did not answer in time")),
          READINESS_TIMEOUT_MS,
        );
      }),
    ]);
    json(res, 200, { status: "ready", database: db.kind });
  } catch (error) {
    json(res, 503, { status: "unavailable", database: db.kind, reason: (error as Error).message });
  } finally {
    clearTimeout(timer);
  }
}
