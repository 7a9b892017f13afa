// `npm run build`: the server, the migration command and the import command as plain-Node ES
// modules in dist/ (dist/main.mjs, dist/db-migrate.mjs, dist/import.mjs; see bundle-node.mjs for
// what is bundled), beside the admin view (dist/admin/, scripts/build-admin.mjs). Needs the dev
// dependencies; what it writes then runs on a production install (README, "Production").
import { bundleNode } from "./bundle-node.mjs";

await Promise.all([
  bundleNode("src/main.ts", "dist/main.mjs"),
  bundleNode("scripts/db-migrate.ts", "dist/db-migrate.mjs"),
  bundleNode("scripts/import.ts", "dist/import.mjs"),
]);
