/**
 * @file CLI commands `version` and `doctor` (Node).
 */
import { unwrap } from '../../../../shared/result';
import type { CommandSpec } from '../command';

/** `coop-studio version`. */
export const versionCommand: CommandSpec = {
  name: 'version',
  summary: 'Print the app version and its runtime versions.',
  async run(ctx) {
    const v = unwrap(await (await ctx.engine()).call('version', {}));
    ctx.print(`${v.name} ${v.version} (node ${v.node}${v.electron ? `, electron ${v.electron}` : ''})`);
    return v;
  },
};

/** `coop-studio doctor`. */
export const doctorCommand: CommandSpec = {
  name: 'doctor',
  summary: 'Diagnose this machine: Node/Electron, tfjs backends, ONNX Runtime providers, SQLite, data folder.',
  async run(ctx) {
    const d = unwrap(await (await ctx.engine()).call('doctor', {}));
    const mark = (ok: boolean) => (ok ? 'yes' : 'no ');
    ctx.print(
      `coop-studio ${d.app.version} on node ${d.node.version} (${d.node.platform}/${d.node.arch}, ${d.node.cpus} cpus, ${d.node.memoryGiB} GiB)`,
    );
    ctx.print(
      `Electron:     ${d.electron.available ? (d.electron.version ?? '') : 'not available'} - ${d.electron.note}`,
    );
    ctx.print(`tfjs ${d.tfjs.version} backends (preferred: ${d.tfjs.preferred}):`);
    for (const b of d.tfjs.backends) ctx.print(`  [${mark(b.available)}] ${b.name.padEnd(11)} ${b.note}`);
    ctx.print(`ONNX Runtime ${d.onnxRuntime.version} execution providers:`);
    for (const p of d.onnxRuntime.providers) ctx.print(`  [${mark(p.available)}] ${p.name.padEnd(11)} ${p.note}`);
    ctx.print(`SQLite:       ${d.sqlite.version}`);
    const free =
      d.dataDirStatus.freeBytes === null ? '' : `, ${(d.dataDirStatus.freeBytes / 2 ** 30).toFixed(1)} GiB free`;
    ctx.print(`Data folder:  ${d.dataDir}`);
    ctx.print(
      d.dataDirStatus.writable
        ? `  [yes] writable (${d.dataDirStatus.note}${free})`
        : `  [no ] not writable${free}: ${d.dataDirStatus.note}`,
    );
    return d;
  },
};
