// GET /schema.graphql: the public contract without a key, byte for byte the committed
// schema/schema.graphql, as text with an ETag that a revalidation answers with 304.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { testApp } from "../support/app.ts";

const committed = readFileSync(new URL("../../schema/schema.graphql", import.meta.url), "utf8");

describe("GET /schema.graphql", () => {
  it("serves the committed SDL without a key, with an ETag and caching headers", async () => {
    const url = `http://127.0.0.1:${(await testApp()).server.port}/schema.graphql`;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(await response.text()).toBe(committed);
    const etag = response.headers.get("etag");
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    const again = await fetch(url, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const stale = await fetch(url, { headers: { "if-none-match": '"other"' } });
    expect(stale.status).toBe(200);

    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("etag")).toBe(etag);
    const post = await fetch(url, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });
});
