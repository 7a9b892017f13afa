// The configuration's one definition: the README's table is generated from it, every variable the
// code reads goes through it, bad values name the variable (never a secret's value), and unknown
// OPTGRAPH_* variables are reported with the nearest valid name.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { README, readmeWithTable } from "../../scripts/docs-config.ts";
import { VARIABLES } from "../../src/config-definition.ts";
import { loadConfig, unknownVariableWarnings } from "../../src/config.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mjs)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !file.includes("/generated/"));
}

describe("the configuration definition", () => {
  it("is what the README's table shows (run `npm run docs:config` after changing it)", async () => {
    const readme = readFileSync(README, "utf8");
    expect(await readmeWithTable(readme)).toBe(readme);
    for (const name of Object.keys(VARIABLES)) expect(readme).toContain(`| \`${name}\``);
  });

  it("holds every variable the service and its scripts read", () => {
    const undefinedNames: string[] = [];
    for (const file of [...sources("src"), ...sources("scripts")]) {
      const text = readFileSync(file, "utf8");
      // the install script passes Prisma's and the shell's own variables to the tools it runs
      if (file.endsWith("scripts/generate.mjs")) continue;
      const where = file.slice(ROOT.length);
      // (a quoted "process.env.X" is text, such as a bundler's define)
      for (const [, name] of text.matchAll(/(?<!["'])process\.env\.([A-Z_][A-Z0-9_]*)/g)) {
        undefinedNames.push(`${where}: process.env.${name} (read it through config-definition.ts)`);
      }
      const named =
        /\benv\.([A-Z][A-Z0-9_]+)|["'`]((?:OPTGRAPH|DB|LOG|TWILIO|REDIS)_[A-Z0-9_]+)["'`]/g;
      for (const [, property, literal] of text.matchAll(named)) {
        const name = property ?? literal;
        if (!(name in VARIABLES)) undefinedNames.push(`${where}: ${name}`);
      }
    }
    expect(undefinedNames).toEqual([]);
  });

  it("gives the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: "development",
      host: "0.0.0.0",
      port: 4000,
      database: { kind: "pglite", dataDir: ".optgraph/db" },
      adminKey: undefined,
      defaultRegion: "US",
      exposeSchema: true,
      logLevel: "info",
      allowedOrigins: [],
      limits: { depth: 6, aliases: 15, cost: 5000, bodyBytes: 1_048_576 },
      rateLimits: { ADMIN: 500, OPERATOR: 200, PARTNER: 100, VIEWER: 50 },
    });
    expect(loadConfig({ NODE_ENV: "production" })).toMatchObject({
      exposeSchema: false,
      logLevel: "info",
    });
    expect(loadConfig({ NODE_ENV: "test" }).logLevel).toBe("silent");
  });

  it.each([
    ["PORT", "eighty", 'configuration: PORT must be a whole number, got "eighty"'],
    ["PORT", "70000", "configuration: PORT must be between 0 and 65535, got 70000"],
    [
      "NODE_ENV",
      "staging",
      'configuration: NODE_ENV must be development, production or test, got "staging"',
    ],
    [
      "LOG_LEVEL",
      "loud",
      'configuration: LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent, got "loud"',
    ],
    [
      "OPTGRAPH_EXPOSE_SCHEMA",
      "maybe",
      'configuration: OPTGRAPH_EXPOSE_SCHEMA must be true or false, got "maybe"',
    ],
    [
      "OPTGRAPH_DEFAULT_REGION",
      "USA",
      'configuration: OPTGRAPH_DEFAULT_REGION must be a two-letter country code, got "USA"',
    ],
    [
      "REDIS_URL",
      "http://cache:6379",
      "configuration: REDIS_URL must use redis: or rediss:, got http:",
    ],
  ])("refuses %s=%s with one line naming it", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it("never repeats a secret's value in its error", () => {
    const cases = {
      DATABASE_URL: "mysql://app:hunter2-secret@db/app",
      OPTGRAPH_ADMIN_KEY: "hunter2-secret",
      REDIS_URL: "not a url hunter2-secret",
    };
    for (const [name, value] of Object.entries(cases)) {
      expect(VARIABLES[name as keyof typeof VARIABLES].secret).toBe(true);
      let message = "";
      try {
        loadConfig({ [name]: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(name);
      expect(message).not.toContain("hunter2");
    }
  });
});

describe("unknown variables", () => {
  it("names the nearest valid variable for a misspelling", () => {
    expect(
      unknownVariableWarnings({ OPTGRAPH_ADMN_KEY: "x", OPTGRAPH_RATE_LIMT_PARTNER: "5" }),
    ).toEqual([
      "unknown variable OPTGRAPH_ADMN_KEY; did you mean OPTGRAPH_ADMIN_KEY?",
      "unknown variable OPTGRAPH_RATE_LIMT_PARTNER; did you mean OPTGRAPH_RATE_LIMIT_PARTNER?",
    ]);
  });

  it("says a far-off name is ignored, and leaves other prefixes (OTEL_*, PATH) alone", () => {
    expect(
      unknownVariableWarnings({
        OPTGRAPH_SOMETHING_ELSE_ENTIRELY: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
        PATH: "/bin",
        OPTGRAPH_PORT_TYPO: undefined,
        ...Object.fromEntries(Object.keys(VARIABLES).map((name) => [name, ""])),
      }),
    ).toEqual([
      "unknown variable OPTGRAPH_PORT_TYPO; it is ignored",
      "unknown variable OPTGRAPH_SOMETHING_ELSE_ENTIRELY; it is ignored",
    ]);
  });
});
