#!/usr/bin/env node
// The compiled CLI (npm run build). From a checkout without a build: npm run emulator (tsx).
try {
  await import('../dist/cli.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist/cli.js')) throw err;
  process.stderr.write(
    'wecom-emulator: not built yet. Run `npm run build` at the repository root (or `npm run emulator` to run from the sources).\n',
  );
  process.exit(2);
}
