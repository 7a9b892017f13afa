// Shared by the import and export tests: running an import through the service on the shared
// app, the GraphQL documents they use, a multipart upload client and a graphql-ws subscriber.
import { Readable } from "node:stream";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type FormattedExecutionResult } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { createImportJob, runImport, type ImportOptions } from "../../src/services/import.ts";
import type { Runtime } from "../../src/services/runtime.ts";
import { testApp } from "../support/app.ts";
import { graphql } from "../generated/gql.ts";

export const CSV_HEADER =
  "phone,status,occurred_at,method,campaign,ip,user_agent,source_url,consent_text";

/** Imports `csv` through the service, as the command line does; returns the job and its errors. */
export async function importCsv(
  organizationId: string,
  csv: string,
  options: ImportOptions & {
    campaignId?: string | null;
    fileName?: string;
    runtime?: Runtime;
  } = {},
) {
  const runtime = options.runtime ?? (await testApp()).runtime;
  const job = await createImportJob(runtime, {
    organizationId,
    apiKeyId: null,
    fileName: options.fileName ?? "consents.csv",
    campaignId: options.campaignId ?? null,
  });
  const errors: { row: number; reason: string }[] = [];
  const done = await runImport(runtime, job, Readable.from([Buffer.from(csv)]), {
    ...options,
    onRowError: (row, reason) => errors.push({ row, reason }),
  });
  return { job: done, errors: errors.sort((a, b) => a.row - b.row) };
}

/** The database id inside a global ID. */
export const rowId = (globalId: string) =>
  Buffer.from(globalId, "base64").toString("utf8").split(":")[1];

export const globalId = (typename: string, id: string) =>
  Buffer.from(`${typename}:${id}`).toString("base64");

export async function ledgerOf(organizationId: string) {
  const app = await testApp();
  return app.db.prisma.consentEvent.findMany({
    where: { organizationId },
    orderBy: { sequence: "asc" },
  });
}

export async function consentOf(organizationId: string, phone: string, campaignId: string) {
  const app = await testApp();
  return app.db.prisma.consent.findFirst({
    where: { organizationId, campaignId, subscriber: { phone } },
  });
}

// ---------------------------------------------------------------------------------------------
// GraphQL documents

export const ImportConsents = graphql(`
  mutation ImportConsentsUpload($input: ImportConsentsInput!) {
    importConsents(input: $input) {
      importJob {
        id
        status
        fileName
      }
    }
  }
`);

export const ImportJobQuery = graphql(`
  query ImportJobRead($id: ID!, $first: Int, $afterRow: Int) {
    importJob(id: $id) {
      id
      status
      fileName
      fileSha256
      processed
      imported
      skipped
      failed
      message
      errors(first: $first, afterRow: $afterRow) {
        row
        reason
      }
      createdAt
      startedAt
      finishedAt
    }
  }
`);

export const ImportJobProgress = graphql(`
  subscription ImportJobWatch($id: ID!) {
    importJobProgress(id: $id) {
      id
      status
      processed
      imported
      skipped
      failed
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Transports

/** A GraphQL multipart request (the spec Yoga implements) carrying `csv` as `input.file`. */
export async function upload(
  key: string | null,
  csv: string,
  variables: { campaignId?: string | null },
  fileName = "consents.csv",
) {
  const app = await testApp();
  const form = new FormData();
  form.set(
    "operations",
    JSON.stringify({
      query: print(ImportConsents),
      variables: { input: { file: null, campaignId: variables.campaignId ?? null } },
    }),
  );
  form.set("map", JSON.stringify({ 0: ["variables.input.file"] }));
  form.set("0", new Blob([csv], { type: "text/csv" }), fileName);
  const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
    method: "POST",
    body: form,
    headers: {
      accept: "application/graphql-response+json",
      "x-graphql-yoga-csrf": "1",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
  });
  const body = (await response.json()) as FormattedExecutionResult<{
    importConsents: { importJob: { id: string; status: string; fileName: string } };
  }>;
  return { status: response.status, ...body };
}

/** Everything a subscription delivers over graphql-ws until it completes (or errors). */
export async function collect<T, V>(
  key: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<FormattedExecutionResult<T, unknown>[]> {
  const app = await testApp();
  const client = createClient({
    url: `ws://127.0.0.1:${app.server.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: true,
  });
  const results: FormattedExecutionResult<T, unknown>[] = [];
  try {
    const iterator = client.iterate<T>({
      query: print(document),
      variables: variables as Record<string, unknown>,
    });
    for await (const result of iterator) {
      results.push(result);
      if (result.errors) break;
    }
  } catch (error) {
    results.push({ errors: (Array.isArray(error) ? error : [error]) as never });
  } finally {
    await client.dispose();
  }
  return results;
}
