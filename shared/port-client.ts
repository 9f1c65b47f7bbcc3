/**
 * @file An `EngineClient` over a MessagePort that is replaced when the engine restarts (pure TypeScript).
 *
 * The desktop renderer talks to the engine process over a port the main process handed it (see [Note: engine port]
 * in electron/desktop/engine-ports.ts). When the engine crashes, the calls in flight on the old port can never be
 * answered: they fail with `engine_crashed` (at the crash notice, or at the latest when the next port arrives).
 * Calls made while there is no port wait for the next one.
 */
import type { CallOptions, EngineClient } from './client';
import type { OpArgs, OpName, OpProgress, OpResult } from './contract';
import { MessageClient } from './message-client';
import type { ClientMessage, EngineMessage } from './protocol';
import type { Result } from './result';

/** What the client needs of a port (a DOM MessagePort, or Node's in tests). */
export interface EnginePort {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start(): void;
  close(): void;
}

const CRASHED = 'The engine process ended unexpectedly; the job was marked failed.';

/** Engine calls over the current port (see the file header). */
export class PortClient implements EngineClient {
  private readonly client = new MessageClient((m) => this.post(m));
  private port: EnginePort | null = null;
  /** Calls made while there is no port (only ever non-empty while `port` is null). */
  private readonly waiting: ClientMessage[] = [];

  /** Whether a port is attached now. */
  get connected(): boolean {
    return this.port !== null;
  }

  call<N extends OpName>(name: N, args: OpArgs<N>, options?: CallOptions<OpProgress<N>>): Promise<Result<OpResult<N>>> {
    return this.client.call(name, args, options);
  }

  /**
   * A port to a (re)started engine. Calls still waiting for an answer on a previous port fail with `engine_crashed`
   * (that engine is gone); calls made while there was no port are sent now.
   */
  attach(port: EnginePort): void {
    if (this.port) this.detach();
    this.port = port;
    port.addEventListener('message', (e) => {
      if (this.port === port) this.client.receive(e.data as EngineMessage);
    });
    port.start();
    for (const m of this.waiting.splice(0)) port.postMessage(m);
  }

  /** The engine is gone: fails the calls in flight with `engine_crashed`; new calls wait for the next port. */
  detach(message = CRASHED): void {
    const port = this.port;
    if (!port) return;
    this.port = null;
    port.close();
    this.client.failAll({ code: 'engine_crashed', message }, false);
  }

  async close(): Promise<void> {
    this.port?.close();
    this.port = null;
    await this.client.close();
  }

  private post(m: ClientMessage): void {
    if (this.port) this.port.postMessage(m);
    else this.waiting.push(m);
  }
}
