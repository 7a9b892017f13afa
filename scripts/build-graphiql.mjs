// Builds the GraphiQL page served at GET /graphql (src/http/graphiql.ts): esbuild bundles
// src/graphiql/main.ts with graphiql, React and graphql-ws into one script and one stylesheet (its
// fonts inlined), and the page and its icon are copied beside them, in dist/graphiql/
// (build-page.mjs). Nothing is loaded from a CDN. Runs from `npm ci` (scripts/generate.mjs) and
// `npm run build:graphiql`. An install without dev dependencies has no graphiql package: the build
// is skipped and the page answers 503 saying how to build it.
import { createRequire } from "node:module";
import { join } from "node:path";
import { buildPage, root } from "./build-page.mjs";

try {
  createRequire(join(root, "package.json")).resolve("graphiql");
} catch {
  console.warn("build-graphiql: skipped: the graphiql package is not installed (dev dependency)");
  process.exit(0);
}

await buildPage({
  source: "src/graphiql",
  out: "dist/graphiql",
  script: "graphiql.js",
  copies: ["index.html", "favicon.svg"],
  esbuild: {
    define: { "process.env.NODE_ENV": '"production"' },
    loader: { ".woff2": "dataurl", ".woff": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
  },
});
