import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents, all from the committed schema.graphql (type-checked by `npm run typecheck`):
 * - for frontends: the operations in examples/, written to examples/generated/;
 * - for the org explorer: the .graphql files under web/src/, written to web/src/generated/ as typed strings;
 * - for the tests: the `graphql(...)` calls in the .ts files under test/, written to test/generated/, which the
 *   testkit's `execute()` takes (test/testkit/execute.ts).
 */
const typesConfig = {
  scalars: { WeComOrder: 'number', File: 'File' },
  enumsAsTypes: true,
  useTypeImports: true,
};

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  // ESM imports with extensions, as the project's NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  // Test documents are the `graphql(...)` calls only: strings marked /* GraphQL */ (raw requests
  // such as federation's _entities) are sent as written, not typed, so the marker is renamed away.
  pluckConfig: { gqlMagicComment: 'TypedTestDocument' },
  generates: {
    'examples/generated/': {
      documents: ['examples/**/*.graphql'],
      preset: 'client',
      config: typesConfig,
      // persisted-documents.json (hash → operation) is the store of PERSISTED_OPERATIONS_ONLY mode (src/security/persisted.ts).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
    },
    // The explorer's documents as typed strings (TypedDocumentString): no graphql-js in the bundle.
    'web/src/generated/': {
      documents: ['web/src/**/*.graphql'],
      preset: 'client',
      config: { ...typesConfig, documentMode: 'string' },
      presetConfig: { fragmentMasking: false },
    },
    'test/generated/': {
      documents: ['test/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config: typesConfig,
      // Tests read results whole (no fragment masking); `graphql` names the tests' tag.
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
    },
  },
};

export default config;
