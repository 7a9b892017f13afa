// The entry point of `npm start`: starts optgraph from the environment and stops it cleanly on
// SIGTERM/SIGINT. Start-up failures print one line and exit 1.
import { startApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { DatabaseUnavailableError } from "./db/client.ts";

async function main() {
  const started = performance.now();
  const config = loadConfig();
  const app = await startApp(config);
  const where =
    config.database.kind === "pglite" ? `PGlite in ${config.database.dataDir}` : "PostgreSQL";
  if (app.bootstrap.generatedSecret) {
    // Standard error, never standard output: the JSON logs go there and are collected.
    console.error(
      "Created the default organization. Its ADMIN (platform) key, shown only this once:",
    );
    console.error(`  ${app.bootstrap.generatedSecret}`);
  } else if (app.bootstrap.created) {
    console.log("Created the default organization with the ADMIN key from OPTGRAPH_ADMIN_KEY.");
  }
  // Printed last: whoever waits for this line has everything above it too.
  console.log(
    `optgraph ready on ${app.server.url} (${where}) in ${Math.round(performance.now() - started)} ms`,
  );
  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down`);
    // past the grace period the server closes what is left; this bounds closing the rest
    const overdue = setTimeout(() => {
      console.error("shutdown did not finish in time");
      process.exit(1);
    }, config.shutdownGraceMs + 10_000);
    overdue.unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
        console.error("shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
    console.error(`optgraph cannot start: ${error.message}`);
  } else {
    console.error("optgraph cannot start:", error);
  }
  process.exit(1);
});
