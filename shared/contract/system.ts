/**
 * @file Contract of the system operations: version and environment diagnosis (pure TypeScript).
 */
import { z } from 'zod';
import { job, op } from './define';

/** One tfjs backend and whether it loaded in the engine process. */
export interface BackendStatus {
  name: string;
  available: boolean;
  /** Why it is not available, or what it is (threads, SIMD, ...). */
  note: string;
}

/** What `doctor` reports about the engine's environment. */
export interface DoctorReport {
  app: { name: string; version: string };
  node: { version: string; platform: string; arch: string; cpus: number; memoryGiB: number };
  electron: { available: boolean; version: string | null; note: string };
  tfjs: { version: string; backends: BackendStatus[]; preferred: string };
  onnxRuntime: { version: string; providers: BackendStatus[] };
  sqlite: { version: string };
  dataDir: string;
  /** Whether the engine can write to the data folder (a file was created and removed there), and free space. */
  dataDirStatus: DataDirStatus;
}

/** What `doctor` found out about the data folder. */
export interface DataDirStatus {
  writable: boolean;
  /** Bytes free for this user on the folder's file system, or null when unknown. */
  freeBytes: number | null;
  /** A sentence: where it was checked, or why it cannot be written and what to do. */
  note: string;
}

/** Version information. */
export interface VersionInfo {
  name: string;
  version: string;
  node: string;
  electron: string | null;
}

/** System operations. */
export const systemOps = {
  version: op<VersionInfo>()(z.object({}), 'Version of the app and its runtime.'),
  doctor: op<DoctorReport>()(
    z.object({}),
    'Diagnose the environment: Node/Electron, tfjs backends, ONNX Runtime providers, SQLite, data folder.',
  ),
};

/** Progress of `ping`. */
export interface PingProgress {
  tick: number;
  of: number;
}

/** Transport diagnostics. */
export const diagnosticOps = {
  ping: job<{ pong: true; pid: number; ticks: number }, PingProgress>()(
    z.object({
      delayMs: z.number().int().min(0).max(60_000).default(0),
      ticks: z.number().int().min(0).max(1000).default(0),
    }),
    'Round-trip check of the engine; with a delay it reports `ticks` progress events and can be cancelled.',
  ),
};
