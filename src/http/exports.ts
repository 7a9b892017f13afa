// GET /exports/…: downloads beside GraphQL, with the same API keys (`Authorization: Bearer <key>`)
// and the same tenancy (another organization's id is a 404, like an unknown one).
// - /exports/audience.csv?campaignId=<global id>&at=<ISO 8601>: the campaign's audience that
//   canSend allows at `at` (default now), streamed as CSV page by page, so memory stays flat.
// - /exports/subscribers/<global id>/evidence.json: the subscriber's complete evidence file.
// Each request counts against its key's rate limit like one GraphQL operation.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { stringify } from "csv-stringify";
import type { Actor } from "../domain/api-key.ts";
import { readDateTime } from "../domain/date-time.ts";
import { DomainError } from "../domain/errors.ts";
import { audiencePage } from "../services/audience.ts";
import { subscriberEvidence } from "../services/evidence.ts";
import type { Runtime } from "../services/runtime.ts";
import { rowIdOrNull } from "../schema/ids.ts";
import { answerOf, clientAddress, type Edge } from "./edge.ts";

const AUDIENCE_PATH = "/exports/audience.csv";
const EVIDENCE_PATH = /^\/exports\/subscribers\/([^/]+)\/evidence\.json$/;

export const AUDIENCE_COLUMNS = [
  "phone",
  "subscriber_id",
  "consent_id",
  "consent_method",
  "consent_updated_at",
] as const;

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify({ error: { code, message } }));
}

function sendDomainError(res: ServerResponse, error: DomainError) {
  const { status, headers } = answerOf(error);
  sendError(res, status, error.code, error.message, headers);
}

async function exportAudience(res: ServerResponse, runtime: Runtime, actor: Actor, url: URL) {
  const campaignParam = url.searchParams.get("campaignId");
  if (!campaignParam) {
    return sendError(res, 400, "BAD_USER_INPUT", "campaignId: a campaign's global ID is required");
  }
  const campaignId = rowIdOrNull("Campaign", campaignParam);
  if (!campaignId) {
    return sendError(res, 404, "NOT_FOUND", `No campaign with id "${campaignParam}".`);
  }
  const atParam = url.searchParams.get("at");
  const reading = atParam === null ? null : readDateTime(atParam);
  if (reading && !reading.ok)
    return sendError(res, 400, "BAD_USER_INPUT", `at: ${reading.problem}`);
  const at = reading ? reading.date : new Date();
  // The first page before any byte is sent: an unknown campaign is still a clean 404.
  const first = await audiencePage(runtime, actor, campaignId, at, null);
  async function* rows() {
    yield [...AUDIENCE_COLUMNS];
    for (
      let page = first;
      ;
      page = await audiencePage(runtime, actor, campaignId!, at, page.next)
    ) {
      for (const { subscriberId, decision } of page.members) {
        yield [
          decision.phone,
          encodeGlobalID("Subscriber", subscriberId),
          encodeGlobalID("Consent", decision.consent!.id),
          decision.consent!.method,
          decision.consent!.updatedAt.toISOString(),
        ];
      }
      if (!page.next) return;
    }
  }
  res.writeHead(200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": 'attachment; filename="audience.csv"',
    "cache-control": "no-store",
  });
  // pipeline waits for the client to take each chunk, and stops reading when it goes away.
  await pipeline(Readable.from(rows()), stringify(), res);
}

async function exportEvidence(res: ServerResponse, runtime: Runtime, actor: Actor, id: string) {
  let globalId: string;
  try {
    globalId = decodeURIComponent(id);
  } catch {
    globalId = "";
  }
  const subscriberId = rowIdOrNull("Subscriber", globalId);
  const evidence = subscriberId
    ? await subscriberEvidence(runtime, actor, { id: subscriberId })
    : null;
  if (!evidence) return sendError(res, 404, "NOT_FOUND", `No subscriber with id "${id}".`);
  res.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="evidence-${subscriberId}.json"`,
    "cache-control": "no-store",
  });
  res.end(JSON.stringify(evidence, null, 2));
}

export async function handleExport(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: Runtime,
  edge: Edge,
  logError: (error: unknown) => void,
) {
  try {
    if (req.method !== "GET") {
      res.setHeader("allow", "GET");
      return sendError(res, 405, "BAD_USER_INPUT", "Exports are read with GET.");
    }
    const actor = await edge.authenticate(req.headers.authorization, clientAddress(req));
    // an export is one operation against the key's rate limit, as a GraphQL root field is
    await edge.rateLimits.consume(actor, 1);
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === AUDIENCE_PATH) return await exportAudience(res, runtime, actor, url);
    const evidence = EVIDENCE_PATH.exec(url.pathname);
    if (evidence) return await exportEvidence(res, runtime, actor, evidence[1]);
    return sendError(res, 404, "NOT_FOUND", `No export at ${url.pathname}.`);
  } catch (error) {
    if (res.headersSent) {
      // Mid-stream: the only honest signal left is a broken transfer.
      if ((error as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") logError(error);
      res.destroy();
      return;
    }
    if (error instanceof DomainError) return sendDomainError(res, error);
    logError(error);
    sendError(res, 500, "INTERNAL_SERVER_ERROR", "Unexpected error.");
  }
}
