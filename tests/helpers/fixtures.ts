/**
 * @file Where the read-only shared fixtures are (`../shared/fixtures` beside the checkout; never copied into the repo).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../../electron/engine/settings/paths';

/** The shared fixtures folder; throws with a clear message when the checkout has no `../shared` beside it. */
export function fixturesDir(): string {
  const dir = join(appRoot(), '..', 'shared', 'fixtures');
  if (!existsSync(dir)) throw new Error(`The shared fixtures are missing: expected them at ${dir}.`);
  return dir;
}

/** Folders of the fixture CLIP models (`hf-tiny-op14`, `hf-tiny-op17`, ...). */
export function fixtureModelDirs(): string[] {
  const root = join(fixturesDir(), 'models');
  return readdirSync(root)
    .sort()
    .map((name) => join(root, name));
}
