// Where optgraph is installed: the nearest folder above this module that holds
// prisma/schema.prisma. From source this module is src/install-root.ts; bundled, it is inside
// dist/main.mjs (or another dist/ command): the files it finds (migrations, the admin view) are the
// same either way.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findInstallRoot(): string {
  let dir = fileURLToPath(new URL(".", import.meta.url));
  while (!existsSync(join(dir, "prisma", "schema.prisma"))) {
    const parent = dirname(dir);
    if (parent === dir) return fileURLToPath(new URL("../", import.meta.url));
    dir = parent;
  }
  return dir;
}

export const INSTALL_ROOT = findInstallRoot();
