#!/usr/bin/env node
// The compiled CLI (npm run build). From a checkout without a build: npm run emulator.
await import('../dist/cli.js');
