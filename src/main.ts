// The entry point of `npm start`: starts optgraph from the environment and stops it cleanly on
// SIGTERM/SIGINT. Start-up failures print one line and exit 1; unknown OPTGRAPH_* variables warn.
import { loadConfig, unknownVariableWarnings, type Config } from "./config.ts";
import { startupFailureLine } from "./startup-failure.ts";

let config: Config | undefined;

async function main() {
  const started = performance.now();
  for (const warning of unknownVariableWarnings()) console.error(`optgraph: ${warning}`);
  const loaded = loadConfig();
  config = loaded;
  // the service's modules load only for a configuration that holds: a bad value fails at once
  const { startApp } = await import("./app.ts");
  const app = await startApp(loaded);
  const where =
    loaded.database.kind === "pglite" ? `PGlite in ${loaded.database.dataDir}` : "PostgreSQL";
  if (app.bootstrap.generatedSecret) {
    // Standard error, never standard output: the JSON logs go there and are collected.
    console.error(
      "Created the default organization. Its ADMIN (platform) key, shown only this once:",
    );
    console.error(`  ${app.bootstrap.generatedSecret}`);
  } else if (app.bootstrap.created) {
    console.log("Created the default organization with the ADMIN key from OPTGRAPH_ADMIN_KEY.");
  }
  const shutdown = (signal: string) => {
    console.log(`${signal}: shutting down`);
    // past the grace period the server closes what is left; this bounds closing the rest
    const overdue = setTimeout(() => {
      console.error("shutdown did not finish in time");
      process.exit(1);
    }, loaded.shutdownGraceMs + 10_000);
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
  // Printed last: whoever waits for this line has everything above it too, the signal handlers
  // included (a SIGTERM sent on seeing it must find them installed).
  console.log(
    `optgraph ready on ${app.server.url} (${where}) in ${Math.round(performance.now() - started)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(`optgraph cannot start: ${startupFailureLine(error, config)}`);
  process.exit(1);
});
