import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The service to proxy to in `npm run dev:web` (its PORT; 4000 by default). */
const service = process.env.EXPLORER_SERVICE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`;

/**
 * The org explorer: built to web/dist/ and served by the service at `/` (src/web/index.ts).
 * Hashed file names under assets/ (cached for a year); no inline script or style, so the pages'
 * Content-Security-Policy can allow this origin only.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be inlined; every browser the explorer targets has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { '/graphql': service, '/favicon.svg': service },
  },
});
