import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../electron/engine/settings/paths';

interface PlatformConfig {
  target: string[];
  files: string[];
}
interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  electronFuses: Record<string, boolean>;
  linux: PlatformConfig;
  win: PlatformConfig;
  mac: PlatformConfig;
}

const require = createRequire(import.meta.url);
const config = require(join(appRoot(), 'build', 'electron-builder.config.cjs')) as BuilderConfig;

describe('electron-builder configuration', () => {
  it("passes electron-builder's own schema validation (which rejects an unknown key)", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration(c: unknown, logger: unknown): Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    const bogus = { ...config, electronFuses: { ...config.electronFuses, runAsNodeEverywhere: true } };
    await expect(validateConfiguration(bogus, new DebugLogger(false))).rejects.toThrow(/does not match the API schema/);
  });

  it('builds AppImage + deb, NSIS and dmg', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.win.target).toEqual(['nsis']);
    expect(config.mac.target).toEqual(['dmg']);
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z]+)+$/);
    expect(config.productName).toBe('CoOp Studio');
  });

  it('sets the security fuses', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
    });
  });

  it('unpacks native modules, tfjs wasm and the demo model from the asar, and rebuilds natives for Electron', () => {
    expect(config.asar).toBe(true);
    for (const m of ['onnxruntime-node', 'better-sqlite3', 'sharp']) {
      expect(config.asarUnpack.some((p) => p.includes(`node_modules/${m}/`))).toBe(true);
    }
    expect(config.asarUnpack).toContain('resources/models/**');
    expect(config.asarUnpack.some((p) => p.includes('tfjs-backend-wasm') && p.endsWith('.wasm'))).toBe(true);
    expect(config.npmRebuild).toBe(true);
  });

  it('ships the built app, not sources or source maps, and only the target platform ORT binaries', () => {
    // dist/** holds the main, preload, engine worker, renderer and the compute window's page (dist/compute).
    expect(config.files).toEqual(expect.arrayContaining(['dist/**', 'resources/**', '!dist/**/*.map']));
    const others: Record<'linux' | 'win' | 'mac', string[]> = {
      linux: ['win32', 'darwin'],
      win: ['linux', 'darwin'],
      mac: ['linux', 'win32'],
    };
    for (const [platform, excluded] of Object.entries(others) as ['linux' | 'win' | 'mac', string[]][]) {
      for (const os of excluded) {
        expect(config[platform].files).toContain(`!node_modules/onnxruntime-node/bin/napi-v6/${os}/**`);
      }
    }
  });

  it('points at the bundled Electron entry and existing icons', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/electron/main.js');
    expect(existsSync(join(appRoot(), 'build', 'icon.png'))).toBe(true);
    expect(existsSync(join(appRoot(), 'build', 'icons', '512x512.png'))).toBe(true);
  });
});
