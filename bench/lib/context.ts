// What every path of a run shares: the configuration, where logs go, the database and the data
// set up for the run, and the windows in which optgraph was under measured load (for profiles).
import type { BenchConfig } from "./config.ts";
import type { Server } from "./optgraph.ts";
import type { World } from "./seed.ts";
import type { StatementCounter } from "./statements.ts";

export interface RunDatabase {
  kind: "postgres" | "pglite";
  /** PostgreSQL: the run's scratch database */
  url?: string;
  /** PGlite: optgraph's data directory */
  pgliteDir?: string;
  /** how baseline processes reach the same data (a copy of the data directory on PGlite) */
  baselineEnv: Record<string, string>;
}

export interface RunContext {
  config: BenchConfig;
  tmpDir: string;
  logDir: string;
  database: RunDatabase;
  world: World;
  /** per profiled server: [start, end] of its measured windows, in µs of CLOCK_MONOTONIC */
  windows: Map<string, [number, number][]>;
  /** smoke runs: one optgraph for every path, its statements counted */
  shared?: { server: Server; counter: StatementCounter };
}

/** Marks a window of measured load on the profiled server `profileAs`. */
export async function measured<T>(
  ctx: RunContext,
  profileAs: string,
  work: () => Promise<T>,
): Promise<T> {
  const start = Number(process.hrtime.bigint() / 1000n);
  try {
    return await work();
  } finally {
    const end = Number(process.hrtime.bigint() / 1000n);
    const list = ctx.windows.get(profileAs) ?? [];
    list.push([start, end]);
    ctx.windows.set(profileAs, list);
  }
}
