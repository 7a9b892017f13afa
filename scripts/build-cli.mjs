// Builds the import command (`npm run import`) into one ES module, dist/import.mjs, with the
// migration command it runs first, dist/db-migrate.mjs (what is bundled: bundle-node.mjs). The command then runs on plain Node, without tsx's loader in the process: that
// and V8's heap limits (package.json) keep a 200,000-row import under 200 MB of resident memory
// (docs/BENCHMARKS.md). Runs before each `npm run import`, in a fraction of a second (and in
// `npm run build`); the file is written whole and renamed into place, so two imports starting at
// once each run a whole file.
import { bundleNode } from "./bundle-node.mjs";

await Promise.all([
  bundleNode("scripts/import.ts", "dist/import.mjs"),
  bundleNode("scripts/db-migrate.ts", "dist/db-migrate.mjs"),
]);
