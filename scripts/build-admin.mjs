// Builds the admin view served at /admin: esbuild bundles src/admin/main.ts into one ES module and
// the page, its stylesheet and its icon are copied beside it, in dist/admin/. Runs from `npm ci` (through
// scripts/generate.mjs, after graphql-codegen wrote the typed documents it imports) and from
// `npm run build:admin`. Each file is written whole and renamed into place, so a server reading
// the folder never sees half a file, even while two builds run at once.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src/admin");
const out = join(root, "dist/admin");

if (!existsSync(join(source, "generated/gql.ts"))) {
  // An install without dev dependencies has no graphql-codegen, so no typed documents: /admin
  // then answers 503 and says how to build it.
  console.warn("build-admin: skipped: src/admin/generated/ is missing (run `npm run codegen`)");
  process.exit(0);
}

const bundle = await build({
  absWorkingDir: root,
  entryPoints: [join(source, "main.ts")],
  outfile: join(out, "admin.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022", "chrome110", "firefox115", "safari16"],
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  write: false,
  logLevel: "warning",
});

const files = [
  ...bundle.outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents })),
  ...(await Promise.all(
    ["index.html", "admin.css", "favicon.svg"].map(async (name) => ({
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
