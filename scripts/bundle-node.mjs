// Bundles a TypeScript entry point into one ES module under dist/ that runs on plain Node (no tsx
// loader in the process). The rule for what goes in: the packages listed in package.json
// `dependencies` stay in node_modules (they load files of their own at run time: PGlite's wasm and
// data, the schema engine's wasm, libphonenumber's geocoding data; graphql stays one shared copy
// for any plugin loaded beside the bundle); everything else, our code, the generated Prisma client
// with its wasm query compiler (a JavaScript module holding it as base64) and the packages in
// `devDependencies`, is bundled. So a package moved to devDependencies is bundled from then on,
// and a production install (`npm ci --omit=dev`) holds only what the bundle loads.
// Each file is written whole and renamed into place, so a process starting meanwhile never reads
// half a file.
import { build } from "esbuild";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Packages the bundle imports from node_modules at run time: `dependencies`, and their subpaths. */
async function runtimePackages() {
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  const names = Object.keys(manifest.dependencies ?? {});
  // pg's optional native binding: never installed, only required when asked for
  return [...names, "pg-native"].flatMap((name) => [name, `${name}/*`]);
}

/** Bundles `entry` (relative to the repository) into `outfile` (relative to it too). */
export async function bundleNode(entry, outfile) {
  const target = join(root, outfile);
  const bundle = await build({
    absWorkingDir: root,
    entryPoints: [join(root, entry)],
    outfile: target,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: await runtimePackages(),
    // CommonJS packages in an ES module: their require() of Node's modules needs a real require
    banner: {
      js: 'import { createRequire as __optgraphRequire } from "node:module"; const require = __optgraphRequire(import.meta.url);',
    },
    sourcemap: "linked",
    legalComments: "none",
    write: false,
    logLevel: "warning",
  });
  await mkdir(dirname(target), { recursive: true });
  for (const file of bundle.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    await writeFile(temporary, file.contents);
    await rename(temporary, file.path);
  }
}
