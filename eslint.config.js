// ESLint: typed rules for TypeScript, Svelte rules for the renderer, and the runtime boundaries
// of ../shared/STYLE.md enforced with no-restricted-imports.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { boundariesPlugin } from './scripts/lint/boundaries.mjs';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'url', 'util', 'worker_threads'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'release/', 'resources/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // shared/ is pure TypeScript: no Electron, no Node, no DOM-only modules.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['electron', ...nodeBuiltins], message: 'shared/ is pure TypeScript (see STYLE.md).' }] },
      ],
    },
  },
  {
    // The renderer imports only shared/ and browser packages.
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte'],
    ignores: ['renderer/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', ...nodeBuiltins], message: 'The renderer has no Node or Electron access.' },
            { group: ['**/electron/**'], message: 'The renderer imports only shared/.' },
          ],
        },
      ],
    },
  },
  {
    // Raw ipcMain/ipcRenderer only in the two wrapper files.
    files: ['electron/**/*.ts'],
    ignores: ['electron/desktop/ipc-main.ts', 'electron/desktop/preload.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcMain', 'ipcRenderer'],
              message: 'Use electron/desktop/ipc-main.ts or the preload.',
            },
          ],
        },
      ],
    },
  },
  {
    // Only the desktop app imports Electron: the engine, the hosts (CLI, web server) and the compute page run
    // without it, so the CLI, web mode and tests run them in plain Node.
    files: ['electron/**/*.ts'],
    ignores: ['electron/desktop/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only electron/desktop/ imports Electron (see STYLE.md).' }] },
      ],
    },
  },
  {
    // Which folder may import which: one table, checked acyclic (see [Note: folder boundaries]).
    files: [
      'shared/**/*.ts',
      'electron/**/*.ts',
      'electron/**/*.mjs',
      'renderer/src/**/*.ts',
      'renderer/src/**/*.svelte',
    ],
    plugins: { boundaries: boundariesPlugin },
    rules: { 'boundaries/zones': ['error', { root: import.meta.dirname }] },
  },
  {
    files: [
      'renderer/svelte.config.js',
      'eslint.config.js',
      'renderer/vite.config.ts',
      'vitest.config.ts',
      'tests/e2e/vitest.config.ts',
      'tests/global-setup.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
