#!/usr/bin/env node
// Runs the compiled runtime: `npm run build` (which `npm ci` runs as `prepare`) writes dist/,
// so nothing is transpiled when the process starts.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/runtime/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mlstream: dist/runtime/cli.js is missing; run `npm run build` (npm ci runs it)\n');
  process.exit(1);
}
await import(entry.href);
