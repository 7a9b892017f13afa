// Serves the admin view at /admin: the files scripts/build-admin.mjs writes to dist/admin/, with a
// Content-Security-Policy that lets the page run only its own script and stylesheet and talk only
// to this server (GraphQL over HTTP and WebSocket).
import type { IncomingMessage, ServerResponse } from "node:http";
import { serveBuiltFiles, socketSources } from "./built-files.ts";

export const ADMIN_PATH = "/admin";

export function contentSecurityPolicy(host: string | undefined): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${socketSources(host)}`,
    "img-src 'self'",
    "base-uri 'none'",
    // The key never leaves through a form: the page submits nothing by itself.
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join("; ");
}

const serveFile = serveBuiltFiles({
  folder: "admin",
  what: "The admin view",
  buildCommand: "npm run build:admin",
  contentSecurityPolicy,
});

/** Answers a request for `/admin` or `/admin/…`; never rejects. */
export function serveAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  logError: (error: unknown) => void,
): Promise<void> {
  const name =
    path === ADMIN_PATH || path === `${ADMIN_PATH}/`
      ? "index.html"
      : path.slice(ADMIN_PATH.length + 1);
  return serveFile(req, res, name, logError);
}
