import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tests/helpers/engine';
import { LOCATION_FILE, moveDataFolder, readLocationPointer } from './data-location';
import { dataDir } from './paths';

describe('data folder location', () => {
  const dirs: { cleanup: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
  const fresh = () => {
    const d = tempDir('coop-loc-');
    dirs.push(d);
    return d.path;
  };

  it('moves everything, verifies, switches the pointer and removes the old data', () => {
    const def = fresh();
    writeFileSync(join(def, 'coop-studio.sqlite'), 'db bytes');
    mkdirSync(join(def, 'thumbs', 'ab'), { recursive: true });
    writeFileSync(join(def, 'thumbs', 'ab', 'x.webp'), 'thumb');
    const to = join(fresh(), 'moved here');
    const r = moveDataFolder(def, to, def);
    expect(r.files).toBe(2);
    expect(readFileSync(join(to, 'thumbs', 'ab', 'x.webp'), 'utf8')).toBe('thumb');
    expect(readLocationPointer(def)).toBe(to);
    expect(existsSync(join(def, 'coop-studio.sqlite'))).toBe(false);
  });

  it('moves back to the default location and drops the pointer', () => {
    const def = fresh();
    const away = join(fresh(), 'away');
    writeFileSync(join(def, 'a.txt'), 'a');
    moveDataFolder(def, away, def);
    moveDataFolder(away, def, def);
    expect(existsSync(join(def, LOCATION_FILE))).toBe(false);
    expect(readFileSync(join(def, 'a.txt'), 'utf8')).toBe('a');
    expect(existsSync(away)).toBe(false);
  });

  it('refuses a non-empty target or a target inside the folder, and loses nothing', () => {
    const def = fresh();
    writeFileSync(join(def, 'a.txt'), 'a');
    const busy = fresh();
    writeFileSync(join(busy, 'other.txt'), 'x');
    expect(() => moveDataFolder(def, busy, def)).toThrow(/not empty/);
    expect(() => moveDataFolder(def, join(def, 'inner'), def)).toThrow(/into itself/);
    expect(readFileSync(join(def, 'a.txt'), 'utf8')).toBe('a');
  });

  it('resolves the moved location through the pointer in the OS default folder', () => {
    const config = fresh();
    const def = join(config, 'CoOp Studio');
    mkdirSync(def);
    writeFileSync(join(def, 'a.txt'), 'a');
    const to = join(fresh(), 'elsewhere');
    if (process.platform === 'linux') expect(dataDir({ XDG_CONFIG_HOME: config })).toBe(def);
    moveDataFolder(def, to, def);
    if (process.platform === 'linux') expect(dataDir({ XDG_CONFIG_HOME: config })).toBe(to);
  });

  it('lets COOP_STUDIO_DATA_DIR override everything', () => {
    expect(dataDir({ COOP_STUDIO_DATA_DIR: '/tmp/x' })).toBe('/tmp/x');
  });
});
