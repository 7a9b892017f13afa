// What `npm start` prints when optgraph cannot start: one line, never a stack, naming the
// variable or the resource at fault (a bad value, a port in use, an unreachable database).
import type { Config } from "./config.ts";
import { ConfigError } from "./config-definition.ts";
import { DatabaseUnavailableError } from "./db/client.ts";

/** The one line (without the "optgraph cannot start: " prefix) that explains `error`. */
export function startupFailureLine(error: unknown, config: Config | undefined): string {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
    return firstLine(error.message);
  }
  const system = error as NodeJS.ErrnoException & { port?: number; address?: string };
  if (system?.syscall === "listen" && config) {
    const where = `port ${config.port} on ${config.host}`;
    switch (system.code) {
      case "EADDRINUSE":
        return `${where} is already in use (PORT, HOST): stop the other process or choose another port`;
      case "EACCES":
        return `${where} needs privileges this process does not have (PORT): choose a port above 1023`;
      case "EADDRNOTAVAIL":
        return `HOST ${config.host} is not an address of this machine`;
    }
  }
  if (system?.code === "ENOENT" && system.path) {
    return `cannot read ${system.path}: no such file`;
  }
  return firstLine(error instanceof Error ? error.message : String(error));
}

const firstLine = (text: string) => text.split("\n", 1)[0].trim();
