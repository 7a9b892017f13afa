// Builds a browser page of optgraph into dist/<folder>/: esbuild bundles its main.ts into one ES
// module (and stylesheet, when it imports CSS) and the files it names are copied beside it. Each
// file is written whole and renamed into place, so a server reading the folder never sees half a
// file, even while two builds run at once. Used by build-admin.mjs and build-graphiql.mjs.
import { build } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * @param {{ source: string, out: string, script: string, copies: string[], esbuild?: object }} page
 *   folders relative to the repository; `script` is the bundle's file name
 */
export async function buildPage({ source, out, script, copies, esbuild = {} }) {
  const sourceDir = join(root, source);
  const outDir = join(root, out);
  const bundle = await build({
    absWorkingDir: root,
    entryPoints: [join(sourceDir, "main.ts")],
    outfile: join(outDir, script),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "warning",
    ...esbuild,
  });
  const files = [
    ...bundle.outputFiles.map((file) => ({ name: basename(file.path), contents: file.contents })),
    ...(await Promise.all(
      copies.map(async (name) => ({ name, contents: await readFile(join(sourceDir, name)) })),
    )),
  ];
  await mkdir(outDir, { recursive: true });
  for (const { name, contents } of files) {
    const partial = join(outDir, `.${name}.${process.pid}`);
    await writeFile(partial, contents);
    await rename(partial, join(outDir, name));
  }
}
