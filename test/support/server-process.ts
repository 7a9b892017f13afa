// optgraph as a process of its own, started the way an operator starts it, in one of two builds:
// - "production" (the default): `npm run start:prod`'s command, node with the package's
//   `nodeFlags` on dist/main.mjs. The run's global setup bundles it from the sources under test
//   once (global-setup.ts); it starts in about a second, on a quarter of the CPU tsx takes.
// - "development": `npm start`'s command, tsx compiling src/main.ts on the way. For the tests of
//   that command itself (a first start, the README).
// Every process started here is killed when the test worker exits, so a failed test leaves no
// server behind to load the machine.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

export type Build = "production" | "development";

const ROOT = new URL("../../", import.meta.url);

/** The bundle the global setup writes (scripts/bundle-node.mjs), as `npm run build` does. */
export const SERVER_BUNDLE = "dist/main.mjs";

const nodeFlags: string[] = (
  JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as {
    config: { nodeFlags: string };
  }
).config.nodeFlags.split(/\s+/);

function argv(build: Build): string[] {
  return build === "production"
    ? [...nodeFlags, SERVER_BUNDLE]
    : [...nodeFlags, "--import", "tsx", "src/main.ts"];
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** What a process wrote so far, each stream apart and both interleaved (the last 200 kB each). */
class Output {
  stdout = "";
  stderr = "";
  both = "";

  constructor(child: ChildProcess) {
    const keep = (text: string) => text.slice(-200_000);
    child.stdout!.on("data", (chunk) => {
      this.stdout = keep(this.stdout + chunk);
      this.both = keep(this.both + chunk);
    });
    child.stderr!.on("data", (chunk) => {
      this.stderr = keep(this.stderr + chunk);
      this.both = keep(this.both + chunk);
    });
  }
}

function spawnServer(env: Record<string, string>, build: Build) {
  const child = spawn(process.execPath, argv(build), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return { child, output: new Output(child) };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** the origin it listens on, e.g. http://127.0.0.1:41234 */
  readonly base: string;
  /** the GraphQL endpoint its ready line names */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** both streams, interleaved as they arrived */
  output(): string;
  /** how the process ended, while it should still be running: null while it runs */
  exit(): string | null;
  /** sends `signal` (SIGTERM unless told) and waits for the exit; SIGKILL after `graceMs` */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

/** Starts a server and resolves once it printed its ready line; rejects if it exits first. */
export function startServer(
  env: Record<string, string>,
  {
    build = "production",
    readyTimeoutMs = 60_000,
  }: { build?: Build; readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const { child, output } = spawnServer(env, build);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ready line in ${readyTimeoutMs / 1000} s:\n${output.both}`));
    }, readyTimeoutMs);
    const check = () => {
      const ready = /ready on ((http:\/\/[^/\s]+)\S*)/.exec(output.stdout);
      if (!ready) return;
      clearTimeout(timer);
      child.stdout!.off("data", check);
      resolve({
        child,
        base: ready[2],
        url: ready[1],
        stdout: () => output.stdout,
        stderr: () => output.stderr,
        output: () => output.both,
        exit: () =>
          child.exitCode !== null
            ? `exit code ${child.exitCode}`
            : child.signalCode !== null
              ? `signal ${child.signalCode}`
              : null,
        stop: async (signal = "SIGTERM", graceMs = 10_000) => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill(signal);
            const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            await exited;
            clearTimeout(killer);
          }
          return child.exitCode;
        },
      });
    };
    child.stdout!.on("data", check);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code ?? signal} before it was ready:\n${output.both}`));
    });
  });
}

/**
 * Runs a server until it exits by itself (a start-up failure), or until `until` holds for its
 * standard output, when it gets one SIGTERM and is waited for.
 */
export function runServer(
  env: Record<string, string>,
  { build = "production", until }: { build?: Build; until?: (stdout: string) => boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, output } = spawnServer(env, build);
  let stopping = false;
  child.stdout!.on("data", () => {
    if (!stopping && until?.(output.stdout)) {
      stopping = true; // once: a second SIGTERM would kill it before its clean exit
      child.kill("SIGTERM");
    }
  });
  return new Promise((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout: output.stdout, stderr: output.stderr })),
  );
}
