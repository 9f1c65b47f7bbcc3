/**
 * @file The rules the contract states once (data source, context length, seeds, template) hold for every operation
 * that uses them.
 */
import { describe, expect, it } from 'vitest';
import { clipOps } from './clip';
import { compareArgs } from './methods';
import { dataSourceProblem, evaluateArgs, learnArgs, N_CTX_DEFAULT, N_CTX_MAX, ZERO_SHOT_TEMPLATE } from './train';

describe('contract rules, one place each', () => {
  it('one data source: a folder or a project, and a test folder only with a folder', () => {
    expect(dataSourceProblem({ data: '/d' })).toBeNull();
    expect(dataSourceProblem({ project: 1 })).toBeNull();
    expect(dataSourceProblem({ data: '/d', test: '/t' })).toBeNull();
    expect(dataSourceProblem({})).toBe('no_source');
    expect(dataSourceProblem({ data: '/d', project: 1 })).toBe('two_sources');
    expect(dataSourceProblem({ project: 1, test: '/t' })).toBe('test_with_project');
    const schemas = [learnArgs, compareArgs, evaluateArgs, clipOps.zeroShot.args];
    for (const schema of schemas) {
      const extra = schema === schemas[2] ? { context: '/c.safetensors' } : {};
      expect(schema.safeParse({ data: '/d', ...extra }).success).toBe(true);
      expect(schema.safeParse({ ...extra }).success).toBe(false);
      expect(schema.safeParse({ data: '/d', project: 1, ...extra }).success).toBe(false);
    }
    for (const schema of [learnArgs, compareArgs]) {
      const r = schema.safeParse({ project: 1, test: '/t' });
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['test']);
    }
  });

  it('one context length rule and one template default for learn and compare', () => {
    for (const schema of [learnArgs, compareArgs]) {
      expect(schema.parse({ data: '/d' }).nCtx).toBe(N_CTX_DEFAULT);
      expect(schema.safeParse({ data: '/d', nCtx: N_CTX_MAX }).success).toBe(true);
      expect(schema.safeParse({ data: '/d', nCtx: N_CTX_MAX + 1 }).success).toBe(false);
      expect(schema.safeParse({ data: '/d', nCtx: 0 }).success).toBe(false);
    }
    expect(compareArgs.parse({ data: '/d' }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(clipOps.zeroShot.args.parse({ data: '/d' }).template).toBe(ZERO_SHOT_TEMPLATE);
    expect(compareArgs.safeParse({ data: '/d', template: 'no slot' }).success).toBe(false);
  });
});
