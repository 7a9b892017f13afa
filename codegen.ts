// GraphQL Code Generator: typed documents from the committed public schema. The tests write their
// operations with `graphql(...)` from test/generated and get typed results; the admin view does
// the same from src/admin/generated. Consumers can copy this file to do the same against
// schema/schema.graphql.
import type { CodegenConfig } from "@graphql-codegen/cli";

const clientPreset = {
  preset: "client",
  presetConfig: { fragmentMasking: false },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    scalars: { DateTime: "string", JSON: "unknown" },
  },
} as const;

const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    "test/generated/": {
      ...clientPreset,
      documents: ["test/**/*.ts", "!test/generated/**"],
    },
    // The browser sends documents as strings: no GraphQL parser or printer in the bundle.
    "src/admin/generated/": {
      ...clientPreset,
      documents: ["src/admin/**/*.ts", "!src/admin/generated/**"],
      config: { ...clientPreset.config, documentMode: "string" },
    },
  },
};

export default config;
