// Consent import: a CSV file streamed through csv-parse and applied in batches. Each batch is one
// plain SQL transaction under the organization's ledger lock (withLedgerSql) that applies its
// records set-wise by the same rules as the opt-in and opt-out steps (import-apply.ts: method
// IMPORT, the record's own occurredAt, its file and row as evidence), and commits together with
// the job's counters, its row errors and the fingerprints of the records it applied. So a crash
// loses nothing, a rerun applies nothing twice, and the job always tells the truth.
//
// Two batches are in hand at most: one being applied while the next is read, checked, filtered
// against earlier imports and given its subscribers. Memory stays flat: the file is read only as
// fast as batches are applied (async iteration pulls from the parser, which pauses the file), and
// nothing outlives its batch but the counters.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parse, type CsvError } from "csv-parse";
import { parse as parseSync } from "csv-parse/sync";
import { LRUCache } from "lru-cache";
import type { SqlQuery } from "../db/client.ts";
import { canConfigure, type Actor } from "../domain/api-key.ts";
import { badInput, DomainError, forbidden, notFound, notFoundAsSent } from "../domain/errors.ts";
import {
  applyOrder,
  campaignReference,
  checkImportRow,
  readImportHeader,
  recordFingerprint,
  type ImportHeader,
  type ImportRecord,
} from "../domain/import-row.ts";
import type { ImportJob } from "../generated/prisma/client.ts";
import { countCommitted } from "./consent-metrics.ts";
import {
  appendChanges,
  inLedgerTurn,
  lockLedger,
  type LedgerOutcome,
  type LedgerRequest,
} from "./ledger.ts";
import { upsertSubscribers } from "./ledger-state.ts";
import { writeSubscriberLocations } from "./subscribers.ts";
import type { Runtime } from "./runtime.ts";

export type { ImportJob };

/** Rows per transaction at most: enough to amortize a commit, few enough to hold the lock briefly. */
export const DEFAULT_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 10;
/** How long a batch should hold the organization's ledger lock: live changes wait that long. */
const TARGET_BATCH_MS = 1000;
const MAX_FILE_NAME = 255;
const HEADER_PEEK_BYTES = 64 * 1024;

export const isFinished = (job: Pick<ImportJob, "status">) =>
  job.status === "SUCCEEDED" || job.status === "FAILED";

// ---------------------------------------------------------------------------------------------
// Progress: this instance's jobs announce each committed batch; watchers elsewhere poll the row.

const progress = new EventEmitter().setMaxListeners(0);

export function onImportProgress(jobId: string, listener: (job: ImportJob) => void): () => void {
  progress.on(jobId, listener);
  return () => progress.off(jobId, listener);
}

const announce = (job: ImportJob) => progress.emit(job.id, job);

/**
 * The job as it advances: its current state at once, then every change, until it finishes. This
 * instance's jobs hand over each state as they commit it; a job running on another instance is
 * seen by polling its row.
 */
