#!/usr/bin/env node
// Entry of the `coop-studio` command: runs the bundled CLI built by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('coop-studio is not built yet: run `npm run build` (npm ci does it for you).\n');
  process.exit(1);
}
await import(cli);
