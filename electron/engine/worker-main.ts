/**
 * @file Entry of the engine worker process (engine, plain Node or Electron utility process).
 *
 * [Note: engine process] ONNX Runtime and tfjs run here, never on the Electron main thread or in
 * the renderer. The same entry runs under Electron's `utilityProcess` (messages through
 * `process.parentPort`) and under `child_process.fork` (CLI, web mode, tests: `process.send`).
 * Logs go to stderr; the parent decides where they end up.
 */
import type { ClientMessage, EngineMessage } from '../../shared/protocol';
import { listenForComputePort } from './backends/compute-link';
import { Engine } from './engine';
import { createHandlers } from './handlers';
import { isPeerPortMessage, servePeerPort, type PeerPort } from './peer-port';
import { dataDir } from './settings/paths';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports?: PeerPort[] }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

// Under Electron the main process hands this process the compute window's port (see [Note: compute port]).
listenForComputePort();

function post(m: EngineMessage): void {
  if (parentPort) parentPort.postMessage(m);
  else if (process.send) process.send(m);
}

const engine = new Engine(
  createHandlers({
    dataDir: dataDir(),
    log: (message) => process.stderr.write(`[engine] ${message}\n`),
  }),
);

function onMessage(raw: unknown): void {
  const m = raw as ClientMessage;
  if (m.type === 'shutdown') {
    void shutdown();
    return;
  }
  if (m.type === 'cancel') {
    engine.cancel(m.id);
    return;
  }
  // Other messages (the desktop app's compute-window port) are handled by their own listeners.
  if (m.type !== 'call') return;
  const progress = m.wantsProgress ? (event: unknown) => post({ type: 'progress', id: m.id, event }) : () => {};
  void engine.runJob(m.id, m.op, m.args, progress).then((result) => post({ type: 'result', id: m.id, result }));
}

if (parentPort)
  parentPort.on('message', (e) => {
    // The renderer's port (see [Note: engine port]); compute-window ports have their own listener.
    const port = e.ports?.[0];
    if (port && isPeerPortMessage(e.data)) servePeerPort(engine, port);
    else onMessage(e.data);
  });
else if (process.send) process.on('message', onMessage);
else {
  process.stderr.write('The engine worker must be started by coop-studio (fork or utilityProcess).\n');
  process.exit(2);
}

/** Cancels every job and exits once they have settled (at most 10 s). */
async function shutdown(): Promise<void> {
  engine.cancelAll();
  await engine.idle(10_000);
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown());

// The parent going away ends the worker (child_process: 'disconnect').
process.on('disconnect', () => {
  engine.cancelAll();
  process.exit(0);
});

post({ type: 'ready', pid: process.pid });
