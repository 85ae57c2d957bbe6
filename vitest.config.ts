import { createRequire } from 'node:module';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql instance: Node loads graphql's CJS entry for Yoga and Pothos, while Vite would
    // pick the "module" (ESM) entry for our sources; two copies break `instanceof GraphQLError`.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  // The workspace packages (packages/*) are used from their TypeScript sources, as by tsx and tsc.
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions], externalConditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // The org explorer's build (web/dist), made when missing or stale: the browser tests load it.
    globalSetup: ['test/browser/build-web.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in two workers, tests within a file in order.
    maxWorkers: 2,
  },
});
