import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for frontends: reads the committed schema.graphql and the operations in
 * examples/, writes examples/generated/ (type-checked by `npm run typecheck`).
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/**/*.graphql'],
  ignoreNoDocuments: false,
  // ESM imports with extensions, as the project's NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'examples/generated/': {
      preset: 'client',
      config: {
        scalars: { WeComOrder: 'number', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      // persisted-documents.json (hash → operation) is the store of PERSISTED_OPERATIONS_ONLY mode (src/security/persisted.ts).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
    },
  },
};

export default config;
