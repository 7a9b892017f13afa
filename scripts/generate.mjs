// Generates what the code imports but git does not hold: the Prisma client with the Pothos types
// (src/generated/) and, where dev tools are installed, the typed documents (test/generated/,
// src/admin/generated/), the admin view built from them (dist/admin/) and GraphiQL (dist/graphiql/).
// Runs after `npm install`/`npm ci`, with no network beyond the npm registry: `prisma generate`
// does not use the schema engine, so pointing PRISMA_SCHEMA_ENGINE_BINARY at any executable (node
// itself) stops the CLI from trying to download one.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, resolve } from "node:path";

const require = createRequire(import.meta.url);

function run(label, script, args) {
  const result = spawnSync(process.execPath, [script, ...args], {
    stdio: "inherit",
    env: {
      ...process.env,
      // generators such as prisma-pothos-types are found on PATH, as under `npm run`
      PATH: [resolve("node_modules/.bin"), process.env.PATH].join(delimiter),
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    },
  });
  if (result.status !== 0) {
    console.error(`generate: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

let prismaCli;
try {
  prismaCli = require.resolve("prisma/build/index.js");
} catch {
  // A production install (`npm ci --omit=dev`) has none of the generators: it runs the built
  // dist/, which holds the generated client already (README, "Production").
  console.log("generate: skipped: no dev dependencies (a production install runs dist/)");
  process.exit(0);
}
run("prisma generate", prismaCli, ["generate"]);

const codegen = "node_modules/@graphql-codegen/cli/cjs/bin.js";
if (existsSync(codegen)) run("graphql-codegen", codegen, ["--silent"]);
run("build admin view", "scripts/build-admin.mjs", []);
run("build GraphiQL", "scripts/build-graphiql.mjs", []);
