// POST /webhooks/twilio/sms: Twilio's inbound-message webhook. Several organizations may have a
// sender with the `To` address: the message belongs to the one whose auth token (or
// TWILIO_AUTH_TOKEN) validates the signature over the public URL Twilio called; when none does,
// it is refused with 403 before anything is written. The reply goes back as
// TwiML; a retried MessageSid gets the same TwiML and is processed once.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError } from "../domain/errors.ts";
import { validTwilioSignature } from "../domain/twilio-signature.ts";
import {
  normalizeSenderLookup,
  receiveInboundMessage,
  sendersWithAddress,
} from "../services/inbound.ts";
import type { Runtime } from "../services/runtime.ts";
import { countSignatureFailure } from "../services/consent-metrics.ts";
import { answerOf, readBody, refuseTooLarge } from "./edge.ts";

export const TWILIO_SMS_PATH = "/webhooks/twilio/sms";
const MAX_BODY_BYTES = 64 * 1024;

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!,
  );

export function twiml(reply: string | null): string {
  return reply
    ? `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeXml(reply)}</Message></Response>`
    : `<?xml version="1.0" encoding="UTF-8"?><Response/>`;
}

function send(res: ServerResponse, status: number, body: string, type = "text/xml; charset=utf-8") {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
}

/** The URL Twilio signed: the configured public base URL, else what the request says it reached. */
function signedUrl(req: IncomingMessage, publicUrl: string | undefined): string {
  // The public base may carry a path prefix (https://example.com/optgraph): keep it.
  if (publicUrl) return publicUrl.replace(/\/+$/, "") + (req.url ?? TWILIO_SMS_PATH);
  const forwarded = req.headers["x-forwarded-proto"];
  const proto =
    (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0].trim() || "http";
  return `${proto}://${req.headers.host ?? "localhost"}${req.url ?? TWILIO_SMS_PATH}`;
}

export async function handleTwilioSms(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: Runtime,
  logError: (error: unknown) => void,
) {
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    return send(res, 405, "Method Not Allowed", "text/plain");
  }
  if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    return send(res, 415, "Expected application/x-www-form-urlencoded", "text/plain");
  }
  const raw = await readBody(req, MAX_BODY_BYTES);
  if (raw === null) return refuseTooLarge(req, res, "Payload Too Large", "text/plain");
  const params = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));

  let address: string | null = null;
  try {
    address = params.To ? normalizeSenderLookup(params.To, runtime.config.defaultRegion) : null;
  } catch {
    address = null;
  }
  const candidates = address ? await sendersWithAddress(runtime, address) : [];
  const header = req.headers["x-twilio-signature"];
  const signature = Array.isArray(header) ? header[0] : header;
  const url = signedUrl(req, runtime.config.publicUrl);
  const signedWith = (token: string | null | undefined) =>
    !!token && validTwilioSignature(token, signature, url, params);
  const sender = candidates.find((candidate) => signedWith(candidate.token))?.sender;
  if (!sender) {
    // A number no organization has: 404 when the environment's token signed it, else 403.
    if (candidates.length === 0 && signedWith(runtime.config.twilioAuthToken)) {
      return send(res, 404, twiml(null));
    }
    countSignatureFailure();
    return send(res, 403, "Invalid Twilio signature", "text/plain");
  }
  if (!params.From || params.Body === undefined) return send(res, 400, twiml(null));

  try {
    const result = await receiveInboundMessage(
      runtime,
      null,
      {
        from: params.From,
        to: sender.address,
        body: params.Body,
        providerMessageId: params.MessageSid || params.SmsSid || null,
      },
      sender,
    );
    return send(res, 200, twiml(result.reply));
  } catch (error) {
    if (error instanceof DomainError) return send(res, answerOf(error).status, twiml(null));
    logError(error);
    return send(res, 500, twiml(null));
  }
}
