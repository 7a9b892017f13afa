// Builds the admin view served at /admin: esbuild bundles src/admin/main.ts into one ES module and
// the page, its stylesheet and its icon are copied beside it, in dist/admin/ (build-page.mjs). Runs
// from `npm ci` (through scripts/generate.mjs, after graphql-codegen wrote the typed documents it
// imports) and from `npm run build:admin`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildPage, root } from "./build-page.mjs";

if (!existsSync(join(root, "src/admin/generated/gql.ts"))) {
  // An install without dev dependencies has no graphql-codegen, so no typed documents: /admin
  // then answers 503 and says how to build it.
  console.warn("build-admin: skipped: src/admin/generated/ is missing (run `npm run codegen`)");
  process.exit(0);
}

await buildPage({
  source: "src/admin",
  out: "dist/admin",
  script: "admin.js",
  copies: ["index.html", "admin.css", "favicon.svg"],
  esbuild: { sourcemap: "linked" },
});
