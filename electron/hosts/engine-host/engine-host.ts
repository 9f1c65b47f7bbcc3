/**
 * @file Hosts the engine worker process and gives out a client to it (Node or Electron main).
 *
 * [Note: engine host] The host starts the worker through a `WorkerLauncher` (child_process.fork
 * here; Electron's main process passes a utilityProcess launcher), restarts it when it crashes,
 * and fails the calls that were in flight with `engine_crashed` so that the UI can tell the user.
 * Jobs that were running are marked interrupted by the store at the next start. Besides its own
 * client, the host can hand a worker a MessagePort to serve a peer on (`sendPeerPort`, the desktop
 * page's port: see [Note: engine port]); calls on such a port never pass through the host.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineClient } from '../../../shared/client';
import { MessageClient } from '../../../shared/message-client';
import { PEER_PORT_MESSAGE, type ClientMessage, type EngineMessage } from '../../../shared/protocol';
import { appRoot } from '../../engine/settings/paths';

/** A started worker process, whatever started it. */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(m: ClientMessage): void;
  /** Sends a message with a MessagePort attached (Electron's utility process; absent under child_process). */
  postPort?(message: unknown, port: unknown): void;
  onMessage(listener: (m: EngineMessage) => void): void;
  /** Called once when the process ends, with its exit code (null if killed by a signal). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

/** Starts a worker process running the engine entry. */
export type WorkerLauncher = (entry: string, env: NodeJS.ProcessEnv) => WorkerHandle;

/** The bundled worker entry (built by `npm run build`). */
export function workerEntryPath(): string {
  return join(appRoot(), 'dist', 'engine-worker.js');
}

/** Launches the worker with `child_process.fork` (CLI, web mode, tests). */
export const forkLauncher: WorkerLauncher = (entry, env) => {
  const child = fork(entry, [], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  return {
    pid: child.pid,
    send: (m) => {
      child.send(m);
    },
    onMessage: (l) => child.on('message', (m) => l(m as EngineMessage)),
    onExit: (l) => child.once('exit', (code, signal) => l(code, signal)),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
};

/** Options of {@link EngineHost}. */
export interface EngineHostOptions {
  launcher?: WorkerLauncher;
  entry?: string;
  env?: NodeJS.ProcessEnv;
  /** Restart the worker after a crash (default true). */
  restart?: boolean;
  /** Told about each crash (the desktop app shows it to the user). */
  onCrash?: (info: { code: number | null; signal: string | null; failedCalls: number }) => void;
  /** Told each time a worker (the first one, or one restarted after a crash) is ready for calls and ports. */
  onReady?: () => void;
}

/** Owns the engine worker process; `client` stays valid across restarts. */
export class EngineHost {
  readonly client: MessageClient;
  private worker: WorkerHandle | null = null;
  /** Whether `worker` has said it is ready. */
  private workerReady = false;
  private stopping = false;
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private restarts = 0;

  constructor(private readonly options: EngineHostOptions = {}) {
    this.client = new MessageClient(
      (m) => {
        if (!this.worker) throw new Error('engine not running');
        this.worker.send(m);
      },
      () => this.shutdown(),
    );
  }

  /** The worker's pid (for tests that kill it). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** How many times the worker was restarted after a crash. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Starts the worker and resolves when it is ready. */
  start(): Promise<void> {
    const entry = this.options.entry ?? workerEntryPath();
    if (!existsSync(entry)) {
      return Promise.reject(new Error(`The engine worker is not built (${entry}). Run \`npm run build\` first.`));
    }
    const launcher = this.options.launcher ?? forkLauncher;
    const worker = launcher(entry, this.options.env ?? process.env);
    this.worker = worker;
    this.workerReady = false;
    const ready = new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    let isReady = false;
    worker.onMessage((m) => {
      if (m.type === 'ready') {
        isReady = true;
        if (this.worker === worker) this.workerReady = true;
        for (const w of this.readyWaiters.splice(0)) w.resolve();
        this.options.onReady?.();
      } else this.client.receive(m);
    });
    worker.onExit((code, signal) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.workerReady = false;
      if (!isReady) {
        // A worker that dies before it is ready is broken (a bad build, a missing native module): restarting it
        // would only loop, so every waiter gets the error instead.
        const why = signal ?? `exit code ${String(code)}`;
        const error = new Error(`The engine worker failed to start (${why}); its error output is above.`);
        for (const w of this.readyWaiters.splice(0)) w.reject(error);
        return;
      }
      const failedCalls = this.client.inFlight;
      this.client.failAll(
        {
          code: 'engine_crashed',
          message: this.stopping
            ? 'The engine was stopped.'
            : `The engine process ended unexpectedly (${signal ?? `exit code ${String(code)}`}); the job was marked failed.`,
        },
        false,
      );
      if (this.stopping) return;
      this.options.onCrash?.({ code, signal, failedCalls });
      if (this.options.restart !== false) {
        this.restarts++;
        void this.start().catch(() => {});
      }
    });
    return ready;
  }

  /**
   * Hands `port` to the running worker, which serves the engine protocol on it (see [Note: engine port] in
   * electron/desktop/engine-ports.ts). False when no worker is ready or its launcher cannot pass ports (child_process):
   * the caller tries again on `onReady`.
   */
  sendPeerPort(port: unknown): boolean {
    const worker = this.worker;
    if (!worker || !this.workerReady || !worker.postPort) return false;
    worker.postPort(PEER_PORT_MESSAGE, port);
    return true;
  }

  /** Waits until a (re)started worker is ready. */
  whenReady(): Promise<void> {
    if (this.worker && this.readyWaiters.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Graceful stop: the worker cancels its jobs and exits; killed if it has not exited after `timeoutMs`. */
  async shutdown(timeoutMs = 12_000): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.kill(), timeoutMs);
      worker.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      try {
        worker.send({ type: 'shutdown' });
      } catch {
        worker.kill();
      }
    });
  }

  /** Stops the worker for good, at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      worker.onExit(() => resolve());
      worker.kill();
    });
  }
}

/** Starts an engine worker process and returns a client bound to it; closing the client stops the worker. */
export async function startEngineProcess(
  options: EngineHostOptions = {},
): Promise<EngineClient & { host: EngineHost }> {
  const host = new EngineHost(options);
  await host.start();
  const client = host.client as MessageClient & { host: EngineHost };
  client.host = host;
  return client;
}
