// Child processes of a run: servers, baselines and load processes, each its own Node process
// (TypeScript through tsx), stderr kept in a log file, peak RSS read from /proc. Every process is
// stopped when the run ends, however it ends.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readFileSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname;

const live = new Set<Proc>();

export interface SpawnOptions {
  /** environment on top of the filtered parent environment */
  env: Record<string, string>;
  /** node flags before `--import tsx` (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** an IPC channel (process.send) */
  ipc?: boolean;
  logDir: string;
}

/** Variables of the parent that would change what a child does; children get them explicitly. */
const OWN =
  /^(NODE_ENV|PORT|HOST|DATABASE_URL|REDIS_URL|LOG_LEVEL|DB_|OPTGRAPH_|TWILIO_|BENCH_|DEBUG$)/;

export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !OWN.test(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

export class Proc {
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly messageListeners = new Set<(message: any) => boolean>();
  /** messages no waiter took yet (a child may answer before anyone waits) */
  private readonly inbox: unknown[] = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        live.delete(this);
        resolve(this.exitCode);
      }),
    );
    child.on("message", (message) => {
      for (const listener of this.messageListeners) if (listener(message)) return;
      this.inbox.push(message);
    });
    live.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** the end of the process's stderr, for error messages */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }

  /** Peak resident set size so far (VmHWM), in MB; null where /proc is not there. */
  peakRssMb(): number | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      return match ? Number(match[1]) / 1024 : null;
    } catch {
      return null;
    }
  }

  /** CPU time used so far (user + system), in clock ticks; null where /proc is not there. */
  cpuTicks(): number | null {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
      // fields after the command name (which may contain spaces): state is field 3, utime 14
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return null;
    }
  }

  send(message: unknown) {
    this.child.send(message as any);
  }

  /** The next message `accept` takes, or a failure when the process exits first. */
  waitFor<T>(accept: (message: any) => T | undefined, timeoutMs = 120_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const listener = (message: any): boolean => {
        let value: T | undefined;
        try {
          value = accept(message);
        } catch (error) {
          done();
          reject(error);
          return true;
        }
        if (value === undefined) return false;
        done();
        resolve(value);
        return true;
      };
      const waiting = this.inbox.findIndex((message) => accept(message) !== undefined);
      if (waiting >= 0) {
        resolve(accept(this.inbox.splice(waiting, 1)[0])!);
        return;
      }
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no answer within ${timeoutMs} ms\n${this.logTail()}`));
      }, timeoutMs);
      const onExit = () => {
        done();
        reject(new Error(`${this.name} exited\n${this.logTail()}`));
      };
      const done = () => {
        clearTimeout(timer);
        this.messageListeners.delete(listener);
        this.child.off("exit", onExit);
      };
      this.messageListeners.add(listener);
      this.child.once("exit", onExit);
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** `node [nodeArgs] --import tsx <script> [args]`, from the repository root. */
export function spawnTs(name: string, script: string, args: string[], options: SpawnOptions): Proc {
  const logFile = join(options.logDir, `${name}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), "--import", "tsx", script, ...args],
    {
      cwd: ROOT,
      env: childEnv(options.env),
      stdio: ["ignore", fd, fd, ...(options.ipc ? (["ipc"] as const) : [])],
    },
  );
  closeSync(fd);
  return new Proc(name, child, logFile);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 (or the process exits, or time runs out). */
export async function waitForHttp(proc: Proc, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running)
      throw new Error(`${proc.name} exited before it was ready\n${proc.logTail()}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${proc.name} was not ready within ${timeoutMs} ms\n${proc.logTail()}`);
}

/**
 * Waits until every process uses under a fifth of a core (measured over half a second), so one
 * side's leftover work does not run into the other side's measurement; 30 s at most.
 */
export async function quiesce(procs: Proc[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const ticksPerHalfSecond = 50; // USER_HZ is 100 on Linux
  while (Date.now() < deadline) {
    const before = procs.map((p) => p.cpuTicks());
    await new Promise((r) => setTimeout(r, 500));
    const busy = procs.some((p, i) => {
      const now = p.cpuTicks();
      const then = before[i];
      return now !== null && then !== null && now - then > ticksPerHalfSecond / 5;
    });
    if (!busy) return;
  }
}

/** The machine's CPU time so far (/proc/stat, in ticks of all cores): busy, stolen, and all. */
export function machineTicks(): { busy: number; steal: number; total: number } {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync(
      "/proc/stat",
      "utf8",
    )
      .split("\n")[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, steal, total: busy + idle + iowait + steal };
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
}

/** Kills whatever is still running (on failure paths). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((proc) => proc.stop(5000)));
}

process.once("exit", () => {
  for (const proc of live) proc.child.kill("SIGKILL");
});
