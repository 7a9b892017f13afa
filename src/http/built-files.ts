// Serves the files a build script writes to dist/<folder>/ (the admin view, GraphiQL): one flat
// name at a time, with the page's Content-Security-Policy and the same security headers, and a
// clear 503 when the build is missing (a production install without dev dependencies).
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { INSTALL_ROOT } from "../install-root.ts";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** One flat file name of the build (no folders, no dot files): nothing outside it can be named. */
const FILE_NAME = /^[a-z0-9-]+(\.[a-z0-9]+)+$/;

/** A Host header safe to repeat in a policy (a name or address and a port, nothing else). */
const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

/**
 * The WebSocket sources of this host for `connect-src`: 'self' covers ws: and wss: to the same
 * host in current browsers; older ones need them spelled out.
 */
export const socketSources = (host: string | undefined) =>
  host && HOST.test(host) ? ` ws://${host} wss://${host}` : "";

export interface BuiltFiles {
  /** the folder under dist/ */
  folder: string;
  /** what the files are, for messages ("The admin view") */
  what: string;
  /** the command that builds them */
  buildCommand: string;
  contentSecurityPolicy: (host: string | undefined) => string;
  /** more response headers for the files */
  headers?: Record<string, string>;
}

/** A file name the build may hold: flat, of a type served. */
export const isBuiltFileName = (name: string) =>
  FILE_NAME.test(name) && extname(name) in CONTENT_TYPES;

/** Answers a GET or HEAD for one file of the build (`name` checked first); never rejects. */
export function serveBuiltFiles(files: BuiltFiles) {
  const built = pathToFileURL(join(INSTALL_ROOT, "dist", files.folder, "/"));
  const headersFor = (req: IncomingMessage) => ({
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    // the files are rebuilt in place (no content hashes in their names): always revalidate
    "cache-control": "no-cache",
    "content-security-policy": files.contentSecurityPolicy(req.headers.host),
    ...files.headers,
  });
  const plain = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    text: string,
    headers = {},
  ) => {
    res.writeHead(status, {
      ...headersFor(req),
      ...headers,
      "content-type": "text/plain; charset=utf-8",
    });
    res.end(`${text}\n`);
  };

  return async (
    req: IncomingMessage,
    res: ServerResponse,
    name: string | null,
    logError: (error: unknown) => void,
  ): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(req, res, 405, "Method not allowed.", { allow: "GET, HEAD" });
    }
    if (name === null || !isBuiltFileName(name)) return plain(req, res, 404, "Not found.");
    let body: Buffer;
    try {
      body = await readFile(new URL(name, built));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        logError(error);
        return plain(req, res, 500, `${files.what} could not be read.`);
      }
      return name === "index.html"
        ? plain(req, res, 503, `${files.what} is not built: run \`${files.buildCommand}\`.`)
        : plain(req, res, 404, "Not found.");
    }
    res.writeHead(200, {
      ...headersFor(req),
      "content-type": CONTENT_TYPES[extname(name)],
      "content-length": body.length,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}
