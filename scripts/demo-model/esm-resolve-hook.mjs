/**
 * @file Node module hook for the demo-model build under tsx (build script, plain Node).
 *
 * [Note: tfjs gradients under Node ESM] tfjs-core's CommonJS bundle has no gradient functions, and
 * its ESM `dist/register_all_gradients.js` imports files without extensions, which Node's ESM
 * resolver refuses. This hook retries such imports inside tfjs-core with `.js` (or `/index.js`),
 * so `tsx --import ./scripts/demo-model/esm-resolve-hook.mjs` can train. Bundlers (esbuild, Vite,
 * Vitest) resolve them on their own and do not need it.
 */
import { register } from 'node:module';

if (!globalThis.__coopDemoHook) {
  globalThis.__coopDemoHook = true;
  register(
    'data:text/javascript,' +
      encodeURIComponent(`
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const parent = context.parentURL ?? '';
    if (!parent.includes('/@tensorflow/') || !specifier.startsWith('.')) throw e;
    for (const suffix of ['.js', '/index.js']) {
      try { return await next(specifier + suffix, context); } catch {}
    }
    throw e;
  }
}`),
  );
}
