/**
 * @file Real file-system faults for the security tests: run the CLI with its data folder on a read-only mount or on
 * a tiny tmpfs, inside a private mount namespace (`unshare -rm`), so nothing outside the child sees them (Node test
 * runner).
 *
 * [Note: fault sandboxes] A read-only folder cannot be made with permission bits when the tests run as root (root
 * writes anyway), and a full disk cannot be made without a small file system. A user + mount namespace gives both
 * without privileges on the host: the child mounts a read-only bind or a tmpfs over the data folder and only it sees
 * the mount. Where namespaces are not allowed, a non-root user still gets a read-only folder from `chmod`; tests that
 * need what neither gives say so and are skipped with that reason printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { CLI } from './procs-serve';

function canUnshare(): boolean {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || exit 3'], {
    stdio: 'ignore',
  });
  return r.status === 0;
}

/** True where the tests may make private mounts (see [Note: fault sandboxes]). */
export const UNSHARE = canUnshare();
/** True where permission bits stop this user from writing. */
export const NOT_ROOT = process.getuid?.() !== 0;

/** Runs a shell command line in a private mount namespace (`$1..` are `args`). */
function inNamespace(script: string, args: string[], env: NodeJS.ProcessEnv): { stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === 97) throw new Error(`could not make the mount: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** One `--json` CLI call's object, or a clear failure naming what was printed instead. */
function parse(out: { stdout: string; stderr: string }): Record<string, unknown> {
  const line = out.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`not one JSON object on stdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
  }
}

/** Runs `coop-studio <args> --json` with `dataDir` read-only (bind mount, or chmod for a non-root user). */
export function cliOnReadOnly(dataDir: string, ...args: string[]): Record<string, unknown> {
  const env = { ...process.env, COOP_STUDIO_DATA_DIR: dataDir };
  if (UNSHARE) {
    return parse(
      inNamespace(
        'd="$1"; shift; mount --bind -o ro "$d" "$d" || exit 97; exec "$@"',
        [dataDir, process.execPath, CLI, ...args, '--json'],
        env,
      ),
    );
  }
  execFileSync('chmod', ['-R', 'a-w', dataDir]);
  try {
    const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { env, encoding: 'utf8' });
    return parse({ stdout: r.stdout, stderr: r.stderr });
  } finally {
    execFileSync('chmod', ['-R', 'u+w', dataDir]);
  }
}

/**
 * Runs a shell script with `dataDir` on a fresh tmpfs of `sizeKiB` (the folder's current files are copied onto it
 * first); the script sees the CLI as `$CLI` and the folder as `$DATA`. Needs {@link UNSHARE}.
 */
export function onTinyDisk(dataDir: string, sizeKiB: number, script: string): { stdout: string; stderr: string } {
  const env = { ...process.env, COOP_STUDIO_DATA_DIR: dataDir, DATA: dataDir, CLI: `${process.execPath} ${CLI}` };
  return inNamespace(
    `keep=$(mktemp -d) && cp -a "$DATA/." "$keep/" && mount -t tmpfs -o size=${sizeKiB}k tmpfs "$DATA" || exit 97
     cp -a "$keep/." "$DATA/" 2>/dev/null; rm -rf "$keep"
     ${script}`,
    [],
    env,
  );
}

/** Parses the `--json` objects a script printed, one per line (lines that are not JSON are ignored). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
