/**
 * @file The rules the contract states once (data source, context length, seeds, template, KgCoOp's lambda, CoCoOp's
 * epochs, CoOp's epochs per shots) hold for every operation that uses them.
 */
import { describe, expect, it } from 'vitest';
import { clipOps } from './clip';
import { baseToNewArgs, domainShiftArgs, sweepArgs } from './experiments';
import { compareArgs } from './methods';
import { similarityMapArgs } from './similarity-map';
import {
  COCOOP_EPOCHS_DEFAULT,
  dataSourceProblem,
  DEFAULT_EPOCHS_TEXT,
  defaultEpochs,
  evaluateArgs,
  KGCOOP_LAMBDA,
  learnArgs,
  N_CTX_DEFAULT,
  N_CTX_MAX,
  ZERO_SHOT_TEMPLATE,
} from './train';

const sweep = { kind: 'context-length' } as const;
const shift = { targets: ['/t'] };

describe('contract rules, one place each', () => {
  it('one data source: a folder or a project, and a test folder only with a folder', () => {
    expect(dataSourceProblem({ data: '/d' })).toBeNull();
    expect(dataSourceProblem({ project: 1 })).toBeNull();
    expect(dataSourceProblem({ data: '/d', test: '/t' })).toBeNull();
    expect(dataSourceProblem({})).toBe('no_source');
    expect(dataSourceProblem({ data: '/d', project: 1 })).toBe('two_sources');
    expect(dataSourceProblem({ project: 1, test: '/t' })).toBe('test_with_project');
    const schemas = [
      [learnArgs, {}],
      [compareArgs, {}],
      [evaluateArgs, { context: '/c.safetensors' }],
      [clipOps.zeroShot.args, {}],
      [sweepArgs, sweep],
      [baseToNewArgs, {}],
      [domainShiftArgs, shift],
    ] as const;
    for (const [schema, extra] of schemas) {
      expect(schema.safeParse({ data: '/d', ...extra }).success).toBe(true);
      expect(schema.safeParse({ ...extra }).success).toBe(false);
      expect(schema.safeParse({ data: '/d', project: 1, ...extra }).success).toBe(false);
    }
    for (const [schema, extra] of [
      [learnArgs, {}],
      [compareArgs, {}],
      [sweepArgs, sweep],
    ] as const) {
      const r = schema.safeParse({ project: 1, test: '/t', ...extra });
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['test']);
    }
  });

  it('one context length rule and one template default for learn, compare and the experiments', () => {
    for (const [schema, extra] of [
      [learnArgs, {}],
      [compareArgs, {}],
      [sweepArgs, sweep],
      [baseToNewArgs, {}],
      [domainShiftArgs, shift],
    ] as const) {
      expect(schema.parse({ data: '/d', ...extra }).nCtx).toBe(N_CTX_DEFAULT);
      expect(schema.safeParse({ data: '/d', nCtx: N_CTX_MAX, ...extra }).success).toBe(true);
      expect(schema.safeParse({ data: '/d', nCtx: N_CTX_MAX + 1, ...extra }).success).toBe(false);
      expect(schema.safeParse({ data: '/d', nCtx: 0, ...extra }).success).toBe(false);
      const badSeed = schema === learnArgs ? { seed: 2 ** 31 } : { seeds: [2 ** 31] };
      expect(schema.safeParse({ data: '/d', ...badSeed, ...extra }).success).toBe(false);
    }
    for (const [schema, extra] of [
      [compareArgs, {}],
      [sweepArgs, sweep],
      [baseToNewArgs, {}],
      [domainShiftArgs, shift],
    ] as const)
      expect(schema.parse({ data: '/d', ...extra }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(sweepArgs.safeParse({ data: '/d', ...sweep, contextLengths: [N_CTX_MAX + 1] }).success).toBe(false);
    expect(similarityMapArgs.parse({ image: '/i', classes: ['cat'] }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(compareArgs.parse({ data: '/d' }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(clipOps.zeroShot.args.parse({ data: '/d' }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(compareArgs.safeParse({ data: '/d', template: 'no slot' }).success).toBe(false);
  });

  it("one default for KgCoOp's lambda and CoCoOp's epochs in compare and the generalization experiments", () => {
    for (const [schema, extra] of [
      [compareArgs, {}],
      [baseToNewArgs, {}],
      [domainShiftArgs, shift],
    ] as const) {
      const parsed = schema.parse({ data: '/d', ...extra });
      expect([parsed.kgLambda, parsed.cocoopEpochs]).toEqual([KGCOOP_LAMBDA, COCOOP_EPOCHS_DEFAULT]);
      expect(schema.safeParse({ data: '/d', kgLambda: -1, ...extra }).success).toBe(false);
    }
  });

  it("states CoOp's epochs per shots in help texts as defaultEpochs computes them", () => {
    const rows = DEFAULT_EPOCHS_TEXT.split(', ').map((part) => {
      const m = /^(\d+)(?:-(\d+)|(\+))?(?: shots?)?: (\d+)$/.exec(part);
      if (!m) throw new Error(`cannot read "${part}"`);
      const from = Number(m[1]);
      return { from, to: m[3] ? Infinity : Number(m[2] ?? from), epochs: Number(m[4]) };
    });
    for (let shots = 1; shots <= 64; shots++) {
      const row = rows.find((r) => shots >= r.from && shots <= r.to);
      expect(row?.epochs, `${shots} shots`).toBe(defaultEpochs(shots));
    }
  });
});
