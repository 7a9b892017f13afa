// A real HTTP GraphQL client for tests, typed by the documents codegen generates (the shared ones
// are in ./documents.ts): `execute`/`ok`/`failure` against the shared test app, `executeAt` against
// any server with a client timeout; plus helpers that set up an organization and count its rows.
import { print, type DocumentNode, type ExecutionResult } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { CreateOrganization } from "./documents.ts";
import { PLATFORM_KEY, testApp } from "./app.ts";

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export interface GqlResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GqlError[] | undefined;
}

/** POSTs a document to a server's /graphql, as an ADMIN client would. */
function post(
  base: string,
  key: string | null,
  document: DocumentNode,
  variables: unknown,
  signal?: AbortSignal,
) {
  return fetch(`${base}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
    signal,
  });
}

export async function execute<T, V>(
  key: string | null,
  document: TypedDocumentNode<T, V>,
  ...[variables]: V extends Record<string, never> ? [] | [V] : [V]
): Promise<GqlResponse<T>> {
  const app = await testApp();
  const response = await post(`http://127.0.0.1:${app.server.port}`, key, document, variables);
  const body = (await response.json()) as ExecutionResult<T>;
  return {
    status: response.status,
    data: body.data,
    errors: body.errors as GqlError[] | undefined,
  };
}

/**
 * `execute` against any server (`base`, e.g. a spawned instance), bounded by a client timeout:
 * the request rejects with a TimeoutError after `timeoutMs`, and a body that is not JSON (a proxy's
 * or a dying server's answer) comes back as an error instead of a throw.
 */
export async function executeAt<T, V>(
  base: string,
  key: string | null,
  document: TypedDocumentNode<T, V>,
  variables: V,
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<GqlResponse<T>> {
  const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const response = await post(base, key, document, variables, signal);
  const text = await response.text();
  let body: ExecutionResult<T>;
  try {
    body = JSON.parse(text) as ExecutionResult<T>;
  } catch {
    return {
      status: response.status,
      data: undefined,
      errors: [{ message: `not JSON: ${text.slice(0, 200)}` }],
    };
  }
  return {
    status: response.status,
    data: body.data,
    errors: body.errors as GqlError[] | undefined,
  };
}

/** A response's data, or a throw with its status and errors when it has errors or no data. */
function dataOf<T>(result: GqlResponse<T>): T {
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL request failed (${result.status}): ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

/** The data of a response that must have succeeded; fails the test with the errors otherwise. */
export async function ok<T, V>(
  key: string | null,
  document: TypedDocumentNode<T, V>,
  ...variables: V extends Record<string, never> ? [] | [V] : [V]
): Promise<T> {
  return dataOf(await execute(key, document, ...variables));
}

/** `ok` against any server, with `executeAt`'s client timeout. */
export async function okAt<T, V>(
  base: string,
  key: string | null,
  document: TypedDocumentNode<T, V>,
  variables: V,
  options: { timeoutMs?: number } = {},
): Promise<T> {
  return dataOf(await executeAt(base, key, document, variables, options));
}

/** The single error of a response that must have failed. */
export async function failure<T, V>(
  key: string | null,
  document: TypedDocumentNode<T, V>,
  ...variables: V extends Record<string, never> ? [] | [V] : [V]
): Promise<GqlError & { status: number }> {
  const result = await execute(key, document, ...variables);
  if (!result.errors?.length)
    throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
  return { ...result.errors[0], status: result.status };
}

let orgCounter = 0;

/** A fresh organization and its ADMIN key: the unit of isolation between tests. */
export async function newOrganization(name = `org ${process.pid}-${++orgCounter}-${Date.now()}`) {
  const data = await ok(PLATFORM_KEY, CreateOrganization, { name });
  const app = await testApp();
  const { decodeGlobalID } = await import("@pothos/plugin-relay");
  return {
    id: data.createOrganization.organization.id,
    rowId: decodeGlobalID(data.createOrganization.organization.id).id,
    adminKey: data.createOrganization.secret,
    prisma: app.db.prisma,
  };
}

/** Rows of every kind in one organization: "nothing written" checks compare two of these. */
export async function rowCounts(organizationId: string) {
  const app = await testApp();
  const prisma = app.db.prisma;
  const where = { organizationId };
  const [
    apiKeys,
    senders,
    campaigns,
    disclosures,
    subscribers,
    consents,
    consentEvents,
    keywordEvents,
  ] = await Promise.all([
    prisma.apiKey.count({ where }),
    prisma.sender.count({ where }),
    prisma.campaign.count({ where }),
    prisma.disclosureVersion.count({ where: { campaign: where } }),
    prisma.subscriber.count({ where }),
    prisma.consent.count({ where }),
    prisma.consentEvent.count({ where }),
    prisma.keywordEvent.count({ where }),
  ]);
  return {
    apiKeys,
    senders,
    campaigns,
    disclosures,
    subscribers,
    consents,
    consentEvents,
    keywordEvents,
  };
}
