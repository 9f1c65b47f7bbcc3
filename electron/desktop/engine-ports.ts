/**
 * @file Gives each renderer a MessagePort straight to the engine process, and a new one after an engine restart
 * (Electron main).
 *
 * [Note: engine port] The main process stays off the data path, as Ente desktop does for its ML utility process: when
 * our renderer page asks (`engine:connect`, sender checked in ipc-main.ts), main creates a MessageChannelMain, hands
 * one port to the engine's utility process (which serves it with the same `servePeer` as every other transport) and
 * the other to the page (the preload passes it on with `window.postMessage`), and steps out: calls, progress events
 * (one per training step) and results never pass through main. When the engine crashes, main tells the page (the
 * calls in flight on the dead port fail with `engine_crashed`) and, once the restarted engine is ready, hands every
 * connected page a new port. A page that reloads asks again and gets a fresh port; jobs outlive it.
 */

/** The IPC channel on which a renderer receives its engine port. */
export const ENGINE_PORT_CHANNEL = 'engine:port';

/** A renderer the main process can post a port to (Electron's WebContents). */
export interface PortTarget<Port> {
  postMessage(channel: string, message: unknown, transfer: Port[]): void;
  /** The URL of the page it shows. */
  getURL(): string;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): void;
}

/** What {@link EnginePorts} needs: a channel factory, the engine to give one end to, and a trust check. */
export interface EnginePortsOptions<Port> {
  /** `new MessageChannelMain()` in Electron (tests pass Node's MessageChannel). */
  newChannel(): { port1: Port; port2: Port };
  /** Hands a port to the engine now running; false when none is ready (then `engineReady` comes later). */
  toEngine(port: Port): boolean;
  /** Whether a page URL is our own renderer (checked again before every port a renderer is given). */
  trusted(url: string): boolean;
  /** Closes a port that was not handed over. */
  close(port: Port): void;
}

/** The renderers that asked for an engine port (see [Note: engine port]). */
export class EnginePorts<Port> {
  private readonly targets = new Set<PortTarget<Port>>();

  constructor(private readonly options: EnginePortsOptions<Port>) {}

  /** How many renderers are connected. */
  get size(): number {
    return this.targets.size;
  }

  /** A trusted renderer asked for a port (page load or reload): it gets one now, and a new one after every restart. */
  connect(target: PortTarget<Port>): void {
    if (!this.targets.has(target)) {
      this.targets.add(target);
      target.once('destroyed', () => this.targets.delete(target));
    }
    this.give(target);
  }

  /** A (re)started engine is ready: every connected renderer gets a port to it. */
  engineReady(): void {
    for (const target of this.targets) this.give(target);
  }

  private give(target: PortTarget<Port>): void {
    if (target.isDestroyed() || !this.options.trusted(target.getURL())) {
      this.targets.delete(target);
      return;
    }
    const { port1, port2 } = this.options.newChannel();
    if (!this.options.toEngine(port1)) {
      this.options.close(port1);
      this.options.close(port2);
      return;
    }
    target.postMessage(ENGINE_PORT_CHANNEL, null, [port2]);
  }
}
