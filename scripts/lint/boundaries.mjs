// @file The folder boundaries of the code base as one table, and the ESLint rule that enforces them (lint time, Node).
//
// [Note: folder boundaries] Every source folder is a zone; a zone may import itself, `shared/` and the zones listed
// for it below, nothing else. The table is checked to be acyclic when the config loads, so no two folders can ever
// import each other (directly or round a loop). Layers, bottom to top: runtime folders of the engine (settings,
// formats, data, onnx, tf, clip, store; onnx and clip read formats' 16-bit floats) -> models, train (tfjs math) ->
// backends, features, methods, reports -> jobs -> handlers -> the engine's root (dispatcher, worker entry). Hosts (CLI, web server, engine host), the desktop app
// and the compute page sit beside the engine and reach into it only where listed. Test files (`*.test.ts`) may import
// anything; `tests/`, `bench/` and `scripts/` are not zones.
import { dirname, relative, resolve, sep } from 'node:path';

const E = 'electron/engine';
/** zone -> the zones it may import (besides itself and shared/). */
export const ZONES = {
  shared: [],
  renderer: [],
  [`${E}/settings`]: [],
  [`${E}/formats`]: [],
  [`${E}/data`]: [],
  [`${E}/onnx`]: [`${E}/formats`],
  [`${E}/tf`]: [],
  [`${E}/clip`]: [`${E}/formats`],
  [`${E}/store`]: [],
  [`${E}/models`]: [`${E}/clip`, `${E}/settings`],
  [`${E}/train`]: [`${E}/clip`, `${E}/onnx`, `${E}/settings`, `${E}/tf`],
  [`${E}/backends`]: [`${E}/onnx`, `${E}/settings`, `${E}/tf`, `${E}/train`],
  [`${E}/features`]: [`${E}/clip`, `${E}/store`, `${E}/train`],
  [`${E}/methods`]: [`${E}/backends`, `${E}/clip`, `${E}/formats`, `${E}/onnx`, `${E}/tf`, `${E}/train`],
  [`${E}/reports`]: [`${E}/formats`, `${E}/train`],
  [`${E}/jobs`]: [
    `${E}/backends`,
    `${E}/clip`,
    `${E}/data`,
    `${E}/features`,
    `${E}/formats`,
    `${E}/methods`,
    `${E}/models`,
    `${E}/onnx`,
    `${E}/reports`,
    `${E}/settings`,
    `${E}/store`,
    `${E}/tf`,
    `${E}/train`,
  ],
  [`${E}/handlers`]: [
    `${E}/backends`,
    `${E}/clip`,
    `${E}/features`,
    `${E}/formats`,
    `${E}/jobs`,
    `${E}/methods`,
    `${E}/models`,
    `${E}/settings`,
    `${E}/store`,
    `${E}/tf`,
    `${E}/train`,
  ],
  [E]: [`${E}/backends`, `${E}/handlers`, `${E}/settings`],
  'electron/hosts/engine-host': [`${E}/settings`],
  'electron/hosts/server': ['electron/hosts/engine-host'],
  'electron/hosts/cli': [`${E}/reports`, `${E}/settings`, 'electron/hosts/engine-host', 'electron/hosts/server'],
  'electron/desktop': [`${E}/backends`, `${E}/settings`, 'electron/hosts/engine-host'],
  'electron/compute-page': [`${E}/backends`, `${E}/onnx`, `${E}/train`],
};

/** Throws when the table has a cycle (a zone that can reach itself). */
export function assertAcyclic(zones = ZONES) {
  const state = new Map();
  const visit = (z, trail) => {
    if (state.get(z) === 'done') return;
    if (state.get(z) === 'open') throw new Error(`Folder boundaries have a cycle: ${[...trail, z].join(' -> ')}`);
    state.set(z, 'open');
    for (const t of zones[z] ?? []) visit(t, [...trail, z]);
    state.set(z, 'done');
  };
  for (const z of Object.keys(zones)) visit(z, []);
}

/** The zone of a repository-relative path: the longest zone that contains it, or null. */
export function zoneOf(path, zones = ZONES) {
  let best = null;
  for (const z of Object.keys(zones))
    if ((path === z || path.startsWith(`${z}/`)) && (!best || z.length > best.length)) best = z;
  return best;
}

/** The ESLint rule `boundaries/zones` (options: [{ root }], the repository root). */
export const zonesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'A folder imports only the folders its zone allows (see [Note: folder boundaries]).' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: {
      forbidden: '{{from}} may not import {{to}} (folder boundaries: scripts/lint/boundaries.mjs).',
      unzoned: '{{file}} is in no folder of the boundary table (scripts/lint/boundaries.mjs): add its folder there.',
    },
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = relative(root, context.filename).split(sep).join('/');
    if (/\.test\.ts$/.test(file)) return {};
    const from = zoneOf(file);
    const unzoned = file.startsWith('electron/') && (!from || (from === E && dirname(file) !== E));
    if (unzoned) return { Program: (node) => context.report({ node, messageId: 'unzoned', data: { file } }) };
    if (!from) return {};
    const check = (node) => {
      const spec = node?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), spec))
        .split(sep)
        .join('/');
      const to = zoneOf(target);
      if (!to || to === from || to === 'shared' || ZONES[from].includes(to)) return;
      context.report({ node, messageId: 'forbidden', data: { from, to } });
    };
    return {
      ImportDeclaration: (n) => check(n.source),
      ExportNamedDeclaration: (n) => check(n.source),
      ExportAllDeclaration: (n) => check(n.source),
      ImportExpression: (n) => check(n.source),
    };
  },
};

assertAcyclic();

/** The ESLint plugin. */
export const boundariesPlugin = { rules: { zones: zonesRule } };
