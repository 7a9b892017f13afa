// A seeded fuzz run: thousands of operations generated from the schema itself, with random (often
// wrong) arguments and variables, against the live server. No response may be a 5xx, every error
// must carry one of the public codes, none may be an unexpected (masked internal) error, and the
// server must still be healthy afterwards. FUZZ_CASES and FUZZ_SEED override the defaults.
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from "graphql";
import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";
import { onceAcrossEngines, testApp } from "../support/app.ts";
import { createCampaign } from "../support/fixtures.ts";
import { newOrganization, ok } from "../support/graphql.ts";
import { graphql } from "../generated/gql.ts";

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const PUBLIC_CODES = new Set([
  "BAD_USER_INPUT",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
]);

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Generator {
  constructor(
    private readonly random: () => number,
    private readonly ids: string[],
  ) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  chance(p: number) {
    return this.random() < p;
  }

  string(): string {
    return this.pick([
      "",
      "+14155550100",
      "(415) 555-0123",
      "4155550199",
      "12",
      "not a number",
      "STOP",
      "JOIN",
      "x".repeat(300),
      "ünïcödé 🎉",
      "https://example.com/terms",
      "2026-11-28T12:00:00Z",
      "null",
      '\'; drop table "ConsentEvent"; --',
      String(Math.floor(this.random() * 1e9)),
    ]);
  }

  /** A JSON value for a variable of the given type: usually plausible, sometimes wrong. */
  value(type: GraphQLInputType, depth = 0): unknown {
    if (this.chance(0.05)) return this.pick([null, 42, "wrong", true, [], {}]);
    if (isNonNullType(type)) return this.value(type.ofType, depth);
    if (isListType(type))
      return Array.from({ length: Math.floor(this.random() * 4) }, () =>
        this.value(type.ofType, depth + 1),
      );
    if (isEnumType(type))
      return this.chance(0.9) ? this.pick(type.getValues()).name : "NOT_A_VALUE";
    if (isInputObjectType(type)) {
      if (depth > 3) return {};
      const result: Record<string, unknown> = {};
      for (const field of Object.values(type.getFields())) {
        if (isNonNullType(field.type) ? this.chance(0.95) : this.chance(0.5))
          result[field.name] = this.value(field.type, depth + 1);
      }
      return result;
    }
    if (isScalarType(type)) {
      switch (type.name) {
        case "ID":
          return this.chance(0.7) && this.ids.length ? this.pick(this.ids) : this.string();
        case "Int":
          return this.pick([0, 1, -1, 5, 100, 2 ** 31, -(2 ** 31), 1.5]);
        case "Boolean":
          return this.chance(0.5);
        case "DateTime":
          return this.pick([
            "2026-11-28T12:00:00Z",
            "2030-01-01T00:00:00Z",
            "yesterday",
            "2026-02-30T00:00:00Z",
          ]);
        case "JSON":
          return this.pick([
            { ip: "203.0.113.9" },
            { ip: "nope" },
            [1, 2],
            "text",
            { pageUrl: "javascript:alert(1)" },
          ]);
        default:
          return this.string();
      }
    }
    return null;
  }

  selection(type: GraphQLObjectType, depth: number): string {
    const fields = Object.values(type.getFields());
    const chosen = new Set(
      Array.from({ length: 1 + Math.floor(this.random() * 3) }, () => this.pick(fields)),
    );
    return [...chosen].map((field) => this.field(field, depth)).join(" ");
  }

  field(
    field: GraphQLField<unknown, unknown>,
    depth: number,
    variables?: Record<string, unknown>,
    definitions?: string[],
  ): string {
    const args = field.args
      .filter((arg) => (isNonNullType(arg.type) ? this.chance(0.97) : this.chance(0.4)))
      .map((arg) => {
        if (variables && definitions) {
          const name = `v${definitions.length}`;
          definitions.push(`$${name}: ${String(arg.type)}`);
          variables[name] = this.value(arg.type);
          return `${arg.name}: $${name}`;
        }
        return `${arg.name}: ${JSON.stringify(this.value(arg.type))?.replace(/"([A-Za-z_]\w*)":/g, "$1:")}`;
      });
    const named = getNamedType(field.type);
    let body = "";
    if (isObjectType(named))
      body = depth >= 3 ? "{ __typename }" : `{ ${this.selection(named, depth + 1)} }`;
    if (isInterfaceType(named)) body = "{ id __typename }";
    return `${field.name}${args.length ? `(${args.join(", ")})` : ""} ${body}`;
  }

  operation(): { query: string; variables: Record<string, unknown> } {
    const mutation = this.chance(0.35);
    const root = (mutation ? schema.getMutationType() : schema.getQueryType())!;
    const variables: Record<string, unknown> = {};
    const definitions: string[] = [];
    const fields = Object.values(root.getFields());
    const count = 1 + Math.floor(this.random() * 2);
    const selections = Array.from(
      { length: count },
      (_, i) => `f${i}: ${this.field(this.pick(fields), 1, variables, definitions)}`,
    );
    const header = `${mutation ? "mutation" : "query"}${definitions.length ? `(${definitions.join(", ")})` : ""}`;
    return { query: `${header} { ${selections.join(" ")} }`, variables };
  }
}

/** POSTs `body` over one of the agent's kept-alive connections; the status and the parsed body. */
function post(agent: Agent, url: URL, key: string, body: string) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: `Bearer ${key}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            resolve({
              status: res.statusCode!,
              body: JSON.parse(Buffer.concat(chunks).toString()),
            });
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const FuzzSeed = graphql(`
  query FuzzSeedIds {
    campaigns(first: 5) {
      edges {
        node {
          id
          sender {
            id
          }
        }
      }
    }
  }
`);

describe.runIf(onceAcrossEngines)("fuzz", () => {
  it(`answers ${CASES} generated operations without a 5xx or an unexpected error`, async () => {
    console.log(`fuzz: seed ${SEED}, ${CASES} cases (FUZZ_SEED=${SEED} to replay)`);
    const app = await testApp();
    const org = await newOrganization();
    await createCampaign(org.adminKey, { keywords: ["FUZZ"] });
    await createCampaign(org.adminKey, { purpose: "INFORMATIONAL", doubleOptIn: true });
    const seeded = await ok(org.adminKey, FuzzSeed);
    const ids = seeded.campaigns.edges.flatMap((e) => [e.node.id, e.node.sender.id]);
    const generator = new Generator(mulberry32(SEED), ids);
    const url = new URL(`http://127.0.0.1:${app.server.port}/graphql`);
    // node:http rather than fetch: the cases are the server's work, and fetch's client costs more
    // per request (3,000 cases: 9.5 s against 12.3 s, two runs each)
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });

    const failures: string[] = [];
    const codes = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < CASES) {
        next++;
        const operation = generator.operation();
        const response = await post(agent, url, org.adminKey, JSON.stringify(operation));
        const body = response.body as {
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        if (response.status >= 500) failures.push(`${response.status}: ${operation.query}`);
        for (const error of body.errors ?? []) {
          const code = error.extensions?.code ?? "NONE";
          codes.set(code, (codes.get(code) ?? 0) + 1);
          if (!PUBLIC_CODES.has(code))
            failures.push(
              `${code} "${error.message}": ${operation.query} ${JSON.stringify(operation.variables)}`,
            );
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker)).finally(() => agent.destroy());
    console.log(`fuzz: error codes ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(failures.slice(0, 10)).toEqual([]);
    const health = await fetch(new URL("/healthz", url));
    expect(health.status).toBe(200);
  }, 600_000);
});
