/**
 * @file Malformed WebSocket frames against a real `coop-studio serve` (issue 15, defect 3): each one closes only its
 * own connection; the server keeps answering and a job running on another connection finishes (Node test runner).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { EngineMessage } from '../../shared/protocol';
import { closedWithin, rawWebSocket, serveCli, wsFrame, type ServedCli } from './procs-serve';

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** The seven frames of the issue, each written on its own fresh connection. */
const HOSTILE: { name: string; bytes: () => Buffer }[] = [
  { name: 'invalid UTF-8 in a text frame', bytes: () => wsFrame(OP_TEXT, Buffer.from([0xc3, 0x28, 0xff, 0xfe])) },
  { name: 'a reserved opcode (0x3)', bytes: () => wsFrame(0x3, Buffer.from('x')) },
  { name: 'RSV bits set without an extension', bytes: () => wsFrame(OP_TEXT, Buffer.from('{}'), { rsv: 0b111 }) },
  { name: 'an unmasked client frame', bytes: () => wsFrame(OP_TEXT, Buffer.from('{}'), { masked: false }) },
  {
    name: 'a declared length of 70 MB',
    bytes: () => wsFrame(OP_TEXT, Buffer.from('{}'), { declaredLength: 70 * 1024 * 1024 }),
  },
  { name: 'a fragmented ping', bytes: () => wsFrame(OP_PING, Buffer.from('hi'), { fin: false }) },
  {
    name: 'close code 1',
    bytes: () => {
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1);
      return wsFrame(OP_CLOSE, code);
    },
  },
];

/** Opens an authenticated WebSocket the way a non-browser client may (Authorization header). */
async function openClient(served: ServedCli): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/api`, {
    origin: served.origin,
    headers: { authorization: `Bearer ${served.token}` },
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** Calls `ping` on `ws` and resolves with its final message. */
function ping(ws: WebSocket, id: number, delayMs: number, ticks: number): Promise<EngineMessage> {
  return new Promise((resolve) => {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as EngineMessage;
      if (m.type === 'result' && m.id === id) resolve(m);
    });
    ws.send(JSON.stringify({ type: 'call', id, op: 'ping', args: { delayMs, ticks }, wantsProgress: true }));
  });
}

describe('malformed WebSocket frames', () => {
  let served: ServedCli;

  beforeAll(async () => {
    served = await serveCli();
  });
  afterAll(async () => {
    await served.stop();
  });

  it('close only their own connection; the server answers afterwards and a running job survives', async () => {
    const worker = await openClient(served);
    // A job that runs through all the attacks below.
    const longJob = ping(worker, 1, 4000, 4);

    for (const attack of HOSTILE) {
      const { socket, response } = await rawWebSocket(served.port, {
        Origin: served.origin,
        Authorization: `Bearer ${served.token}`,
      });
      expect(response, attack.name).toMatch(/^HTTP\/1\.1 101/);
      socket.write(attack.bytes());
      expect(await closedWithin(socket, 5000), `${attack.name}: the server closes that connection`).toBe(true);
      // The server is still up: a fresh connection gets a quick answer.
      const probe = await openClient(served);
      expect(await ping(probe, 2, 0, 0), attack.name).toMatchObject({ type: 'result', result: { ok: true } });
      probe.close();
      expect(served.exited(), `${attack.name} crashed serve:\n${served.stderr()}`).toBe(false);
    }

    expect(await longJob).toMatchObject({ type: 'result', id: 1, result: { ok: true, value: { pong: true } } });
    worker.close();
    expect(served.stderr()).not.toMatch(/Unhandled 'error' event/);
  });

  it('refuses frames on a socket that never finished its handshake without crashing', async () => {
    const { socket, response } = await rawWebSocket(served.port, { Origin: served.origin });
    expect(response).toMatch(/^HTTP\/1\.1 401/);
    socket.destroy();
    // A half-open TCP connection that resets mid-request.
    const { socket: reset } = await rawWebSocket(served.port, {
      Origin: served.origin,
      Authorization: `Bearer ${served.token}`,
    });
    reset.resetAndDestroy();
    const probe = await openClient(served);
    expect(await ping(probe, 3, 0, 0)).toMatchObject({ type: 'result', result: { ok: true } });
    probe.close();
    expect(served.exited()).toBe(false);
  });
});
