/**
 * @file The app settings as JSON in `<dataDir>/settings.json` (engine, plain Node).
 *
 * [Note: settings file] Settings are a small JSON object read on every use (no cache, so the worker,
 * the CLI and tests never disagree) and written atomically (temp file + rename). Unknown keys are
 * kept, so other domains can add settings without touching this module. A corrupt file is not
 * overwritten silently: reading it is an `invalid_data` error that names the file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppSettings, EndpointSource } from '../../../shared/contract/models';
import { AppError } from '../../../shared/result';

/** Default download endpoint. */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** Environment variable that overrides the endpoint setting. */
export const HF_ENDPOINT_ENV = 'COOP_STUDIO_HF_ENDPOINT';

/** Path of the settings file. */
export function settingsPath(dataDir: string): string {
  return join(dataDir, 'settings.json');
}

/** Reads the settings; a missing file is empty settings. */
export function readSettings(dataDir: string): AppSettings {
  const file = settingsPath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new AppError('io_error', `Cannot read the settings file ${file}.`, String(e));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AppError('invalid_data', `The settings file ${file} is not valid JSON; fix or delete it.`, String(e));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AppError('invalid_data', `The settings file ${file} must hold a JSON object; fix or delete it.`);
  return value as AppSettings;
}

/** Applies a patch (a key set to `undefined` or `null` is removed) and writes the file atomically. */
export function updateSettings(dataDir: string, patch: Record<string, unknown>): AppSettings {
  const next: AppSettings = { ...readSettings(dataDir) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null) delete next[key];
    else next[key] = value;
  }
  mkdirSync(dataDir, { recursive: true });
  const file = settingsPath(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(next, null, 2) + '\n');
  renameSync(tmp, file);
  return next;
}

/**
 * The download endpoint in force, without a trailing slash.
 *
 * [Note: endpoint precedence] An explicit argument (CLI `--endpoint`) wins, then the environment
 * variable (for mirrors set up by an administrator, like huggingface_hub's `HF_ENDPOINT`), then the
 * user's setting, then https://huggingface.co.
 */
export function resolveEndpoint(
  dataDir: string,
  argument?: string,
  env: NodeJS.ProcessEnv = process.env,
): { endpoint: string; source: EndpointSource } {
  const fromEnv = env[HF_ENDPOINT_ENV];
  const setting = readSettings(dataDir).hfEndpoint;
  const [endpoint, source]: [string, EndpointSource] = argument
    ? [argument, 'argument']
    : fromEnv
      ? [fromEnv, 'environment']
      : typeof setting === 'string' && setting
        ? [setting, 'setting']
        : [DEFAULT_HF_ENDPOINT, 'default'];
  return { endpoint: endpoint.replace(/\/+$/, ''), source };
}
