// Builds the GraphiQL page served at GET /graphql (src/http/graphiql.ts): esbuild bundles
// src/graphiql/main.ts with graphiql, React and graphql-ws into one script and one stylesheet (its
// fonts inlined), and the page and its icon are copied beside them, in dist/graphiql/. Nothing is
// loaded from a CDN. Runs from `npm ci` (scripts/generate.mjs) and `npm run build:graphiql`. An
// install without dev dependencies has no graphiql package: the build is skipped and the page
// answers 503 saying how to build it. Files are written whole and renamed into place.
import { build } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src/graphiql");
const out = join(root, "dist/graphiql");

try {
  createRequire(join(root, "package.json")).resolve("graphiql");
} catch {
  console.warn("build-graphiql: skipped: the graphiql package is not installed (dev dependency)");
  process.exit(0);
}

const bundle = await build({
  absWorkingDir: root,
  entryPoints: [join(source, "main.ts")],
  outfile: join(out, "graphiql.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "dataurl", ".woff": "dataurl", ".ttf": "dataurl", ".svg": "dataurl" },
  minify: true,
  legalComments: "none",
  write: false,
  logLevel: "warning",
});

const files = [
  ...bundle.outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents })),
  ...(await Promise.all(
    ["index.html", "favicon.svg"].map(async (name) => ({
      name,
      contents: await readFile(join(source, name)),
    })),
  )),
];

await mkdir(out, { recursive: true });
for (const { name, contents } of files) {
  const partial = join(out, `.${name}.${process.pid}`);
  await writeFile(partial, contents);
  await rename(partial, join(out, name));
}
