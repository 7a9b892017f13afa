// Loads Prisma's wasm schema engine in Node and hands it driver adapter factories whose
// `executeScript` sends a whole migration script as one query (the adapters' own versions break it).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import * as bg from "@prisma/schema-engine-wasm/schema_engine_bg";
import { PrismaPGlite } from "pglite-prisma-adapter";

export type SchemaEngine = bg.SchemaEngine;

let loaded: Promise<typeof bg> | undefined;
let panicMessage: string | undefined;

/** The message of the engine's last panic (it surfaces in JS as `RuntimeError: unreachable`). */
export function takePanicMessage(): string | undefined {
  const message = panicMessage;
  panicMessage = undefined;
  return message;
}

/** Instantiates the engine's wasm once per process (Node 20 cannot `import` a .wasm file). */
function loadWasm(): Promise<typeof bg> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const dir = dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
    const bytes = await readFile(join(dir, "schema_engine_bg.wasm"));
    // where the engine's panic hook writes the reason for a panic
    (globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
      set_message: (message: string) => (panicMessage = message),
    };
    // The engine never clears its timers (e.g. the 10 s advisory-lock timeout), which would keep
    // Node alive after every migration: hand it unref'd ones.
    const imports: Record<string, unknown> = { ...bg };
    for (const name of Object.keys(imports).filter((n) => n.startsWith("__wbg_setTimeout_"))) {
      imports[name] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref();
    }
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": imports as WebAssembly.ModuleImports,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return loaded;
}

/** A migration-aware adapter factory plus `close()`, which disposes every connection it handed out. */
export interface MigrationAdapter {
  factory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

/** Turns a driver error into the shape the engine reports as a database error. */
function asAdapterError(e: unknown): DriverAdapterError {
  const err = e as {
    code?: unknown;
    severity?: unknown;
    message?: unknown;
    detail?: unknown;
    column?: unknown;
    hint?: unknown;
  };
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return new DriverAdapterError({
    kind: "postgres",
    code: str(err.code) ?? "",
    severity: str(err.severity) ?? "ERROR",
    message: str(err.message) ?? String(e),
    detail: str(err.detail),
    column: str(err.column),
    hint: str(err.hint),
  });
}

/**
 * Makes `adapter.executeScript` run `runScript` (one simple-protocol query for the whole script)
 * and `dispose` run `extraDispose` afterwards; records the adapter so `close()` can dispose it.
 */
function patch(
  adapter: SqlDriverAdapter,
  runScript: (script: string) => Promise<unknown>,
  open: Set<() => Promise<void>>,
  extraDispose?: () => Promise<void>,
): SqlDriverAdapter {
  const originalDispose = adapter.dispose.bind(adapter);
  let disposed: Promise<void> | undefined;
  const dispose = () => {
    disposed ??= (async () => {
      open.delete(dispose);
      try {
        await originalDispose();
      } finally {
        await extraDispose?.();
      }
    })();
    return disposed;
  };
  open.add(dispose);
  adapter.executeScript = async (script: string) => {
    try {
      await runScript(script);
    } catch (e) {
      throw asAdapterError(e);
    }
  };
  adapter.dispose = dispose;
  return adapter;
}

/**
 * Adapter factory for the engine. The shadow database, when the engine needs one (creating a
 * migration), is always a throwaway in-memory PGlite, so the target server is never touched for it.
 */
export function migrationAdapter(
  target: { kind: "pglite"; pglite: PGlite } | { kind: "postgres"; url: string },
): MigrationAdapter {
  const open = new Set<() => Promise<void>>();
  const shadow = async () => {
    const pglite = new PGlite();
    const adapter = await new PrismaPGlite(pglite).connect();
    return patch(
      adapter,
      (s) => pglite.exec(s),
      open,
      () => pglite.close(),
    );
  };
  let factory: SqlMigrationAwareDriverAdapterFactory;
  if (target.kind === "pglite") {
    const inner = new PrismaPGlite(target.pglite);
    factory = {
      provider: inner.provider,
      adapterName: inner.adapterName,
      connect: async () => patch(await inner.connect(), (s) => target.pglite.exec(s), open),
      connectToShadowDb: shadow,
    };
  } else {
    const inner = new PrismaPg({ connectionString: target.url });
    factory = {
      provider: inner.provider,
      adapterName: inner.adapterName,
      connect: async () => {
        const adapter = await inner.connect();
        // a parameterless query goes over the simple protocol, which takes many statements
        return patch(adapter, (s) => adapter.underlyingDriver().query(s), open);
      },
      connectToShadowDb: shadow,
    };
  }
  return {
    factory: bindMigrationAwareSqlAdapterFactory(factory),
    close: async () => {
      await Promise.allSettled([...open].map((dispose) => dispose()));
    },
  };
}

/** Starts a schema engine on `factory`; `schema` is the Prisma schema file, if the command needs it. */
export async function openSchemaEngine(
  factory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory,
  schema?: { path: string; content: string },
  log: (line: string) => void = () => {},
): Promise<SchemaEngine> {
  const { SchemaEngine } = await loadWasm();
  return SchemaEngine.new(
    { datamodels: schema ? [[schema.path, schema.content]] : undefined },
    log,
    factory,
  );
}
