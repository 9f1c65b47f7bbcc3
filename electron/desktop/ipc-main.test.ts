import { describe, expect, it, vi } from 'vitest';
import { desktopOps, type DesktopHandlers } from '../../shared/contract/desktop';

const registered = { on: new Map<string, unknown>(), handle: new Map<string, unknown>() };
vi.mock('electron', () => ({
  ipcMain: {
    on: (channel: string, l: unknown) => registered.on.set(channel, l),
    handle: (channel: string, l: unknown) => registered.handle.set(channel, l),
    removeListener: (channel: string) => registered.on.delete(channel),
    removeHandler: (channel: string) => registered.handle.delete(channel),
  },
}));

const { desktopInvokeHandler, engineConnectHandler, isTrustedFrameUrl, registerIpc } = await import('./ipc-main');

const trust = { rendererHost: 'renderer', devServerOrigin: null } as const;
const ours = { url: 'app://renderer/index.html' };
const foreign = { url: 'https://evil.example/' };

function fakeDesktop(): DesktopHandlers & { calls: string[] } {
  const calls: string[] = [];
  const h = Object.fromEntries(
    Object.keys(desktopOps).map((name) => [
      name,
      async (args: unknown) => {
        calls.push(`${name}:${JSON.stringify(args)}`);
        return {};
      },
    ]),
  ) as unknown as DesktopHandlers;
  return Object.assign(h, { calls });
}

describe('Electron IPC handlers', () => {
  it('trusts only our own renderer page on the app scheme', () => {
    expect(isTrustedFrameUrl(ours.url, trust)).toBe(true);
    expect(isTrustedFrameUrl('app://renderer/index.html?x=1#/results', trust)).toBe(true);
    // Under file: every local file shares the origin: not even our own bundle's file is trusted any more.
    expect(isTrustedFrameUrl('file:///opt/coop/dist/renderer/index.html', trust)).toBe(false);
    expect(isTrustedFrameUrl('file:///tmp/evil/index.html', trust)).toBe(false);
    expect(isTrustedFrameUrl('app://compute/index.html', trust)).toBe(false);
    expect(isTrustedFrameUrl('app://renderer/assets/other.html', trust)).toBe(false);
    expect(isTrustedFrameUrl('app://renderer.evil/index.html', trust)).toBe(false);
    expect(isTrustedFrameUrl(foreign.url, trust)).toBe(false);
    expect(isTrustedFrameUrl('not a url', trust)).toBe(false);
    expect(isTrustedFrameUrl('http://127.0.0.1:5173/', { ...trust, devServerOrigin: 'http://127.0.0.1:5173' })).toBe(
      true,
    );
  });

  it('registers both channels and removes them again', () => {
    const off = registerIpc({ connect: () => {} }, fakeDesktop(), trust);
    expect([...registered.on.keys()]).toEqual(['engine:connect']);
    expect([...registered.handle.keys()]).toEqual(['desktop:invoke']);
    off();
    expect(registered.on.size + registered.handle.size).toBe(0);
  });

  it('gives an engine port to our own page only', () => {
    const connected: string[] = [];
    const connect = engineConnectHandler<string>({ connect: (sender) => connected.push(sender) }, trust);
    expect(connect({ sender: 'evil page', senderFrame: foreign })).toBe(false);
    expect(connect({ sender: 'embedded frame', senderFrame: null })).toBe(false);
    expect(connected).toEqual([]);
    expect(connect({ sender: 'our page', senderFrame: ours })).toBe(true);
    expect(connected).toEqual(['our page']);
  });

  it('validates the sender and the arguments of desktop operations', async () => {
    const desktop = fakeDesktop();
    const invoke = desktopInvokeHandler(desktop, trust);
    expect(await invoke({ senderFrame: foreign }, 'openFolderDialog', {})).toMatchObject({
      ok: false,
      error: { code: 'unauthorized' },
    });
    expect(await invoke({ senderFrame: ours }, 'rmRf', {})).toMatchObject({ ok: false, error: { code: 'unknown_op' } });
    expect(await invoke({ senderFrame: ours }, 'openExternal', { url: 42 })).toMatchObject({
      ok: false,
      error: { code: 'bad_args' },
    });
    expect(await invoke({ senderFrame: ours }, 'openFolderDialog', { multiple: true })).toMatchObject({ ok: true });
    expect(desktop.calls).toEqual(['openFolderDialog:{"title":"Choose a folder","multiple":true}']);
  });
});
