/**
 * @file Test helper: a local Hugging Face-like file server on 127.0.0.1 (tests, plain Node).
 *
 * Serves folders as repositories in the hub's URL layout `/{owner}/{name}/resolve/{revision}/{path}`.
 * Like the hub, `.onnx` files are "LFS" files: `/resolve/` answers them with a 302 to `/cdn/...`
 * carrying `X-Linked-Size` and `X-Linked-Etag` (the sha256), and the CDN answers with the sha256 as
 * ETag; other files are served directly with a git-blob-like ETag (sha1, 40 hex digits). GET and
 * HEAD, `Range: bytes=a-` / `a-b` with 206 and `If-Range`. Every request is recorded, and faults
 * can be injected per file: drop the connection after N bytes, send slowly, announce a wrong
 * sha256 or size.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  /** `resolve` or `cdn`. */
  kind: string;
  repo: string;
  file: string;
  range: string | null;
  ifRange: string | null;
  status: number;
  /** Body bytes the server wrote. */
  sent: number;
}

/** Faults to inject, keyed by the file's path in the repository. */
export interface Faults {
  /** Drop the connection after this many body bytes, on the next GET of the file only. */
  killAfter: Map<string, number>;
  /** Send the file in chunks of `chunk` bytes every `everyMs`. */
  slow: Map<string, { chunk: number; everyMs: number }>;
  /** Announce a wrong sha256. */
  wrongSha: Set<string>;
  /** Announce this size instead of the real one (in `X-Linked-Size`). */
  wrongSize: Map<string, number>;
  /** Send this many body bytes, then keep the connection open without sending more (next GET only). */
  stallAfter: Map<string, number>;
  /** The CDN refuses HEAD (405), as some signed-URL CDNs do. */
  cdnRefusesHead: { on: boolean };
  /** Ignore `Range` (answer 200 with the whole file), as some servers and proxies do. */
  ignoreRange: Set<string>;
}

/** A running server. */
export interface HfServer {
  endpoint: string;
  requests: SeenRequest[];
  faults: Faults;
  close(): Promise<void>;
}

interface FileInfo {
  data: Buffer;
  sha256: string;
  sha1: string;
}

/** sha256 of a buffer, hex. */
export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Starts a server for `repos` (repository name -> folder) on a random port. */
export async function startHfServer(repos: Record<string, string>): Promise<HfServer> {
  const cache = new Map<string, FileInfo>();
  const requests: SeenRequest[] = [];
  const faults: Faults = {
    killAfter: new Map(),
    slow: new Map(),
    wrongSha: new Set(),
    wrongSize: new Map(),
    ignoreRange: new Set(),
    stallAfter: new Map(),
    cdnRefusesHead: { on: false },
  };

  const fileInfo = (repo: string, file: string): FileInfo | null => {
    const root = repos[repo];
    if (!root || file.includes('..')) return null;
    const full = join(root, file);
    if (!existsSync(full) || !statSync(full).isFile()) return null;
    const key = `${repo}:${file}`;
    let info = cache.get(key);
    if (!info) {
      const data = readFileSync(full);
      info = { data, sha256: sha256Hex(data), sha1: createHash('sha1').update(data).digest('hex') };
      cache.set(key, info);
    }
    return info;
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => {}); // a client that hangs up mid-body is part of the tests
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const seen: SeenRequest = {
      method: req.method ?? 'GET',
      kind: '',
      repo: '',
      file: '',
      range: req.headers.range ?? null,
      ifRange: (req.headers['if-range'] as string | undefined) ?? null,
      status: 0,
      sent: 0,
    };
    requests.push(seen);
    const finish = (status: number, headers: Record<string, string | number> = {}) => {
      seen.status = status;
      res.writeHead(status, headers);
    };
    let kind: string, repo: string, file: string;
    if (parts[0] === 'cdn' && parts.length >= 5) {
      kind = 'cdn';
      repo = `${parts[1]}/${parts[2]}`;
      file = parts.slice(4).join('/');
    } else if (parts[2] === 'resolve' && parts.length >= 5) {
      kind = 'resolve';
      repo = `${parts[0]}/${parts[1]}`;
      file = parts.slice(4).join('/');
    } else {
      finish(404);
      res.end('not found');
      return;
    }
    Object.assign(seen, { kind, repo, file });
    const info = fileInfo(repo, file);
    if (!info) {
      finish(404, { 'x-error-code': 'EntryNotFound' });
      res.end('Entry not found');
      return;
    }
    const sha = faults.wrongSha.has(file) ? sha256Hex(Buffer.from('something else')) : info.sha256;
    const lfs = file.endsWith('.onnx');
    if (kind === 'resolve' && lfs) {
      finish(302, {
        location: `/cdn/${repo}/${parts[3] ?? 'main'}/${file}`,
        'x-linked-size': faults.wrongSize.get(file) ?? info.data.length,
        'x-linked-etag': `"${sha}"`,
        etag: `"${info.sha1}"`,
      });
      res.end();
      return;
    }
    if (kind === 'cdn' && req.method === 'HEAD' && faults.cdnRefusesHead.on) {
      finish(405);
      res.end();
      return;
    }
    const etag = `"${lfs ? sha : info.sha1}"`;
    const size = info.data.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && !faults.ignoreRange.has(file) && (!seen.ifRange || seen.ifRange === etag)) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        finish(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string | number> = {
      etag,
      'accept-ranges': 'bytes',
      'content-length': end - start + 1,
      'content-type': 'application/octet-stream',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    finish(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = info.data.subarray(start, end + 1);
    const kill = faults.killAfter.get(file);
    if (kill !== undefined) {
      faults.killAfter.delete(file);
      const sent = body.subarray(0, kill);
      seen.sent = sent.length;
      res.write(sent, () => res.socket?.destroy());
      return;
    }
    const stall = faults.stallAfter.get(file);
    if (stall !== undefined) {
      faults.stallAfter.delete(file);
      seen.sent = Math.min(stall, body.length);
      res.write(body.subarray(0, stall));
      return;
    }
    const slow = faults.slow.get(file);
    if (slow) {
      let at = 0;
      const tick = () => {
        if (res.destroyed || at >= body.length) {
          res.end();
          return;
        }
        const piece = body.subarray(at, at + slow.chunk);
        at += piece.length;
        seen.sent += piece.length;
        res.write(piece);
        setTimeout(tick, slow.everyMs);
      };
      tick();
      return;
    }
    seen.sent = body.length;
    res.end(body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
