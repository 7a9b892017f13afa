// Serves GraphiQL: the page at GET /graphql for a browser (Accept: text/html) and its assets under
// /graphiql/, all from dist/graphiql/ (scripts/build-graphiql.mjs), never from a CDN. Served only
// while the schema is exposed (OPTGRAPH_EXPOSE_SCHEMA: on outside production), like introspection.
import type { IncomingMessage, ServerResponse } from "node:http";
import { serveBuiltFiles, socketSources } from "./built-files.ts";

export const GRAPHIQL_ASSETS_PATH = "/graphiql";

/**
 * The page runs only its own script and talks only to this server. GraphiQL's editor and React
 * set inline styles, and its stylesheet carries its fonts and icons as data: URLs.
 */
export function graphiqlContentSecurityPolicy(host: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${socketSources(host)}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A browser asking for the GraphQL endpoint as a page (what Yoga's own GraphiQL answered). */
export function wantsGraphiQL(req: IncomingMessage, path: string, endpoint: string): boolean {
  return (
    path === endpoint &&
    (req.method === "GET" || req.method === "HEAD") &&
    (req.headers.accept ?? "").includes("text/html")
  );
}

export function isGraphiQLAsset(path: string): boolean {
  return path.startsWith(`${GRAPHIQL_ASSETS_PATH}/`);
}

const serveFile = serveBuiltFiles({
  folder: "graphiql",
  what: "GraphiQL",
  buildCommand: "npm run build:graphiql",
  contentSecurityPolicy: graphiqlContentSecurityPolicy,
  // the page answers at /graphql beside the JSON API: caches must keep them apart
  headers: { vary: "accept" },
});

/** Answers the page (path: the GraphQL endpoint) or one of its assets; never rejects. */
export function serveGraphiQL(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  logError: (error: unknown) => void,
): Promise<void> {
  const name = isGraphiQLAsset(path) ? path.slice(GRAPHIQL_ASSETS_PATH.length + 1) : "index.html";
  return serveFile(req, res, name, logError);
}