export function watchImportJob(
  runtime: Runtime,
  organizationId: string,
  id: string,
): AsyncIterableIterator<ImportJob> {
  let done = false;
  let fresh = true;
  let announced: ImportJob | null = null;
  let wake: (() => void) | null = null;
  let lastSeen = "";
  const stopListening = onImportProgress(id, (job) => {
    announced = job;
    wake?.();
  });
  const finish = () => {
    done = true;
    stopListening();
    wake?.();
  };
  const pause = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, runtime.config.streamPollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const read = () => runtime.prisma.importJob.findFirst({ where: { id, organizationId } });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<ImportJob>> {
      while (!done) {
        let job: ImportJob | null = announced;
        announced = null;
        if (!job) {
          if (!fresh) await pause();
          wake = null;
          fresh = false;
          if (done) break;
          if (announced) continue;
          job = await read();
          if (!job) break;
        }
        const seen = `${job.status} ${job.processed} ${job.message ?? ""}`;
        if (seen === lastSeen) continue;
        lastSeen = seen;
        if (isFinished(job)) finish();
        return { value: job, done: false };
      }
      finish();
      return { value: undefined, done: true };
    },
    async return(): Promise<IteratorResult<ImportJob>> {
      finish();
      return { value: undefined, done: true };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Jobs

type Campaign = { id: string; name: string; status: string };

/** A campaign of the organization by id (global or database) or name; NOT_FOUND otherwise. */
export async function resolveCampaign(
  runtime: Runtime,
  organizationId: string,
  reference: string,
): Promise<Campaign> {
  const found = await findCampaign(runtime.prisma, organizationId, reference);
  if (!found) throw notFoundAsSent("campaign", reference);
  return found;
}

function findCampaign(prisma: Runtime["prisma"], organizationId: string, reference: string) {
  const ref = campaignReference(reference);
  return prisma.campaign.findFirst({
    where: { organizationId, ...("id" in ref ? { id: ref.id } : { name: ref.name }) },
    select: { id: true, name: true, status: true },
  });
}

export interface NewImportJob {
  organizationId: string;
  apiKeyId: string | null;
  fileName: string;
  /** the database id of the campaign for rows that name none */
  campaignId: string | null;
}

export async function createImportJob(runtime: Runtime, input: NewImportJob) {
  const fileName = input.fileName.trim().slice(0, MAX_FILE_NAME) || "upload.csv";
  if (input.campaignId) {
    const campaign = await runtime.prisma.campaign.count({
      where: { id: input.campaignId, organizationId: input.organizationId },
    });
    if (!campaign) throw notFound("campaign", input.campaignId);
  }
  return runtime.prisma.importJob.create({
    data: {
      organizationId: input.organizationId,
      apiKeyId: input.apiKeyId,
      fileName,
      campaignId: input.campaignId,
    },
  });
}

/** An import job of the organization, or null. */
export function findImportJob(runtime: Runtime, organizationId: string, id: string) {
  return runtime.prisma.importJob.findFirst({ where: { id, organizationId } });
}

/** The first bytes of a file, enough for its header row. */
async function headOf(file: Blob): Promise<string> {
  const reader = file.stream().getReader();
  const parts: Buffer[] = [];
  let size = 0;
  try {
    while (size < HEADER_PEEK_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      parts.push(chunk);
      size += chunk.length;
      if (chunk.includes(10)) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, HEADER_PEEK_BYTES).toString("utf8");
}

/** The header row of an uploaded file, read from its first bytes and checked. */
async function checkUploadHeader(file: Blob) {
  let rows: string[][];
  try {
    rows = parseSync(await headOf(file), { bom: true, to_line: 1, relax_column_count: true });
  } catch (error) {
    throw badInput("input.file", `header: ${(error as Error).message}`);
  }
  if (rows.length === 0) throw badInput("input.file", "has no header row");
  try {
    readImportHeader(rows[0]);
  } catch (error) {
    throw badInput("input.file", (error as Error).message);
  }
}

/** A Blob's bytes as they are read (Yoga's File is a ponyfill: no Readable.fromWeb). */
async function* chunksOf(file: Blob): AsyncGenerator<Uint8Array> {
  const reader = file.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export interface StartImportInput {
  file: File;
  campaignId: string | null;
}

/**
 * Starts an import of an uploaded file in the background and returns its job at once. The header
 * is checked first: a file whose header is wrong is refused and starts no job.
 */
export async function startImport(runtime: Runtime, actor: Actor, input: StartImportInput) {
  if (!canConfigure(actor)) throw forbidden("Only ADMIN and OPERATOR keys may import consents.");
  if (input.file.size === 0) throw badInput("input.file", "is empty: a header row is required");
  await checkUploadHeader(input.file);
  const job = await createImportJob(runtime, {
    organizationId: actor.organizationId,
    apiKeyId: actor.apiKeyId,
    fileName: input.file.name,
    campaignId: input.campaignId,
  });
  const content = Readable.from(chunksOf(input.file));
  // The job records its own failure; nothing is left to handle here.
  runImport(runtime, job, content).catch(() => undefined);
  return job;
}

// ---------------------------------------------------------------------------------------------
// Running a job

export interface ImportOptions {
  batchSize?: number;
  /** each bad row as it is found (the command line writes them to its error file) */
  onRowError?: (row: number, reason: string) => void;
}

interface RawRow {
  row: number;
  fields: string[];
}

interface RowError {
  row: number;
  reason: string;
}

interface GoodRow {
  row: number;
  record: ImportRecord;
  /** the database id of the record's campaign (of the organization) */
  campaignId: string;
  fingerprint: string;
}

/**
 * An import record as a consent command: an opt-in or a campaign-scope opt-out by the importing
 * organization, with the record's own time, and its file and row as evidence.
 */
function importRequest(
  item: GoodRow,
  job: ImportJob,
  recordedAt: Date,
  runtime: Runtime,
): LedgerRequest {
  const { record } = item;
  return {
    phone: record.phone,
    command:
      record.status === "OPTED_IN"
        ? { kind: "OPT_IN", campaignId: item.campaignId }
        : { kind: "OPT_OUT", scope: "CAMPAIGN", campaignId: item.campaignId },
    context: {
      scope: null,
      mayWrite: true,
      method: "IMPORT",
      occurredAt: record.occurredAt,
      recordedAt,
      pendingTtlMs: runtime.config.pendingTtlHours * 3_600_000,
      evidence: {
        source: { file: job.fileName, row: item.row, importJobId: job.id },
        originalMethod: record.method,
        ...record.evidence,
      },
    },
    apiKeyId: job.apiKeyId,
  };
}

/** What a row says of where its number's holder is (the last such row of a batch, per number). */
interface LocationRow {
  row: number;
  phone: string;
  location: NonNullable<ImportRecord["location"]>;
}

interface CheckedBatch {
  items: GoodRow[];
  /** set with the batch's records, also for rows whose record an earlier import applied */
  locations: LocationRow[];
  /** the file's line the batch ends on */
  lastLine: number;
  /** subscriber ids of the items' numbers, made before the batch is applied */
  subscribers: ReadonlyMap<string, string>;
  processed: number;
  skipped: number;
  errors: RowError[];
}

const lineBreaks = (fields: readonly string[]) => {
  let count = 0;
  for (const field of fields) count += field.match(/\r\n|\r|\n/g)?.length ?? 0;
  return count;
};

const isCsvError = (error: unknown) =>
  typeof (error as CsvError).code === "string" && (error as CsvError).code.startsWith("CSV_");

/** Why a job stopped, in words for its owner: rule violations as they are, anything else masked. */
function stopReason(error: unknown, lastRead: number, lastCommitted: number): string {
  if (error instanceof DomainError) return error.message;
  const resume = "run the file again to resume: records already applied are skipped";
  if (isCsvError(error)) {
    return `the file could not be read after line ${lastRead}: ${(error as Error).message}; ${resume}`;
  }
  return `stopped by an unexpected error; the rows up to line ${lastCommitted} are in; ${resume}`;
}

class ImportRun {
  private header: ImportHeader | null = null;
  private readonly maxBatchSize: number;
  /** rows in the next batch: at most maxBatchSize, fewer when rows take long to apply */
  private batchLimit: number;
  private lastRow = 1;
  /** the last line of the last batch committed */
  private committedLine = 1;
  /** a batch's write failed: the job is stopping, so no head start for the next batch */
  private writeFailed = false;
  /** the next batch is checked on a connection of its own: only when the pool can spare one */
  private readonly headStart: boolean;
  private readonly campaigns = new LRUCache<string, Campaign | { reason: string }>({ max: 1000 });

  constructor(
    private readonly runtime: Runtime,
    private job: ImportJob,
    private readonly options: ImportOptions,
  ) {
    this.maxBatchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const { database } = runtime.config;
    this.headStart = database.kind !== "postgres" || database.poolMax >= 2;
    this.batchLimit = this.maxBatchSize;
  }

  async run(input: Readable): Promise<ImportJob> {
    const hash = createHash("sha256");
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    const csvErrors: RowError[] = [];
    const parser = parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
    });
    // One row may be refused by several parse errors (a quote left open runs to the end of the
    // file, and the parser reports that too): it is one failed row, listed with every reason.
    let lastRefused: RowError | null = null;
    parser.on("skip", (error: CsvError & { lines?: number }) => {
      const row = error.lines ?? this.lastRow;
      const reason = `csv: ${error.message}`;
      if (lastRefused?.row === row) {
        lastRefused.reason += `; ${reason}`;
        return;
      }
      lastRefused = { row, reason };
      csvErrors.push(lastRefused);
    });
    // Read errors reach the loop below through the parser; stopping early is not one to report.
    const flowing = pipeline(input, tap, parser).catch(() => undefined);

    this.job = await this.update({ status: "RUNNING", startedAt: new Date() });
    // One batch is written while the next is read and checked: the database and this process
    // work at the same time. Batches still commit one after another, in file order.
    let writing: Promise<void> = Promise.resolve();
    const apply = async (rows: readonly RawRow[], errors: RowError[]) => {
      const checked = await this.check(rows, errors, this.lastRow);
      await writing;
      writing = checked ? this.write(checked) : Promise.resolve();
      // (awaited before the next batch is written or the job finishes; not unhandled meanwhile)
      writing.catch(() => undefined);
    };
    try {
      let batch: RawRow[] = [];
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        const row = info.lines - lineBreaks(record);
        this.lastRow = info.lines;
        if (!this.header) {
          // A header line the parser had to skip would make the first data row look like one.
          const unreadable = csvErrors.find((e) => e.row < row);
          if (unreadable) throw badInput("header", unreadable.reason);
          this.header = readImportHeader(record);
          continue;
        }
        batch.push({ row, fields: record });
        if (batch.length >= this.batchLimit) {
          await apply(batch, csvErrors.splice(0));
          batch = [];
        }
      }
      if (!this.header) {
        throw badInput("file", csvErrors[0]?.reason ?? "is empty: a header row is required");
      }
      await apply(batch, csvErrors.splice(0));
      await writing;
      await flowing;
      this.job = await this.update({
        status: "SUCCEEDED",
        fileSha256: hash.digest("hex"),
        finishedAt: new Date(),
      });
      return this.job;
    } catch (error) {
      input.destroy();
      // The batch being written finishes (or fails) before the job records how it ended.
      await writing.catch(() => undefined);
      this.job = await this.update({
        status: "FAILED",
        message: stopReason(error, this.lastRow, this.committedLine),
        finishedAt: new Date(),
      });
      if (error instanceof DomainError || isCsvError(error)) return this.job;
      throw error;
    }
  }

  private async update(data: Parameters<Runtime["prisma"]["importJob"]["update"]>[0]["data"]) {
    const job = await this.runtime.prisma.importJob.update({ where: { id: this.job.id }, data });
    announce(job);
    return job;
  }

  private async campaignOf(
    reference: string | null,
    record: ImportRecord,
  ): Promise<Campaign | { reason: string }> {
    let found: Campaign | { reason: string } | undefined;
    if (reference === null) {
      if (!this.job.campaignId) {
        return { reason: "campaign: is empty, and the import names no default campaign" };
      }
      found = this.campaigns.get("");
      if (!found) {
        found = await this.runtime.prisma.campaign.findUniqueOrThrow({
          where: { id: this.job.campaignId },
          select: { id: true, name: true, status: true },
        });
        this.campaigns.set("", found);
      }
    } else {
      found = this.campaigns.get(reference);
      if (!found) {
        found =
          (await findCampaign(this.runtime.prisma, this.job.organizationId, reference)) ??
          ({ reason: `campaign: no campaign "${reference}" in this organization` } as const);
        this.campaigns.set(reference, found);
      }
    }
    if ("id" in found && found.status === "ARCHIVED" && record.status === "OPTED_IN") {
      return { reason: `campaign: "${found.name}" is archived and takes no opt-ins` };
    }
    return found;
  }

  /**
   * Checks a batch's rows and finds what is new of it: the records to apply (in apply order) and
   * the batch's counts and row errors. Null for an empty batch.
   */
  private async check(
    rows: readonly RawRow[],
    csvErrors: RowError[],
    lastLine: number,
  ): Promise<CheckedBatch | null> {
    if (rows.length === 0 && csvErrors.length === 0) return null;
    const { runtime, job } = this;
    const now = new Date();
    const errors = [...csvErrors];
    const good: GoodRow[] = [];
    for (const { row, fields } of rows) {
      const check = checkImportRow(fields, this.header!, {
        defaultRegion: runtime.config.defaultRegion,
        now,
      });
      if (!check.ok) {
        errors.push({ row, reason: check.reason });
        continue;
      }
      const campaign = await this.campaignOf(check.record.campaign, check.record);
      if ("reason" in campaign) {
        errors.push({ row, reason: campaign.reason });
        continue;
      }
      good.push({
        row,
        record: check.record,
        campaignId: campaign.id,
        fingerprint: recordFingerprint(campaign.id, check.record),
      });
    }

    // The same record twice in a batch, or applied by an earlier import: nothing to do. Most of a
    // rerun ends here, without taking the ledger lock; what is left is checked again under it.
    const unique = new Map<string, GoodRow>();
    for (const item of good) if (!unique.has(item.fingerprint)) unique.set(item.fingerprint, item);
    // Both steps below are head starts, done while the batch before is applied: if one cannot be
    // done (no connection to spare, an error), the batch's own transaction does the work, where a
    // failure is tried again in smaller transactions.
    // (asked again before each: the batch being written may fail meanwhile)
    const mayStart = () => this.headStart && !this.writeFailed;
    const applied = mayStart()
      ? await runtime
          .transaction((sql) => knownFingerprints(sql, job.organizationId, [...unique.keys()]))
          .catch(() => new Set<string>())
      : new Set<string>();
    const fresh = [...unique.values()].filter((item) => !applied.has(item.fingerprint));
    // The batch's subscribers, to save the ledger transaction the work. (A job that fails may
    // leave the numbers of its next batch as subscribers without a consent; a rerun uses them.)
    const phones = [...new Set(fresh.map((item) => item.record.phone))];
    const subscribers = mayStart()
      ? await runtime
          .transaction((sql) => upsertSubscribers(sql, job.organizationId, phones, now))
          .catch(() => new Map<string, string>())
      : new Map<string, string>();
    // rows of one number merge in file order, as if applied one by one: a later value wins, an
    // empty column keeps what the rows before it gave
    const locations = new Map<string, LocationRow>();
    for (const { row, record } of [...good].sort((a, b) => a.row - b.row)) {
      if (!record.location) continue;
      const before = locations.get(record.phone)?.location;
      locations.set(record.phone, {
        row,
        phone: record.phone,
        location: { ...before, ...record.location },
      });
    }
    return {
      items: fresh.sort(applyOrder),
      locations: [...locations.values()],
      lastLine,
      subscribers,
      processed: rows.length + csvErrors.length,
      skipped: good.length - fresh.length,
      errors,
    };
  }

  /** Applies a checked batch in one transaction with its bookkeeping. */
  private async write({ items, subscribers, lastLine, ...batch }: CheckedBatch) {
    try {
      await this.commit(items, subscribers, batch);
    } catch (error) {
      this.writeFailed = true;
      throw error;
    }
    this.committedLine = lastLine;
  }

  /**
   * Whether a failed transaction of these records committed after all: one of them is recorded
   * for this job with its own row (the same record on an earlier row was an earlier batch's).
   */
  private async committedAfterAll(items: readonly GoodRow[]): Promise<boolean> {
    const { runtime, job } = this;
    const rows = await runtime
      .transaction((sql) =>
        sql(
          `select 1 from "ImportedRecord" r
           join unnest($3::text[], $4::int[]) as k(fingerprint, row)
             on r.fingerprint = k.fingerprint and r.row = k.row
           where r."organizationId" = $1::uuid and r."importJobId" = $2::uuid limit 1`,
          [
            job.organizationId,
            job.id,
            items.map((item) => item.fingerprint),
            items.map((item) => item.row),
          ],
        ),
      )
      .catch(() => []); // (the database is not answering: the halves will find out)
    return rows.length > 0;
  }

  /**
   * Applies records (in apply order) in one transaction with the batch's bookkeeping: its row
   * errors and counters; the errors go to onRowError once committed. A transaction that fails
   * has written nothing, and its records' fingerprints make a second try safe: it is tried again
   * in two halves, down to the one record that fails on its own. That is what a transaction that
   * ran out of time on a slow or loaded database needs (a statement past the statement timeout,
   * or the transaction past its own), and later batches are sized from how long rows took.
   */
  private async commit(
    items: readonly GoodRow[],
    subscribers: ReadonlyMap<string, string>,
    batch: {
      processed: number;
      skipped: number;
      errors: readonly RowError[];
      locations: readonly LocationRow[];
    },
  ): Promise<void> {
    const { runtime, job } = this;
    const errors = [...batch.errors];
    const counts = { imported: 0, skipped: batch.skipped };
    const bookkeeping = async (sql: SqlQuery): Promise<ImportJob> => {
      // a row the consent rules refused is reported, and sets nothing
      const refused = new Set(errors.map((e) => e.row));
      await writeSubscriberLocations(
        sql,
        job.organizationId,
        batch.locations.filter((l) => !refused.has(l.row)),
        new Date(),
      );
      if (errors.length > 0) {
        await sql(
          `insert into "ImportRowError" ("importJobId", row, reason)
           select $1::uuid, e.row, e.reason from unnest($2::int[], $3::text[]) as e(row, reason)
           on conflict do nothing`,
          [job.id, errors.map((e) => e.row), errors.map((e) => e.reason)],
        );
      }
      const [counters] = await sql<
        Pick<ImportJob, "processed" | "imported" | "skipped" | "failed">
      >(
        `update "ImportJob" set processed = processed + $2, imported = imported + $3,
                skipped = skipped + $4, failed = failed + $5
         where id = $1::uuid returning processed, imported, skipped, failed`,
        [job.id, batch.processed, counts.imported, counts.skipped, errors.length],
      );
      return { ...this.job, ...counters };
    };
    // A transaction's row errors are reported once it has committed them.
    const committed = (next: ImportJob) => {
      this.job = next;
      announce(next);
      for (const e of errors) this.options.onRowError?.(e.row, e.reason);
    };
    if (items.length === 0) {
      committed(await runtime.transaction(bookkeeping));
      return;
    }

    const started = performance.now();
    let next: ImportJob;
    let outcomes: LedgerOutcome[] = [];
    try {
      next = await inLedgerTurn(runtime, job.organizationId, async (sql) => {
        await lockLedger(sql, job.organizationId);
        const racing = await knownFingerprints(
          sql,
          job.organizationId,
          items.map((item) => item.fingerprint),
        );
        const fresh = items.filter((item) => !racing.has(item.fingerprint));
        const recordedAt = new Date();
        outcomes = await appendChanges(
          sql,
          job.organizationId,
          fresh.map((item) => importRequest(item, job, recordedAt, runtime)),
          { subscribers },
        );
        counts.skipped += racing.size;
        const applied: { item: GoodRow; eventId: string | null }[] = [];
        outcomes.forEach((outcome, i) => {
          if (outcome.kind === "REFUSED") {
            errors.push({ row: fresh[i].row, reason: `campaign: ${outcome.error.message}` });
          } else {
            const eventId = outcome.kind === "WRITTEN" ? (outcome.events[0]?.id ?? null) : null;
            if (eventId) counts.imported++;
            else counts.skipped++;
            applied.push({ item: fresh[i], eventId });
          }
        });
        await recordApplied(sql, job, applied);
        return bookkeeping(sql);
      });
    } catch (error) {
      // A connection lost during COMMIT leaves its outcome unknown. If it did commit, its records
      // carry this job: trying them again would count the batch twice (the ledger would be right).
      if (await this.committedAfterAll(items)) {
        committed(await runtime.prisma.importJob.findUniqueOrThrow({ where: { id: job.id } }));
        return;
      }
      if (items.length === 1) throw error;
      const half = Math.ceil(items.length / 2);
      await this.commit(items.slice(0, half), subscribers, batch);
      await this.commit(items.slice(half), subscribers, {
        processed: 0,
        skipped: 0,
        errors: [],
        locations: [],
      });
      return;
    }
    committed(next);
    countCommitted(outcomes);
    // Size the next batches to hold the ledger lock about TARGET_BATCH_MS.
    const perRow = (performance.now() - started) / items.length;
    this.batchLimit = Math.min(
      this.maxBatchSize,
      Math.max(MIN_BATCH_SIZE, Math.floor(TARGET_BATCH_MS / perRow)),
    );
  }
}

/** The fingerprints of the records a batch applied, with the events they wrote. */
async function recordApplied(
  sql: SqlQuery,
  job: ImportJob,
  applied: readonly { item: GoodRow; eventId: string | null }[],
) {
  if (applied.length === 0) return;
  await sql(
    `insert into "ImportedRecord" ("organizationId", fingerprint, "importJobId", row, "consentEventId")
     select $1::uuid, r.fingerprint, $2::uuid, r.row, r.event
     from unnest($3::text[], $4::int[], $5::uuid[]) as r(fingerprint, row, event)`,
    [
      job.organizationId,
      job.id,
      applied.map(({ item }) => item.fingerprint),
      applied.map(({ item }) => item.row),
      applied.map(({ eventId }) => eventId),
    ],
  );
}

async function knownFingerprints(
  sql: SqlQuery,
  organizationId: string,
  fingerprints: string[],
): Promise<Set<string>> {
  if (fingerprints.length === 0) return new Set();
  const rows = await sql<{ fingerprint: string }>(
    `select fingerprint from "ImportedRecord"
     where "organizationId" = $1::uuid and fingerprint = any($2::text[])`,
    [organizationId, fingerprints],
  );
  return new Set(rows.map((r) => r.fingerprint));
}

/**
 * Runs a job over the file's content to its end. Resolves with the finished job, FAILED with a
 * message when the file cannot be imported (a bad header, unreadable CSV); rejects only on an
 * unexpected error, after recording it on the job. Rows committed before a failure stay: running
 * the same file again resumes, since records already applied are skipped.
 */
export function runImport(
  runtime: Runtime,
  job: ImportJob,
  input: Readable,
  options: ImportOptions = {},
): Promise<ImportJob> {
  return new ImportRun(runtime, job, options).run(input);
}
