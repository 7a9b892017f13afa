// The edge of the service against a client that does not play by the rules: bodies larger than
// the limit sent without a length (chunked), guessed keys, exports hammered past the rate limit,
// and anonymous requests that probe the schema.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { PLATFORM_KEY, testApp, testEnv } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization } from "../support/graphql.ts";

const MiB = 1024 * 1024;

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** bytes of the body the client had written when the answer came */
  written: number;
}

/**
 * A POST whose body goes out chunked (no Content-Length): `head`, then `size` bytes of `fill`,
 * then `tail`, written as fast as the server reads them, until the server answers.
 */
function sendChunked(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: { head: string; fill: string; size: number; tail: string },
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: text, written }),
      );
      res.on("error", reject);
    });
    // once the server has answered it may close the connection under the rest of the body
    req.on("error", (error) => (answered ? undefined : reject(error)));
    const chunk = Buffer.from(body.fill.repeat(Math.ceil(65_536 / body.fill.length)));
    const write = () => {
      while (!answered && written < body.size) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      if (!answered) req.end(body.tail);
    };
    req.write(body.head);
    write();
  });
}

describe("body limit on the bytes read (chunked bodies)", () => {
  let port: number;
  let adminKey: string;
  beforeAll(async () => {
    port = (await testApp()).server.port;
    adminKey = (await newOrganization()).adminKey;
  });

  it("refuses a 20 MB chunked GraphQL body with 413 and stops reading it", async () => {
    const sent = await sendChunked(
      port,
      "/graphql",
      { "content-type": "application/json", authorization: `Bearer ${adminKey}` },
      {
        head: '{"query":"{ viewer { role } }","variables":{"padding":"',
        fill: "x",
        size: 20 * MiB,
        tail: '"}}',
      },
    );
    expect(sent.status).toBe(413);
    expect(JSON.parse(sent.body).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(sent.written).toBeLessThan(20 * MiB);
  });

  it("refuses a 10 MB chunked CSV upload with 413", async () => {
    const campaign = await createCampaign(adminKey, { purpose: "INFORMATIONAL" });
    const boundary = "optgraphEdgeBoundary";
    const part = (name: string, value: string, file = "") =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file}\r\n\r\n${value}\r\n`;
    const operations = JSON.stringify({
      query:
        "mutation ($file: File!, $campaignId: ID) { importConsents(input: { file: $file, campaignId: $campaignId }) { importJob { id } } }",
      variables: { file: null, campaignId: campaign.id },
    });
    const sent = await sendChunked(
      port,
      "/graphql",
      {
        "content-type": `multipart/form-data; boundary=${boundary}`,
        authorization: `Bearer ${adminKey}`,
        "x-graphql-yoga-csrf": "1",
      },
      {
        head:
          part("operations", operations) +
          part("map", '{"0":["variables.file"]}') +
          `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\nbad_header\n`,
        fill: "+14155550100\n",
        size: 10 * MiB,
        tail: `\r\n--${boundary}--\r\n`,
      },
    );
    expect(sent.status).toBe(413);
  });

  it("refuses a chunked Twilio webhook body over 64 KiB with 413", async () => {
    const sent = await sendChunked(
      port,
      "/webhooks/twilio/sms",
      { "content-type": "application/x-www-form-urlencoded" },
      { head: "Body=", fill: "a", size: MiB, tail: "&From=%2B14155550100" },
    );
    expect(sent.status).toBe(413);
  });
});

/** An app of its own, configured for one test group. */
async function ownApp(env: Record<string, string>, onQuery?: (sql: string) => void) {
  return startApp(loadConfig(testEnv({ LOG_LEVEL: "silent", ...env })), {
    logError: () => undefined,
    onQuery,
  });
}

async function createOrganization(base: string) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${PLATFORM_KEY}` },
    body: JSON.stringify({
      query: "mutation($n: String!) { createOrganization(input: { name: $n }) { secret } }",
      variables: { n: `edge ${Date.now()}-${Math.random()}` },
    }),
  });
  const body = (await response.json()) as any;
  return body.data.createOrganization.secret as string;
}

