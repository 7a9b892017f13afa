// The long-lived things a service call needs: the database client and the configuration. Built
// once per process and handed to every request.
import type { Config } from "../config.ts";
import type { Prisma } from "../db/client.ts";

export interface Runtime {
  readonly prisma: Prisma;
  readonly config: Config;
}
