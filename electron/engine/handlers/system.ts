/**
 * @file Handlers of the system operations: `version`, `doctor` (engine, plain Node).
 */
import { createRequire } from 'node:module';
import { availableParallelism, totalmem } from 'node:os';
import type Database from 'better-sqlite3';
import type * as Ort from 'onnxruntime-node';
import type { HandlersFor } from '../../../shared/contract';
import type { BackendStatus, diagnosticOps, DoctorReport, systemOps } from '../../../shared/contract/system';
import { AppError } from '../../../shared/result';
import { checkDataFolder } from '../settings/data-folder-check';
import type { EngineEnv } from './env';
import { appVersion } from '../settings/paths';
import { probeBackends } from '../backends/probe';
import { tfjsVersion } from '../tf/backends';

const require = createRequire(import.meta.url);

function electronStatus(): DoctorReport['electron'] {
  const running = process.versions['electron'] ?? null;
  if (running) return { available: true, version: running, note: 'running inside Electron' };
  try {
    // In plain Node, the `electron` package exports the path of its binary, or throws when it was not downloaded.
    const binary = require('electron') as unknown;
    const version = (require('electron/package.json') as { version: string }).version;
    return { available: typeof binary === 'string', version, note: `binary at ${String(binary)}` };
  } catch (e) {
    const msg = e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
    return {
      available: false,
      version: null,
      note: `Electron binary not installed (${msg}); the web mode and CLI work without it.`,
    };
  }
}

async function ortStatus(): Promise<DoctorReport['onnxRuntime']> {
  const ort = (await import('onnxruntime-node')) as typeof Ort;
  const version = (require('onnxruntime-node/package.json') as { version: string }).version;
  const providers: BackendStatus[] = ort.listSupportedBackends().map((b) => ({
    name: b.name,
    available: b.bundled,
    note: b.bundled ? 'bundled' : 'needs a separately installed runtime',
  }));
  return { version, providers };
}

function sqliteVersion(): string {
  const Sqlite = require('better-sqlite3') as typeof Database;
  const db = new Sqlite(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** Handlers for {@link systemOps}. */
export function systemHandlers(env: EngineEnv): HandlersFor<typeof systemOps> {
  return {
    async version() {
      return {
        name: 'coop-studio',
        version: appVersion(),
        node: process.versions.node,
        electron: process.versions['electron'] ?? null,
      };
    },
    async doctor() {
      const backends = await probeBackends();
      const preferred = backends.find((b) => b.available)?.name ?? 'none';
      return {
        app: { name: 'coop-studio', version: appVersion() },
        node: {
          version: process.versions.node,
          platform: process.platform,
          arch: process.arch,
          cpus: availableParallelism(),
          memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        },
        electron: electronStatus(),
        tfjs: { version: tfjsVersion, backends, preferred },
        onnxRuntime: await ortStatus(),
        sqlite: { version: sqliteVersion() },
        dataDir: env.dataDir,
        dataDirStatus: checkDataFolder(env.dataDir),
      };
    },
  };
}

/** Handlers for {@link diagnosticOps}. */
export function diagnosticHandlers(): HandlersFor<typeof diagnosticOps> {
  return {
    async ping({ delayMs, ticks }, { progress, signal }) {
      const rounds = ticks > 0 ? ticks : delayMs > 0 ? 1 : 0;
      for (let tick = 1; tick <= rounds; tick++) {
        await sleep(delayMs / rounds, signal);
        if (ticks > 0) progress({ tick, of: ticks });
      }
      return { pong: true as const, pid: process.pid, ticks };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AppError('cancelled', 'The job was cancelled.'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AppError('cancelled', 'The job was cancelled.'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
