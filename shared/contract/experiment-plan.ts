/**
 * @file The cells of a sweep and the CLI command that reproduces an experiment (pure TypeScript).
 *
 * The plan is shared so the studio can say how many runs a sweep will take before it starts, and the engine runs
 * exactly that plan. The command line is rendered here, next to the schemas, from the CLI's public flag names.
 */
import type { z } from 'zod';
import type { baseToNewArgs, domainShiftArgs, SweepCell, sweepArgs, SweepKind, SweepMethod } from './experiments';
import { EXPERIMENT_METHOD_LABELS } from './experiments';
import { COCOOP_EPOCHS_DEFAULT, KGCOOP_LAMBDA, N_CTX_DEFAULT } from './train';

type SweepArgs = z.output<typeof sweepArgs>;
type BaseToNewArgs = z.output<typeof baseToNewArgs>;
type DomainShiftArgs = z.output<typeof domainShiftArgs>;

/** The group name of the hand-written prompt's reference cell. */
export const ZERO_SHOT_SETTING = 'hand-written prompt';

const percent = (rate: number) => `${Number((rate * 100).toFixed(2))}% noise`;
const layoutName = (csc: boolean, position: string) => `${csc ? 'class-specific' : 'unified'}, ${position}`;

/** What the engine knows that the plan needs: the backbone's models, and how many tokens the init words are. */
export interface PlanInputs {
  /** Backbone sweep: model folders in order. */
  models?: string[];
  /** Initialisation sweep: the token count of `initWords` (random init gets as many vectors). */
  initTokens?: number;
}

/**
 * The cells of a sweep, in table order. Every kind has the hand-written prompt as a reference (per rate for label
 * noise, per model for the backbone sweep, where it differs); CoOp cells carry exactly the options a `learn` run with
 * the same result would take.
 *
 * [Note: init sweep] Random and word initialisation get the same number of context vectors (the token count of the
 * words, 4 for "a photo of a"), as in the paper's comparison, so the sweep varies the starting point only.
 */
export function planSweep(args: SweepArgs, inputs: PlanInputs = {}): SweepCell[] {
  const base = { nCtx: args.nCtx, csc: args.csc, position: args.position, ctxInit: args.ctxInit ?? null };
  const cell = (setting: string, method: SweepMethod, over: Partial<SweepCell> = {}): SweepCell => ({
    key: `${method} ${setting}`,
    setting,
    method,
    model: null,
    learn: base,
    noiseRate: 0,
    ...over,
  });
  const zs = cell(ZERO_SHOT_SETTING, 'zs');
  const kind: SweepKind = args.kind;
  switch (kind) {
    case 'context-length':
      return [
        ...[...new Set(args.contextLengths)].map((m) =>
          cell(`M=${m}`, 'coop', { learn: { ...base, nCtx: m, ctxInit: null } }),
        ),
        zs,
      ];
    case 'init': {
      const m = inputs.initTokens ?? base.nCtx;
      return [
        cell('random init', 'coop', { learn: { ...base, nCtx: m, ctxInit: null } }),
        cell(`"${args.initWords}"`, 'coop', { learn: { ...base, nCtx: m, ctxInit: args.initWords } }),
        zs,
      ];
    }
    case 'layout':
      return [
        ...[false, true].flatMap((csc) =>
          (['end', 'middle', 'front'] as const).map((position) =>
            cell(layoutName(csc, position), 'coop', { learn: { ...base, csc, position } }),
          ),
        ),
        zs,
      ];
    case 'backbone': {
      const models = inputs.models ?? [];
      const names = models.map((m) => m.split(/[\\/]/).filter(Boolean).pop() ?? m);
      return models.flatMap((model, i) => {
        const name = names[i] ?? model;
        const setting = names.indexOf(name) === i ? name : `${name} (${i + 1})`;
        return (['zs', 'coop'] as const).map((method) => ({
          ...cell(setting, method),
          key: `${method} ${model}`,
          model,
        }));
      });
    }
    case 'label-noise':
      return [...new Set(args.noiseRates)]
        .sort((a, b) => a - b)
        .flatMap((rate) =>
          (['zs', 'linear', 'coop'] as const).map((method) => cell(percent(rate), method, { noiseRate: rate })),
        );
  }
}

