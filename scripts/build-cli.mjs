// Builds the import command (`npm run import`) into one ES module, dist/import.mjs, with its
// packages left to node_modules. The command then runs on plain Node, without tsx's loader in the
// process: that and V8's heap limits (package.json) keep a 200,000-row import under 200 MB of
// resident memory (docs/BENCHMARKS.md). Runs before each `npm run import`, in a fraction of a
// second; the file is written whole and renamed into place, so two imports starting at once each
// run a whole file.
import { build } from "esbuild";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// dist/ sits beside scripts/: paths the command finds from its own location (../prisma/…) hold
const outfile = join(root, "dist/import.mjs");

const bundle = await build({
  absWorkingDir: root,
  entryPoints: [join(root, "scripts/import.ts")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  write: false,
  logLevel: "warning",
});
await mkdir(dirname(outfile), { recursive: true });
const temporary = `${outfile}.${process.pid}.tmp`;
await writeFile(temporary, bundle.outputFiles[0].contents);
await rename(temporary, outfile);
