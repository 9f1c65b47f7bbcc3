// Builds everything the app runs from: the Node-side bundles (esbuild) and the renderer (Vite).
// Usage: node scripts/build.mjs [--node-only]
// [Note: bundles] Node code is bundled per entry with every npm package left external, so native
// modules (onnxruntime-node, better-sqlite3, sharp) and tfjs' wasm files load from node_modules.
// The preload is CommonJS because Electron's sandboxed preloads cannot be ES modules.
// One exception: tfjs-core's gradient registrations exist only as extension-less ES modules that Node cannot load,
// so that one subpath is bundled. tfjs keeps its engine and kernel/gradient registries on the global object, so the
// bundled copy registers into the same registries as the external tfjs-core.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildComputePage } from './browser-bundles.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodeOnly = process.argv.includes('--node-only');
const require = createRequire(import.meta.url);
const bundleTfjsGradients = {
  name: 'bundle-tfjs-gradients',
  setup(b) {
    b.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients(\.js)?$/ }, () => ({
      path: require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js', { paths: [root] }),
    }));
  },
};
const common = {
  plugins: [bundleTfjsGradients],
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
};

// The renderer build empties dist/renderer itself; a node-only build leaves it alone.
if (!nodeOnly) rmSync(join(root, 'dist'), { recursive: true, force: true, maxRetries: 3 });
await Promise.all([
  build({
    ...common,
    format: 'esm',
    entryPoints: {
      cli: 'electron/hosts/cli/main.ts',
      'engine-worker': 'electron/engine/worker-main.ts',
      'train-shard-worker': 'electron/engine/train/shard-worker.ts',
      'electron/main': 'electron/desktop/main.ts',
    },
    outdir: 'dist',
    outExtension: { '.js': '.js' },
  }),
  build({
    ...common,
    format: 'cjs',
    external: ['electron'],
    entryPoints: { 'electron/preload': 'electron/desktop/preload.ts' },
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
  }),
]);
if (!nodeOnly) {
  await buildComputePage(root);
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
}
