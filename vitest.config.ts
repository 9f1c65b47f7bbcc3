import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

// Two projects: the Node tests (engine, hosts, desktop, shared, scripts) and the renderer's controller and component
// tests, which run in a DOM (happy-dom) with Svelte compiled for the browser (see renderer/src/testing/harness.ts).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    typecheck: { enabled: false },
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: [
            'shared/**/*.test.ts',
            'electron/**/*.test.ts',
            'tests/unit/**/*.test.ts',
            'tests/security/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          globalSetup: ['tests/global-setup.ts'],
        },
      },
      {
        extends: true,
        plugins: [svelte({ configFile: 'renderer/svelte.config.js' }), svelteTesting()],
        test: {
          name: 'renderer',
          include: ['renderer/src/**/*.test.ts'],
          environment: 'happy-dom',
          setupFiles: ['renderer/src/testing/setup-dom.ts'],
        },
      },
    ],
  },
});
