// GraphQL Code Generator for a project that calls optgraph: typed documents from the published
// contract (GET /schema.graphql answers without an API key; or point `schema` at a copy of
// schema/schema.graphql). Copy this file beside your package.json, then:
//   npm i -D @graphql-codegen/cli @graphql-codegen/client-preset && npx graphql-codegen
// and write operations with `graphql(...)` from "./gql/index.js" (README, "Consumers").
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: process.env.OPTGRAPH_SCHEMA ?? "http://localhost:4000/schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  ignoreNoDocuments: true,
  // "module": "NodeNext" (and Node's own ES modules) need the extension on every relative
  // import: the generated files import each other as "./graphql.js", not "./graphql".
  importExtension: ".js",
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: {
        fragmentMasking: false,
        // persisted-documents.json ({ hash: document }) is the registry optgraph reads from
        // OPTGRAPH_PERSISTED_OPERATIONS; send `{ documentId: document["__meta__"].hash }`.
        persistedDocuments: true,
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: "string", JSON: "unknown" },
      },
    },
  },
};

export default config;
