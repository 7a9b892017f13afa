// Serves the admin view at /admin: the files scripts/build-admin.mjs writes to dist/admin/, with a
// Content-Security-Policy that lets the page run only its own script and stylesheet and talk only
// to this server (GraphQL over HTTP and WebSocket).
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { INSTALL_ROOT } from "../install-root.ts";

export const ADMIN_PATH = "/admin";

const BUILT = pathToFileURL(join(INSTALL_ROOT, "dist", "admin", "/"));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** One flat file name of the build (no folders, no dot files): nothing outside it can be named. */
const FILE_NAME = /^[a-z0-9-]+(\.[a-z0-9]+)+$/;

/** A Host header safe to repeat in the policy (a name or address and a port, nothing else). */
const HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

export function contentSecurityPolicy(host: string | undefined): string {
  // 'self' covers ws: and wss: to the same host in current browsers; older ones need it spelled out.
  const sockets = host && HOST.test(host) ? ` ws://${host} wss://${host}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${sockets}`,
    "img-src 'self'",
    "base-uri 'none'",
    // The key never leaves through a form: the page submits nothing by itself.
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  // the files are rebuilt in place (no content hashes in their names): always revalidate
  "cache-control": "no-cache",
};

function fileOf(path: string): string | null {
  if (path === ADMIN_PATH || path === `${ADMIN_PATH}/`) return "index.html";
  const name = path.slice(ADMIN_PATH.length + 1);
  return FILE_NAME.test(name) && extname(name) in CONTENT_TYPES ? name : null;
}

const headersFor = (req: IncomingMessage) => ({
  ...SECURITY_HEADERS,
  "content-security-policy": contentSecurityPolicy(req.headers.host),
});

function plain(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  headers = {},
) {
  res.writeHead(status, {
    ...headersFor(req),
    ...headers,
    "content-type": "text/plain; charset=utf-8",
  });
  res.end(`${text}\n`);
}

/** Answers a request for `/admin` or `/admin/…`; never rejects. */
export async function serveAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  logError: (error: unknown) => void,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return plain(req, res, 405, "Method not allowed.", { allow: "GET, HEAD" });
  }
  const name = fileOf(path);
  if (!name) return plain(req, res, 404, "Not found.");
  let body: Buffer;
  try {
    body = await readFile(new URL(name, BUILT));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      logError(error);
      return plain(req, res, 500, "The admin view could not be read.");
    }
    return name === "index.html"
      ? plain(req, res, 503, "The admin view is not built: run `npm run build:admin`.")
      : plain(req, res, 404, "Not found.");
  }
  res.writeHead(200, {
    ...headersFor(req),
    "content-type": CONTENT_TYPES[extname(name)],
    "content-length": body.length,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
