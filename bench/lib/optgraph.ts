// Starting optgraph the way it runs in production (`src/main.ts`, NODE_ENV=production, its own
// process), and a small GraphQL client for setting up data.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunContext } from "./context.ts";
import { freePort, spawnTs, waitForHttp, type Proc } from "./procs.ts";

export const PLATFORM_KEY = "og_bench_platform_key_0123456789abcdef";
export const TWILIO_TOKEN = "bench-twilio-auth-token-0123456789";
export const PUBLIC_URL = "https://bench.optgraph.example";

/**
 * The node flags every optgraph server starts with: package.json's `config.nodeFlags`, the list
 * `npm start` uses too ($npm_package_config_nodeFlags). BENCH_NODE_ARGS adds more (experiments).
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    config?: { nodeFlags?: string };
  };
  const extra = process.env.BENCH_NODE_ARGS ?? "";
  return `${pkg.config?.nodeFlags ?? ""} ${extra}`.split(" ").filter(Boolean);
}

export interface Server {
  proc: Proc;
  port: number;
  /** http://127.0.0.1:port */
  origin: string;
  graphqlUrl: string;
  /** stops the server (a smoke run's shared optgraph keeps running) */
  stop(): Promise<void>;
}

export interface OptgraphOptions {
  /** profile this server (when the run profiles) under this name */
  profileAs?: string;
  /** a database URL instead of the run's (the statement-counting proxy) */
  databaseUrl?: string;
  env?: Record<string, string>;
}

/**
 * A fresh optgraph for `name` — or, in a smoke run, the run's one shared instance (starting a
 * server per path is most of a smoke run's time; its numbers mean nothing anyway).
 */
export async function startOptgraph(
  ctx: RunContext,
  name: string,
  options: OptgraphOptions = {},
): Promise<Server> {
  if (ctx.shared) return { ...ctx.shared.server, stop: async () => undefined };
  const port = await freePort();
  const database: Record<string, string> = ctx.database.url
    ? { DATABASE_URL: options.databaseUrl ?? ctx.database.url }
    : { OPTGRAPH_DATA_DIR: ctx.database.pgliteDir! };
  const profile =
    ctx.config.profileDir && options.profileAs
      ? // one directory per server: the main thread and tsx's loader thread each write a profile
        ["--cpu-prof", `--cpu-prof-dir=${join(ctx.config.profileDir, options.profileAs)}`]
      : [];
  const proc = spawnTs(name, "src/main.ts", [], {
    logDir: ctx.logDir,
    nodeArgs: [...serverNodeFlags(), ...profile],
    env: {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: ctx.config.logLevel,
      OPTGRAPH_ADMIN_KEY: PLATFORM_KEY,
      OPTGRAPH_RATE_LIMIT_ADMIN: "0",
      OPTGRAPH_RATE_LIMIT_OPERATOR: "0",
      OPTGRAPH_RATE_LIMIT_PARTNER: "0",
      OPTGRAPH_RATE_LIMIT_VIEWER: "0",
      OPTGRAPH_SHUTDOWN_GRACE_MS: "2000",
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      OPTGRAPH_PUBLIC_URL: PUBLIC_URL,
      ...database,
      ...options.env,
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${origin}/readyz`);
  return { proc, port, origin, graphqlUrl: `${origin}/graphql`, stop: () => proc.stop() };
}

/** Starts a baseline script that listens on PORT, and waits until it answers. */
export async function startHttpBaseline(
  ctx: RunContext,
  name: string,
  script: string,
  readyPath: string,
  env: Record<string, string> = {},
): Promise<Server> {
  const port = await freePort();
  const proc = spawnTs(name, join("bench/baselines", script), [], {
    logDir: ctx.logDir,
    env: { PORT: String(port), ...ctx.database.baselineEnv, ...env },
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${origin}${readyPath}`);
  return { proc, port, origin, graphqlUrl: `${origin}/graphql`, stop: () => proc.stop() };
}

export interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** One GraphQL request; throws on any error. */
export async function gql<T = any>(
  url: string,
  key: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  if (body.errors?.length || !body.data) {
    throw new Error(`GraphQL ${response.status}: ${JSON.stringify(body.errors)}`);
  }
  return body.data;
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}
