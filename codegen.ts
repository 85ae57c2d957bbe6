import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for frontends: reads the committed schema.graphql and the operations in
 * examples/ and web/src/ (the org explorer), writes examples/generated/ and web/src/generated/
 * (both type-checked by `npm run typecheck`).
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  // ESM imports with extensions, as the project's NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'examples/generated/': {
      documents: ['examples/**/*.graphql'],
      preset: 'client',
      config: {
        scalars: { WeComOrder: 'number', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
      // persisted-documents.json (hash → operation) is the store of PERSISTED_OPERATIONS_ONLY mode (src/security/persisted.ts).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
    },
    // The explorer's documents as typed strings (TypedDocumentString): no graphql-js in the bundle.
    'web/src/generated/': {
      documents: ['web/src/**/*.graphql'],
      preset: 'client',
      config: {
        scalars: { WeComOrder: 'number', File: 'File' },
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: 'string',
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
