// GET /schema.graphql: the public contract as SDL, without an API key, so consumers can generate
// their types (docs/consumers/codegen.ts) from a running server even where introspection is off.
// It is the printed executable schema, byte for byte the committed schema/schema.graphql (the
// drift check keeps them equal), with an ETag so tools revalidate instead of downloading it again.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { printSchema, type GraphQLSchema } from "graphql";

export const PUBLISHED_SCHEMA_PATH = "/schema.graphql";

export function publishedSchema(schema: GraphQLSchema) {
  const body = Buffer.from(`${printSchema(schema)}\n`);
  const etag = `"${createHash("sha256").update(body).digest("base64url")}"`;
  const headers = {
    // no registered media type for SDL; GraphQL tools read it as text
    "content-type": "text/plain; charset=utf-8",
    etag,
    "cache-control": "public, max-age=300, must-revalidate",
    "x-content-type-options": "nosniff",
  };

  return function serve(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      return void res.end("Method not allowed.\n");
    }
    const known = req.headers["if-none-match"]?.split(",").map((tag) => tag.trim());
    if (known?.includes(etag) || known?.includes("*")) {
      return void res.writeHead(304, headers).end();
    }
    res.writeHead(200, { ...headers, "content-length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}