describe("failed authentication is throttled per client address", () => {
  let app: App;
  let base: string;
  const queries: string[] = [];
  beforeAll(async () => {
    app = await ownApp({ OPTGRAPH_AUTH_FAILURES_PER_MINUTE: "5" }, (sql) => queries.push(sql));
    base = `http://127.0.0.1:${app.server.port}`;
  });
  afterAll(() => app?.stop());

  const guess = (i: number) =>
    fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer og_guess_${i}_x` },
      body: JSON.stringify({ query: "{ viewer { role } }" }),
    });

  it("answers 401 up to the limit, then 429 RATE_LIMITED with Retry-After and no key lookup", async () => {
    for (let i = 0; i < 5; i++) expect((await guess(i)).status).toBe(401);
    queries.length = 0;
    const statuses: number[] = [];
    for (let i = 5; i < 25; i++) {
      const response = await guess(i);
      statuses.push(response.status);
      if (i === 5) {
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
        const body = (await response.json()) as any;
        expect(body.errors[0].extensions.code).toBe("RATE_LIMITED");
      }
    }
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 429));
    expect(queries.filter((sql) => /ApiKey/.test(sql))).toEqual([]);

    const exported = await fetch(`${base}/exports/audience.csv?campaignId=x`, {
      headers: { authorization: "Bearer og_guess_export_x" },
    });
    expect(exported.status).toBe(429);
    expect(((await exported.json()) as any).error.code).toBe("RATE_LIMITED");
  });
});

describe("exports count against the key's rate limit", () => {
  let app: App;
  let base: string;
  beforeAll(async () => {
    app = await ownApp({ OPTGRAPH_RATE_LIMIT_ADMIN: "3" });
    base = `http://127.0.0.1:${app.server.port}`;
  });
  afterAll(() => app?.stop());

  it("answers 429 RATE_LIMITED with Retry-After past the limit", async () => {
    const key = await createOrganization(base);
    // the key's limit is per second: count within a fresh second
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${base}/exports/subscribers/unknown/evidence.json`, {
        headers: { authorization: `Bearer ${key}` },
      });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
      else await response.arrayBuffer();
    }
    expect(statuses.filter((status) => status === 404).length).toBeLessThanOrEqual(3);
    expect(statuses).toContain(429);
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused!.json()) as any).error.code).toBe("RATE_LIMITED");
  });
});

describe("schema exposure in production", () => {
  let app: App;
  let url: string;
  let key: string;
  beforeAll(async () => {
    app = await ownApp({ NODE_ENV: "production" });
    url = `http://127.0.0.1:${app.server.port}/graphql`;
    key = await createOrganization(`http://127.0.0.1:${app.server.port}`);
  });
  afterAll(() => app?.stop());

  const post = async (authorization: string | null, body: Record<string, unknown>) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  it("answers an anonymous request 401 before validation says anything about the schema", async () => {
    for (const query of [
      "{ viewr { role } }",
      'mutation { createApiKey(input: { name: "x", role: ADMN }) { secret } }',
      "{ __schema { types { name } } }",
      "{ viewer { role ",
    ]) {
      for (const authorization of [null, "Bearer og_unknown_key_0123456789"]) {
        const answer = await post(authorization, { query });
        expect(answer.status).toBe(401);
        expect(answer.text).toContain("UNAUTHENTICATED");
        expect(answer.text).not.toMatch(/Did you mean|viewer|ADMIN|Cannot query|__schema|Syntax/);
      }
    }
  });

  it("gives no suggestion of a field, argument or enum value to a valid key either", async () => {
    const answers = await Promise.all([
      post(`Bearer ${key}`, { query: "{ viewr { role } }" }),
      post(`Bearer ${key}`, {
        query: 'mutation { createApiKey(input: { name: "x", role: ADMN }) { secret } }',
      }),
      post(`Bearer ${key}`, {
        query:
          'mutation ($role: Role!) { createApiKey(input: { name: "x", role: $role }) { secret } }',
        variables: { role: "ADMN" },
      }),
      post(`Bearer ${key}`, { query: "{ viewer { rol } }" }),
    ]);
    for (const answer of answers) {
      expect(answer.text).toContain("BAD_USER_INPUT");
      expect(answer.text).not.toMatch(/Did you mean|"ADMIN"|"viewer"|"role"/);
    }
  });
});

describe("CORS", () => {
  let listed: App;
  let unlisted: App;
  beforeAll(async () => {
    [listed, unlisted] = await Promise.all([
      ownApp({ NODE_ENV: "production", OPTGRAPH_ALLOWED_ORIGINS: "https://admin.example" }),
      ownApp({ NODE_ENV: "production" }),
    ]);
  });
  afterAll(() => Promise.all([listed?.stop(), unlisted?.stop()]));

  const corsOf = async (app: App, origin: string, method: "POST" | "OPTIONS") => {
    const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
      method,
      headers: {
        origin,
        ...(method === "OPTIONS"
          ? {
              "access-control-request-method": "POST",
              "access-control-request-headers": "authorization, content-type",
            }
          : { "content-type": "application/json", authorization: `Bearer ${PLATFORM_KEY}` }),
      },
      body: method === "POST" ? JSON.stringify({ query: "{ viewer { role } }" }) : undefined,
    });
    await response.arrayBuffer();
    return {
      origin: response.headers.get("access-control-allow-origin"),
      credentials: response.headers.get("access-control-allow-credentials"),
    };
  };

  it("lets only a listed origin read answers, never with credentials", async () => {
    for (const method of ["POST", "OPTIONS"] as const) {
      expect(await corsOf(listed, "https://admin.example", method)).toEqual({
        origin: "https://admin.example",
        credentials: null,
      });
      expect(await corsOf(listed, "https://evil.example", method)).toEqual({
        origin: null,
        credentials: null,
      });
    }
  });

  it("denies every other origin by default in production", async () => {
    for (const method of ["POST", "OPTIONS"] as const) {
      expect(await corsOf(unlisted, "https://evil.example", method)).toEqual({
        origin: null,
        credentials: null,
      });
    }
  });
});
