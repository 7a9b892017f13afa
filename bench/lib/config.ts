// What a bench run does, from the environment. BENCH_SMOKE=1 shrinks every duration and count so
// the whole harness runs in seconds (the smoke test uses it; its numbers mean nothing).
import { resolve } from "node:path";

export const PATHS = [
  "canSend",
  "canSendMany",
  "optIn",
  "optInOneOrg",
  "fanOut",
  "twilioWebhook",
] as const;
export type PathName = (typeof PATHS)[number];

export interface BenchConfig {
  smoke: boolean;
  /** a PostgreSQL server URL (a scratch database is created on it); PGlite when unset */
  databaseUrl: string | undefined;
  out: string;
  paths: PathName[];
  rounds: number;
  warmupMs: number;
  durationMs: number;
  /** smoke runs: this many requests per side and round instead of a duration */
  requestsPerRound: number | undefined;
  /**
   * the instant canSend/canSendMany decide for (a fixed one, so results do not depend on the time
   * of day): by default a Wednesday 15:30 UTC, when the Pacific numbers (2 of 8 area codes) are in
   * quiet hours and the rest may be texted
   */
  at: string;
  /** optgraph's LOG_LEVEL during the run (its production default: info) */
  logLevel: string;
  /** when set, optgraph servers run with --cpu-prof and write their profiles here */
  profileDir: string | undefined;
  canSend: { connections: number };
  /** batch: phones per call, 90% of them opted-in subscribers and 10% never seen */
  canSendMany: { batch: number; verifyCalls: number };
  optIn: { connections: number; orgs: number };
  fanOut: {
    /** rounds of the fan-out path (each is a rate and a burst phase per side) */
    rounds: number;
    clients: number;
    processes: number;
    eventsPerSecond: number;
    burstEvents: number;
    burstConcurrency: number;
  };
  twilioWebhook: { connections: number; orgs: number; phonesPerOrg: number };
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

export function loadBenchConfig(env: Env = process.env): BenchConfig {
  const smoke = /^(1|true|yes)$/i.test(env.BENCH_SMOKE ?? "");
  const paths = (env.BENCH_PATHS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of paths) {
    if (!(PATHS as readonly string[]).includes(p)) {
      throw new Error(`BENCH_PATHS: unknown path "${p}" (known: ${PATHS.join(", ")})`);
    }
  }
  const s = <T>(full: T, tiny: T) => (smoke ? tiny : full);
  const orgs = int(env, "BENCH_ORGS", s(8, 2));
  return {
    smoke,
    databaseUrl: env.BENCH_DATABASE_URL || undefined,
    out: resolve(env.BENCH_OUT || "bench/results.json"),
    paths: paths.length > 0 ? (paths as PathName[]) : [...PATHS],
    rounds: int(env, "BENCH_ROUNDS", s(5, 2)),
    warmupMs: int(env, "BENCH_WARMUP_MS", s(10_000, 300)),
    durationMs: int(env, "BENCH_DURATION_MS", s(5000, 300)),
    requestsPerRound: smoke ? 6 : undefined,
    at: new Date(env.BENCH_AT || "2026-12-02T15:30:00Z").toISOString(),
    logLevel: env.BENCH_LOG_LEVEL || "info",
    profileDir: env.BENCH_PROFILE_DIR ? resolve(env.BENCH_PROFILE_DIR) : undefined,
    canSend: { connections: int(env, "BENCH_CONNECTIONS", s(10, 2)) },
    canSendMany: { batch: int(env, "BENCH_BATCH", s(1000, 20)), verifyCalls: s(20, 3) },
    optIn: { connections: int(env, "BENCH_WRITE_CONNECTIONS", s(16, 2)), orgs },
    fanOut: {
      rounds: int(env, "BENCH_FANOUT_ROUNDS", s(3, 1)),
      clients: int(env, "BENCH_FANOUT_CLIENTS", s(1000, 10)),
      processes: int(env, "BENCH_FANOUT_PROCESSES", s(4, 1)),
      eventsPerSecond: int(env, "BENCH_FANOUT_RATE", s(30, 20)),
      burstEvents: int(env, "BENCH_FANOUT_BURST", s(200, 10)),
      burstConcurrency: s(16, 2),
    },
    twilioWebhook: {
      connections: int(env, "BENCH_WRITE_CONNECTIONS", s(16, 2)),
      orgs,
      phonesPerOrg: s(500, 20),
    },
  };
}
