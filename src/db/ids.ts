// Row ids for rows written by SQL rather than through Prisma's models: UUIDv7, as Prisma makes them
// for `@default(uuid(7))` (time-ordered, so a batch's rows land together in the primary key).
// The random bits come from a pooled buffer: uuid's own generator asks the system for 16 bytes per
// id, which was 6 % of an import's CPU.
import { randomFillSync } from "node:crypto";
import { v7 } from "uuid";

const POOL_BYTES = 16 * 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function random16(): Uint8Array {
  if (offset === POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

export const newId = (): string => v7({ random: random16() });
