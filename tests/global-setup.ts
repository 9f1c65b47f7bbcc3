/**
 * @file Vitest global setup: builds the Node bundles once, so tests that fork the engine worker run current code.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  if (process.env['COOP_STUDIO_SKIP_BUILD'] === '1') return;
  execFileSync(process.execPath, ['scripts/build.mjs', '--node-only'], { stdio: 'inherit' });
}
