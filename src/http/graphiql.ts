// Serves GraphiQL: the page at GET /graphql for a browser (Accept: text/html) and its assets under
// /graphiql/, all from dist/graphiql/ (scripts/build-graphiql.mjs), never from a CDN. Served only
// while the schema is exposed (OPTGRAPH_EXPOSE_SCHEMA: on outside production), like introspection.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { INSTALL_ROOT } from "../install-root.ts";

export const GRAPHIQL_ASSETS_PATH = "/graphiql";

const BUILT = pathToFileURL(join(INSTALL_ROOT, "dist", "graphiql", "/"));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** One flat file name of the build (no folders, no dot files): nothing outside it can be named. */
const FILE_NAME = /^[a-z0-9-]+(\.[a-z0-9]+)+$/;

/** A Host header safe to repeat in the policy (a name or address and a port, nothing else). */
const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The page runs only its own script and talks only to this server. GraphiQL's editor and React
 * set inline styles, and its stylesheet carries its fonts and icons as data: URLs.
 */
export function graphiqlContentSecurityPolicy(host: string | undefined): string {
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
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

function plain(res: ServerResponse, status: number, text: string, headers = {}) {
  res.writeHead(status, { ...headers, "content-type": "text/plain; charset=utf-8" });
  res.end(`${text}\n`);
}

/** Answers the page (path: the GraphQL endpoint) or one of its assets; never rejects. */
export async function serveGraphiQL(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  logError: (error: unknown) => void,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return plain(res, 405, "Method not allowed.", { allow: "GET, HEAD" });
  }
  const name = isGraphiQLAsset(path) ? path.slice(GRAPHIQL_ASSETS_PATH.length + 1) : "index.html";
  if (!FILE_NAME.test(name) || !(extname(name) in CONTENT_TYPES)) {
    return plain(res, 404, "Not found.");
  }
  let body: Buffer;
  try {
    body = await readFile(new URL(name, BUILT));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      logError(error);
      return plain(res, 500, "GraphiQL could not be read.");
    }
    return name === "index.html"
      ? plain(res, 503, "GraphiQL is not built: run `npm run build:graphiql`.")
      : plain(res, 404, "Not found.");
  }
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(name)],
    "content-length": body.length,
    "content-security-policy": graphiqlContentSecurityPolicy(req.headers.host),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-cache",
    // the page answers at /graphql beside the JSON API: caches must keep them apart
    vary: "accept",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
