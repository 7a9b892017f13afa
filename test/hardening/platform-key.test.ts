// The platform key can never be lost through the API: no ADMIN key (the default organization's
// included) may revoke it, and it is replaced only by itself, atomically, with rotatePlatformKey.
// Runs on a server and database of its own: the shared one's platform key must stay as it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type App } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { embeddedDataDir, testEnv } from "../support/app.ts";

const PLATFORM = "og_platform_key_of_its_own_0123456789";

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let app: App;

async function request(key: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`http://127.0.0.1:${app.server.port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Result;
}

const CREATE_ORGANIZATION = `mutation { createOrganization(input: { name: "Tenant" }) { organization { id } secret } }`;
const CREATE_ADMIN = `mutation { createApiKey(input: { name: "second admin", role: ADMIN }) { secret } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id revokedAt } } }`;
const ROTATE = `mutation { rotatePlatformKey { secret apiKey { id name role revokedAt } } }`;

const platformKeys = () =>
  app.db.prisma.apiKey.findMany({ where: { isPlatform: true }, orderBy: { createdAt: "asc" } });
const globalId = (id: string) => Buffer.from(`ApiKey:${id}`).toString("base64");

beforeAll(async () => {
  const env: Record<string, string> = testEnv({
    OPTGRAPH_DATA_DIR: embeddedDataDir(),
    OPTGRAPH_ADMIN_KEY: PLATFORM,
  });
  delete env.DATABASE_URL;
  app = await startApp(loadConfig(env), { logError: () => undefined });
});

afterAll(async () => {
  await app?.stop();
});

describe("the platform key", () => {
  it("cannot be revoked by another ADMIN of its organization, nor by itself", async () => {
    const [platform] = await platformKeys();
    const admin = await request(PLATFORM, CREATE_ADMIN);
    const adminKey = (admin.data!.createApiKey as { secret: string }).secret;
    for (const key of [adminKey, PLATFORM]) {
      const result = await request(key, REVOKE, { id: globalId(platform.id) });
      expect(result.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect(result.errors?.[0]?.message).toMatch(/rotatePlatformKey/);
    }
    expect((await platformKeys()).map((k) => k.revokedAt)).toEqual([null]);
    const created = await request(PLATFORM, CREATE_ORGANIZATION);
    expect(created.errors).toBeUndefined();
  });

  it("may be rotated only by itself: the new key works at once, the old one no longer", async () => {
    const created = await request(PLATFORM, CREATE_ORGANIZATION);
    const tenantAdmin = (created.data!.createOrganization as { secret: string }).secret;
    const admin = await request(PLATFORM, CREATE_ADMIN);
    const defaultAdmin = (admin.data!.createApiKey as { secret: string }).secret;
    for (const key of [tenantAdmin, defaultAdmin]) {
      const refused = await request(key, ROTATE);
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }

    const rotated = await request(PLATFORM, ROTATE);
    expect(rotated.errors).toBeUndefined();
    const payload = rotated.data!.rotatePlatformKey as {
      secret: string;
      apiKey: { role: string; revokedAt: string | null };
    };
    expect(payload.apiKey).toMatchObject({ role: "ADMIN", revokedAt: null });
    const keys = await platformKeys();
    expect(keys.filter((k) => k.revokedAt === null)).toHaveLength(1);

    const old = await request(PLATFORM, CREATE_ORGANIZATION);
    expect(old.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const fresh = await request(payload.secret, CREATE_ORGANIZATION);
    expect(fresh.errors).toBeUndefined();
  });
});
