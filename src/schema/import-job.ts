// Consent imports over GraphQL: a CSV uploaded as a multipart request becomes an import job that
// runs in the background; the job is read with its row errors, and watched as it advances.
import { GraphQLError } from "graphql";
import { badInput, notFoundAsSent } from "../domain/errors.ts";
import { ImportJobStatus } from "../generated/prisma/enums.ts";
import { findImportJob, startImport, watchImportJob } from "../services/import.ts";
import { sees, visible } from "../services/visibility.ts";
import { builder } from "./builder.ts";
import { asRowId, rowIdOf, rowIdOrNull } from "./ids.ts";

const MAX_ERRORS_PAGE = 1000;

const isUpload = (value: unknown): value is File =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as File).stream === "function" &&
  typeof (value as File).name === "string" &&
  typeof (value as File).size === "number";

builder.scalarType("File", {
  description: "A file sent in a multipart request (the GraphQL multipart request spec).",
  serialize: () => {
    throw new Error("File is an input type only.");
  },
  parseValue: (value) => {
    if (!isUpload(value)) {
      throw new GraphQLError("File: send the file as a part of a multipart request.");
    }
    return value;
  },
  parseLiteral: () => {
    throw new GraphQLError("File: send the file as a part of a multipart request.");
  },
});

const ImportJobStatusEnum = builder.enumType(ImportJobStatus, { name: "ImportJobStatus" });

const ImportRowError = builder.simpleObject("ImportRowError", {
  fields: (t) => ({
    row: t.int({ description: "The line of the file where the row starts (the header is 1)." }),
    reason: t.string({ description: "What is wrong, starting with the column at fault." }),
  }),
});

export const ImportJob = builder.prismaNode("ImportJob", {
  nullable: true,
  id: { field: "id" },
  authScopes: (row, ctx) => sees.importJob(ctx.actor, row),
  findUnique: (id, ctx) => ({ id: asRowId(id), AND: [visible.importJob(ctx.actor)] }),
  fields: (t) => ({
    status: t.expose("status", { type: ImportJobStatusEnum }),
    fileName: t.exposeString("fileName"),
    fileSha256: t.exposeString("fileSha256", {
      nullable: true,
      description: "SHA-256 (hex) of the file, once read to the end.",
    }),
    processed: t.exposeInt("processed", { description: "Data rows read so far." }),
    imported: t.exposeInt("imported", { description: "Rows that wrote a ledger event." }),
    skipped: t.exposeInt("skipped", {
      description:
        "Good rows that changed nothing: applied by an earlier import, already in that state, or older than the opt-out they would undo.",
    }),
    failed: t.exposeInt("failed", { description: "Rows reported in `errors`." }),
    message: t.exposeString("message", {
      nullable: true,
      description: "Why the job stopped, when it FAILED.",
    }),
    errors: t.field({
      type: [ImportRowError],
      description: "The rows that were not imported, by row.",
      args: {
        first: t.arg.int({ defaultValue: 100 }),
        afterRow: t.arg.int({ description: "Only rows after this one." }),
      },
      resolve: (job, args, ctx) => {
        const first = args.first ?? 100;
        if (first < 0 || first > MAX_ERRORS_PAGE) {
          throw badInput("first", `must be between 0 and ${MAX_ERRORS_PAGE}`);
        }
        return ctx.runtime.prisma.importRowError.findMany({
          where: {
            importJobId: job.id,
            ...(args.afterRow != null ? { row: { gt: args.afterRow } } : {}),
          },
          orderBy: { row: "asc" },
          take: first,
          select: { row: true, reason: true },
        });
      },
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true }),
    finishedAt: t.expose("finishedAt", { type: "DateTime", nullable: true }),
  }),
});

/** The database id behind an import job's global ID; unknown ones read as NOT_FOUND. */
function jobRowId(globalId: string): string {
  const id = rowIdOrNull("ImportJob", globalId);
  if (!id) throw notFoundAsSent("import job", globalId);
  return id;
}

builder.queryField("importJob", (t) =>
  t.prismaField({
    type: "ImportJob",
    nullable: true,
    authScopes: { configure: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = rowIdOrNull("ImportJob", String(args.id));
      if (!id) return null;
      return ctx.runtime.prisma.importJob.findFirst({
        ...query,
        where: { AND: [{ id }, visible.importJob(ctx.actor)] },
      });
    },
  }),
);

const ImportConsentsInput = builder.inputType("ImportConsentsInput", {
  fields: (t) => ({
    file: t.field({
      type: "File",
      required: true,
      description:
        "CSV with a header row: phone, status (opted_in | opted_out), occurred_at (ISO 8601 with a zone), and optionally method, campaign, ip, user_agent, source_url, consent_text.",
    }),
    campaignId: t.id({ description: "The campaign of rows whose campaign column is empty." }),
  }),
});

const ImportConsentsPayload = builder.simpleObject("ImportConsentsPayload", {
  fields: (t) => ({ importJob: t.field({ type: ImportJob }) }),
});

builder.mutationField("importConsents", (t) =>
  t.field({
    type: ImportConsentsPayload,
    description:
      "Imports consent records from a CSV file as a background job: each row becomes one IMPORT ledger event or a row error. Importing the same records again applies nothing twice.",
    authScopes: { configure: true },
    args: { input: t.arg({ type: ImportConsentsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      importJob: await startImport(ctx.runtime, ctx.actor, {
        file: input.file,
        campaignId: input.campaignId == null ? null : rowIdOf("Campaign", String(input.campaignId)),
      }),
    }),
  }),
);

builder.subscriptionField("importJobProgress", (t) =>
  t.field({
    type: ImportJob,
    description: "The job now, then after every batch it commits, until it SUCCEEDED or FAILED.",
    authScopes: { configure: true },
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const id = jobRowId(String(args.id));
      const organizationId = ctx.actor.organizationId;
      if (!(await findImportJob(ctx.runtime, organizationId, id))) {
        throw notFoundAsSent("import job", String(args.id));
      }
      return watchImportJob(ctx.runtime, organizationId, id);
    },
    resolve: (job) => job,
  }),
);
