// One record of a consent import file (CSV with a header row), checked: the header names the
// columns, each data row becomes a typed consent record or a reason naming the column at fault.
// Pure: the import service reads the file, resolves campaigns and applies the records.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { canonicalJson } from "./canonical-json.ts";
import { readDateTime } from "./date-time.ts";
import type { ConsentMethod } from "./consent.ts";
import { badInput } from "./errors.ts";
import { normalizePhone } from "./phone.ts";
import { readLocale, readTimeZone, type LocationChange } from "./subscriber-location.ts";
import { readUsState } from "./us-states.ts";

export const IMPORT_COLUMNS = [
  "phone",
  "status",
  "occurred_at",
  "method",
  "campaign",
  "ip",
  "user_agent",
  "source_url",
  "consent_text",
  "timezone",
  "state",
  "locale",
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Other spellings of a column (compared lower-case: `timeZone` is `timezone`). */
const COLUMN_ALIASES: Readonly<Record<string, ImportColumn>> = { time_zone: "timezone" };

const REQUIRED_COLUMNS: readonly ImportColumn[] = ["phone", "status", "occurred_at"];

export const CONSENT_METHODS: readonly ConsentMethod[] = [
  "WEB_FORM",
  "CHECKBOX",
  "KEYWORD",
  "API",
  "IMPORT",
  "ADMIN",
];

/** Where each known column sits in a row; absent optional columns are undefined. */
export type ImportHeader = { readonly width: number } & Partial<Record<ImportColumn, number>>;

const MAX = { campaign: 200, userAgent: 1000, sourceUrl: 2000, consentText: 4000 };
const FUTURE_TOLERANCE_MS = 5 * 60_000;
const HAS_ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Reads the header row: column names are trimmed and case-insensitive. phone, status and
 * occurred_at are required; an unknown or repeated column is refused rather than silently dropped,
 * since it would be evidence lost.
 */
export function readImportHeader(fields: readonly string[], field = "header"): ImportHeader {
  const header: Partial<Record<ImportColumn, number>> = {};
  fields.forEach((raw, i) => {
    const written = raw.trim().toLowerCase();
    const name = COLUMN_ALIASES[written] ?? written;
    if (!(IMPORT_COLUMNS as readonly string[]).includes(name)) {
      throw badInput(
        field,
        `unknown column "${raw.trim()}" (the columns are ${IMPORT_COLUMNS.join(", ")})`,
      );
    }
    if (header[name as ImportColumn] !== undefined) {
      throw badInput(field, `column "${name}" appears twice`);
    }
    header[name as ImportColumn] = i;
  });
  const missing = REQUIRED_COLUMNS.filter((name) => header[name] === undefined);
  if (missing.length > 0) {
    throw badInput(field, `missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  }
  return { ...header, width: fields.length };
}

/** A campaign as a row or the command line names it: by id (global or database) or by name. */
export type CampaignReference = { id: string } | { name: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function campaignReference(value: string): CampaignReference {
  const text = value.trim();
  if (UUID.test(text)) return { id: text.toLowerCase() };
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = /^Campaign:(.+)$/.exec(Buffer.from(text, "base64").toString("utf8"));
    if (decoded && UUID.test(decoded[1])) return { id: decoded[1].toLowerCase() };
  }
  return { name: text };
}

/** A record's evidence as the ledger stores it (the import adds its source). */
export interface ImportEvidence {
  ip?: string;
  userAgent?: string;
  pageUrl?: string;
  consentText?: string;
}

export interface ImportRecord {
  phone: string;
  status: "OPTED_IN" | "OPTED_OUT";
  occurredAt: Date;
  /** how the consent was originally collected; IMPORT when the file does not say */
  method: ConsentMethod;
  /** the row's campaign as written, or null for the import's default campaign */
  campaign: string | null;
  evidence: ImportEvidence;
  /** the subscriber's time zone, state and locale the row gives (an empty column leaves it) */
  location?: LocationChange;
}

export type RowCheck = { ok: true; record: ImportRecord } | { ok: false; reason: string };

const fail = (column: string, problem: string): RowCheck => ({
  ok: false,
  reason: `${column}: ${problem}`,
});
const quoted = (value: string) =>
  JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

function checkOccurredAt(value: string, now: Date): Date | string {
  if (value === "") return "is required";
  if (!HAS_ZONE.test(value) && readDateTime(`${value}Z`).ok) {
    return `${quoted(value)} has no time zone: end it with Z or an offset such as -05:00`;
  }
  const reading = readDateTime(value);
  if (!reading.ok) return reading.problem;
  if (reading.date.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    return `${reading.date.toISOString()} is in the future`;
  }
  return reading.date;
}

function httpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/**
 * Checks one data row against the header. Values are trimmed; an empty optional value counts as
 * absent. The first problem found is the reason, naming its column.
 */
export function checkImportRow(
  fields: readonly string[],
  header: ImportHeader,
  options: { defaultRegion: string; now: Date },
): RowCheck {
  if (fields.length !== header.width) {
    return {
      ok: false,
      reason: `row has ${fields.length} field${fields.length === 1 ? "" : "s"}; the header has ${header.width}`,
    };
  }
  const at = (column: ImportColumn) => {
    const i = header[column];
    return i === undefined ? "" : fields[i].trim();
  };
  for (const column of IMPORT_COLUMNS) {
    if (at(column).includes("\u0000")) return fail(column, "contains a NUL character");
  }

  let phone: string;
  try {
    phone = normalizePhone(at("phone"), options.defaultRegion, "phone");
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }

  const statusText = at("status").toLowerCase();
  if (statusText !== "opted_in" && statusText !== "opted_out") {
    return fail(
      "status",
      statusText === "" ? "is required" : `${quoted(at("status"))} is not opted_in or opted_out`,
    );
  }

  const occurredAt = checkOccurredAt(at("occurred_at"), options.now);
  if (typeof occurredAt === "string") return fail("occurred_at", occurredAt);

  const methodText = at("method").toUpperCase();
  const method = methodText === "" ? "IMPORT" : (methodText as ConsentMethod);
  if (!CONSENT_METHODS.includes(method)) {
    return fail("method", `${quoted(at("method"))} is not one of ${CONSENT_METHODS.join(", ")}`);
  }

  const campaign = at("campaign");
  if (campaign.length > MAX.campaign) {
    return fail("campaign", `must be at most ${MAX.campaign} characters`);
  }

  const evidence: ImportEvidence = {};
  const ip = at("ip");
  if (ip !== "") {
    if (isIP(ip) === 0) return fail("ip", `${quoted(ip)} is not an IP address`);
    evidence.ip = ip;
  }
  const userAgent = at("user_agent");
  if (userAgent !== "") {
    if (userAgent.length > MAX.userAgent) {
      return fail("user_agent", `must be at most ${MAX.userAgent} characters`);
    }
    evidence.userAgent = userAgent;
  }
  const sourceUrl = at("source_url");
  if (sourceUrl !== "") {
    if (sourceUrl.length > MAX.sourceUrl || !httpUrl(sourceUrl)) {
      return fail("source_url", `${quoted(sourceUrl)} is not an http(s) URL`);
    }
    evidence.pageUrl = sourceUrl;
  }
  const consentText = at("consent_text");
  if (consentText !== "") {
    if (consentText.length > MAX.consentText) {
      return fail("consent_text", `must be at most ${MAX.consentText} characters`);
    }
    evidence.consentText = consentText;
  }

  const location: LocationChange = {};
  try {
    if (at("timezone") !== "") location.timezone = readTimeZone(at("timezone"), "timezone");
    if (at("state") !== "") location.state = readUsState(at("state"), "state");
    if (at("locale") !== "") location.locale = readLocale(at("locale"), "locale");
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }

  return {
    ok: true,
    record: {
      phone,
      status: statusText === "opted_in" ? "OPTED_IN" : "OPTED_OUT",
      occurredAt,
      method,
      campaign: campaign === "" ? null : campaign,
      evidence,
      ...(Object.keys(location).length > 0 ? { location } : {}),
    },
  };
}

/**
 * What makes two rows the same consent record: the campaign, the number, the status, when and
 * how. An import applies each record once, however many files (or reruns) carry it; evidence
 * does not change the record's identity.
 */
export function recordFingerprint(campaignId: string, record: ImportRecord): string {
  const text = canonicalJson({
    campaignId,
    phone: record.phone,
    status: record.status,
    occurredAt: record.occurredAt.toISOString(),
    method: record.method,
  });
  return createHash("sha256")
    .update(text ?? "")
    .digest("hex");
}

/**
 * The order a batch is applied in: by occurredAt, and at the same instant an opt-in before an
 * opt-out, so the opt-out stands; then by row.
 */
export function applyOrder(
  a: { row: number; record: ImportRecord },
  b: { row: number; record: ImportRecord },
): number {
  return (
    a.record.occurredAt.getTime() - b.record.occurredAt.getTime() ||
    (a.record.status === b.record.status ? 0 : a.record.status === "OPTED_IN" ? -1 : 1) ||
    a.row - b.row
  );
}
