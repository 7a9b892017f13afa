// Bytes per consent of the send cache (src/services/consent-snapshot.ts): loads N consents shaped
// like the ones the cache reads from the database (distinct numbers, ids and times; campaign ids,
// statuses and zones repeated) into one organization's snapshot and reads the heap before and
// after, with a full garbage collection each time.
//   node --expose-gc --import tsx bench/send-cache-memory.ts [consents] [consents per number]
import { randomUUID } from "node:crypto";
import { ConsentSnapshot, type HeldRow } from "../src/services/consent-snapshot.ts";

const total = Number(process.argv[2] ?? 1_000_000);
const perNumber = Number(process.argv[3] ?? 1);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function heapUsed() {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

const campaigns = Array.from({ length: Math.max(perNumber, 5) }, () => randomUUID());
const disclosures = Array.from({ length: 10 }, () => randomUUID());
const zones = [null, null, null, "America/New_York", "America/Chicago", "America/Los_Angeles"];
const statuses = ["OPTED_IN", "OPTED_IN", "OPTED_IN", "OPTED_OUT", "PENDING"] as const;
const now = Date.now();
/** A new flat string, as a driver decodes it from a row (randomUUID() builds a rope of pieces). */
const fresh = (value: string) => Buffer.from(value, "latin1").toString("latin1");

const before = heapUsed();
const rssBefore = process.memoryUsage().rss;
const snapshot = new ConsentSnapshot(randomUUID());
const started = performance.now();
for (let i = 0; i < total; i++) {
  const number = Math.floor(i / perNumber);
  // strings as the database driver hands them over: a new string per row
  const row: HeldRow = {
    phone: fresh(`+1415${String(2_000_000 + number).padStart(7, "0")}`),
    subscriberId: fresh(randomUUID()),
    timezone: zones[number % zones.length],
    id: fresh(randomUUID()),
    campaignId: fresh(campaigns[i % perNumber]),
    status: statuses[i % statuses.length],
    method: "WEB_FORM",
    // a campaign has a few disclosure versions: the same ids come back row after row
    disclosureVersionId: i % 2 ? fresh(disclosures[i % disclosures.length]) : null,
    lastSequence: i + 1,
    expiresAt: statuses[i % statuses.length] === "PENDING" ? now + 72 * 3_600_000 : null,
    hadConsented: true,
    createdAt: now - i,
    updatedAt: now - i,
  };
  snapshot.put(row);
}
const loadMs = performance.now() - started;
const after = heapUsed();
const rssAfter = process.memoryUsage().rss;
const perConsent = (after - before) / snapshot.size;
console.log(
  JSON.stringify({
    consents: snapshot.size,
    consentsPerNumber: perNumber,
    heapBytesPerConsent: Math.round(perConsent),
    heapMbPerMillionConsents: Math.round((perConsent * 1_000_000) / 2 ** 20),
    rssGrowthMb: Math.round((rssAfter - rssBefore) / 2 ** 20),
    loadMs: Math.round(loadMs),
  }),
);
// keep the snapshot alive until after the measurement
if (snapshot.size < 0) console.log(snapshot);
