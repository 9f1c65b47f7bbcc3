/**
 * @file Security-test helpers for the process half of issue 15: a real `coop-studio serve` on a fresh data folder,
 * raw WebSocket frames written over plain TCP, and the CLI run as a child process (Node test runner).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appRoot } from '../../electron/engine/settings/paths';

/** The CLI entry every test spawns (built by the vitest global setup). */
export const CLI = join(appRoot(), 'bin', 'coop-studio.js');

/** A running `coop-studio serve`. */
export interface ServedCli {
  url: string;
  origin: string;
  port: number;
  token: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** True once the process has exited (a crash). */
  exited(): boolean;
  stop(): Promise<void>;
}

/** Starts `coop-studio serve --port 0 --json` on a fresh data folder and resolves with its printed URL. */
export async function serveCli(extraEnv: Record<string, string> = {}): Promise<ServedCli> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coop-sec-serve-'));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json'], {
    env: { ...process.env, COOP_STUDIO_DATA_DIR: dataDir, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let exited = false;
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', () => (exited = true));
  const info = await new Promise<{ url: string; origin: string; port: number }>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as { url: string; origin: string; port: number });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${String(code)}: ${stderr}`)));
  });
  return {
    ...info,
    token: new URL(info.url).searchParams.get('token') ?? '',
    dataDir,
    child,
    stderr: () => stderr,
    exited: () => exited,
    stop: async () => {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One WebSocket frame as a client would write it (RFC 6455 section 5.2), with every bit under the caller's control. */
export function wsFrame(
  opcode: number,
  payload: Buffer,
  opts: { fin?: boolean; rsv?: number; masked?: boolean; declaredLength?: number } = {},
): Buffer {
  const fin = opts.fin ?? true;
  const masked = opts.masked ?? true;
  const len = opts.declaredLength ?? payload.length;
  const head = [(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(maskBit | len);
  else if (len < 65536) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (key[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/** Opens a raw TCP connection, performs the WebSocket handshake on `/api`, and resolves with the open socket. */
export async function rawWebSocket(
  port: number,
  headers: Record<string, string>,
  path = '/api',
): Promise<{ socket: Socket; response: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const response = await new Promise<string>((resolve) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve(got));
  });
  return { socket, response };
}

/** Resolves when the peer closes the socket (or after `ms`, with false). */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
