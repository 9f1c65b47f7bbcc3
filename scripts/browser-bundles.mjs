// Builds the hidden compute window's page: dist/compute/index.html + compute-page.js (browser bundle with tfjs-core,
// the WebGL backend and the trainer). Called by scripts/build.mjs; runs in Node at build time.
// [Note: compute bundle] Unlike the Node bundles, everything is bundled (the page cannot load node_modules), as one
// classic script (no ES-module loading from file:// needed). tfjs-core and its gradient registrations are bundled
// together, so they share one registry.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** esbuild options of every browser bundle we ship or test (see [Note: compute bundle]). */
export const BROWSER_BUNDLE = { bundle: true, platform: 'browser', format: 'iife', target: 'chrome120' };

/** Bundles `entryPoints` ({ name: source }) for the browser into `outdir` with source maps. */
export async function buildBrowserBundles(root, entryPoints, outdir) {
  await build({
    ...BROWSER_BUNDLE,
    absWorkingDir: root,
    entryPoints,
    outdir,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

/** Builds the compute page into `outdir` (default `<root>/dist/compute`). */
export async function buildComputePage(root, outdir = join(root, 'dist', 'compute')) {
  mkdirSync(outdir, { recursive: true });
  await buildBrowserBundles(root, { 'compute-page': 'electron/compute-page/compute-page.ts' }, outdir);
  copyFileSync(join(root, 'electron', 'compute-page', 'compute.html'), join(outdir, 'index.html'));
}
