// The transaction client type every service step takes, so steps compose inside one transaction.
import type { Prisma } from "../db/client.ts";

export type Tx = Parameters<Parameters<Prisma["$transaction"]>[0]>[0];
