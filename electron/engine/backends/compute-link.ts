/**
 * @file The engine worker's client of the desktop app's hidden compute window (engine, plain Node).
 *
 * [Note: compute port] In the desktop app the main process creates a MessageChannelMain and hands one end to the
 * compute window and the other to this utility process as `{ type: 'compute-port' }` with the port attached; a
 * re-created window (after a GPU process crash) sends a new port, which replaces the old link. Outside Electron
 * (CLI, web mode, tests) no port ever arrives and `computeLink()` stays null, so training runs in the engine.
 */
import type { ComputeProbe, ComputeTrainArgs, ComputeTrainResult } from './compute-protocol';
import { MessageClient } from '../../../shared/message-client';
import type { ClientMessage, EngineMessage } from '../../../shared/protocol';
import { AppError, type Result } from '../../../shared/result';

/** A message channel to the compute window, whatever carries it (Electron MessagePortMain, worker_threads port). */
export interface ComputeChannel {
  send(m: ClientMessage): void;
  onMessage(listener: (m: unknown) => void): void;
  onClose(listener: () => void): void;
}

/** How long `probe` waits for the compute window (it answers in milliseconds unless it is stuck). */
const PROBE_TIMEOUT_MS = 5000;

type UntypedCall = (
  op: string,
  args: unknown,
  options: { signal?: AbortSignal; onProgress?: (e: unknown) => void },
) => Promise<Result<unknown>>;

/** Calls of the compute window's operations (see [Note: compute window protocol]). */
export class ComputeLink {
  private readonly client: MessageClient;
  private probed: Promise<ComputeProbe> | null = null;

  constructor(channel: ComputeChannel) {
    this.client = new MessageClient((m) => channel.send(m));
    channel.onMessage((m) => this.client.receive(m as EngineMessage));
    channel.onClose(() =>
      this.client.failAll({ code: 'engine_crashed', message: 'The GPU compute window closed during the job.' }, true),
    );
  }

  private async call<T>(op: string, args: unknown, options: Parameters<UntypedCall>[2] = {}): Promise<T> {
    const r = await (this.client.call as unknown as UntypedCall).call(this.client, op, args, options);
    if (!r.ok) throw new AppError(r.error.code, r.error.message, r.error.detail);
    return r.value as T;
  }

  /**
   * The window's GPU probe (asked once per link; the answer does not change while the window lives). A window that
   * does not answer within `timeoutMs` counts as unusable for now (`unsupported`), and is asked again next time.
   */
  probe(timeoutMs = PROBE_TIMEOUT_MS): Promise<ComputeProbe> {
    if (!this.probed) {
      // The call itself ends only when the window answers; the race ends the wait (and the cancel tidies up).
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new AppError('unsupported', `The GPU compute window did not answer within ${timeoutMs / 1000} s.`));
        }, timeoutMs);
      });
      const asked = this.call<ComputeProbe>('probe', {}, { signal: controller.signal });
      this.probed = Promise.race([asked, late])
        .finally(() => clearTimeout(timer))
        .catch((e: unknown) => {
          this.probed = null;
          throw e;
        });
    }
    return this.probed;
  }

  /** Runs a whole training job in the window. */
  train(
    args: ComputeTrainArgs,
    options: { signal?: AbortSignal; onProgress?: (e: unknown) => void } = {},
  ): Promise<ComputeTrainResult> {
    return this.call<ComputeTrainResult>('train', args, options);
  }
}

let current: ComputeLink | null = null;

/** The link to the compute window, or null when there is none (CLI, web mode, tests, before the window is up). */
export function computeLink(): ComputeLink | null {
  return current;
}

/** Replaces the link (the main process's port, or a test's channel); null removes it. */
export function setComputeLink(link: ComputeLink | null): void {
  current = link;
}

interface PortMain {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(m: unknown): void;
  start(): void;
}
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports?: PortMain[] }) => void): void;
}

/** In an Electron utility process, adopts the compute ports the main process sends; elsewhere does nothing. */
export function listenForComputePort(): void {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  parentPort?.on('message', (e) => {
    const port = e.ports?.[0];
    if ((e.data as { type?: unknown } | null)?.type !== 'compute-port' || !port) return;
    const link = new ComputeLink({
      send: (m) => port.postMessage(m),
      onMessage: (l) => port.on('message', (ev) => l(ev.data)),
      onClose: (l) =>
        port.on('close', () => {
          l();
          if (current === link) setComputeLink(null);
        }),
    });
    port.start();
    setComputeLink(link);
  });
}