/** How many training runs a plan is (CoOp cells x seeds; the rest is closed-form or training-free). */
export function plannedRuns(cells: readonly SweepCell[], seeds: number): number {
  return cells.filter((c) => c.method === 'coop').length * seeds;
}

/** The table's series name of a method. */
export function methodSeries(method: keyof typeof EXPERIMENT_METHOD_LABELS): string {
  return EXPERIMENT_METHOD_LABELS[method];
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function common(a: {
  model?: string | undefined;
  data?: string | undefined;
  project?: number | undefined;
  seeds: number[];
  shots: number;
  epochs?: number | undefined;
  augViews: number;
  template: string;
  backend?: string | undefined;
  out?: string | undefined;
}): string[] {
  const parts: string[] = [];
  if (a.data !== undefined) parts.push('--data', quote(a.data));
  if (a.project !== undefined) parts.push('--project', String(a.project));
  if (a.model !== undefined) parts.push('--model', quote(a.model));
  parts.push('--seeds', a.seeds.join(','), '--shots', String(a.shots));
  if (a.epochs !== undefined) parts.push('--epochs', String(a.epochs));
  if (a.augViews !== 0) parts.push('--aug-views', String(a.augViews));
  if (a.template !== 'a photo of a {}.') parts.push('--template', quote(a.template));
  if (a.backend !== undefined) parts.push('--backend', a.backend);
  if (a.out !== undefined) parts.push('--out', quote(a.out));
  return parts;
}

function context(a: { nCtx: number; csc: boolean; position: string; ctxInit?: string | undefined }): string[] {
  const parts: string[] = [];
  if (a.nCtx !== N_CTX_DEFAULT) parts.push('--n-ctx', String(a.nCtx));
  if (a.csc) parts.push('--csc');
  if (a.position !== 'end') parts.push('--position', a.position);
  if (a.ctxInit !== undefined) parts.push('--ctx-init', quote(a.ctxInit));
  return parts;
}

/** `coop-studio sweep ...` for these arguments. */
export function sweepCommand(a: SweepArgs): string {
  const parts = ['coop-studio', 'sweep', '--kind', a.kind, ...common(a), ...context(a)];
  if (a.test !== undefined) parts.push('--test', quote(a.test));
  if (a.kind === 'backbone' && a.models) parts.push('--models', quote(a.models.join(',')));
  if (a.kind === 'context-length') parts.push('--lengths', a.contextLengths.join(','));
  if (a.kind === 'init') parts.push('--init-words', quote(a.initWords));
  if (a.kind === 'label-noise') parts.push('--noise', a.noiseRates.join(','));
  return parts.join(' ');
}

/** `coop-studio base-to-new ...` for these arguments. */
export function baseToNewCommand(a: BaseToNewArgs): string {
  const parts = ['coop-studio', 'base-to-new', ...common(a), '--methods', a.methods.join(',')];
  if (a.nCtx !== N_CTX_DEFAULT) parts.push('--n-ctx', String(a.nCtx));
  if (a.baseClasses) parts.push('--base', quote(a.baseClasses.join(',')));
  if (a.kgLambda !== KGCOOP_LAMBDA) parts.push('--lambda', String(a.kgLambda));
  if (a.cocoopEpochs !== COCOOP_EPOCHS_DEFAULT) parts.push('--cocoop-epochs', String(a.cocoopEpochs));
  return parts.join(' ');
}

/** `coop-studio domain-shift ...` for these arguments. */
export function domainShiftCommand(a: DomainShiftArgs): string {
  const parts = ['coop-studio', 'domain-shift', ...common(a), ...context(a), '--methods', a.methods.join(',')];
  parts.push('--targets', quote(a.targets.join(',')));
  if (a.kgLambda !== KGCOOP_LAMBDA) parts.push('--lambda', String(a.kgLambda));
  if (a.cocoopEpochs !== COCOOP_EPOCHS_DEFAULT) parts.push('--cocoop-epochs', String(a.cocoopEpochs));
  return parts.join(' ');
}
