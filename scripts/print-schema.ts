// Prints the public contract, sorted, to schema/schema.graphql (`npm run schema:print`), or with
// --check exits 1 when the committed file differs from the code (CI's drift check).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { printSchema } from "graphql";
import { schema } from "../src/schema/index.ts";

const target = fileURLToPath(new URL("../schema/schema.graphql", import.meta.url));
const printed = `${printSchema(schema)}\n`;

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    // a missing file is drift too
  }
  if (committed !== printed) {
    console.error("schema/schema.graphql is stale: run `npm run schema:print` and commit it.");
    process.exit(1);
  }
  console.log("schema/schema.graphql is current.");
} else {
  writeFileSync(target, printed);
  console.log("wrote schema/schema.graphql");
}
