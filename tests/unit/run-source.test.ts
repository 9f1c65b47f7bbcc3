/**
 * @file Tests of the test-folder class mapping shared by `learn` and `compare` (plain Node).
 */
import { describe, expect, it } from 'vitest';
import { testFilesByClass } from '../../electron/engine/jobs/run-source';

const folder = (classes: Record<string, string[]>) => ({
  root: '/t',
  skipped: [],
  classes: Object.entries(classes).map(([name, files]) => ({ name, prompt: name, files })),
});

describe('testFilesByClass', () => {
  it('orders the test files by the training classes; a class without test images gets none', () => {
    const train = { classes: [{ name: 'cat' }, { name: 'dog' }, { name: 'owl' }] };
    expect(testFilesByClass(train, folder({ dog: ['d1'], cat: ['c1', 'c2'] }))).toEqual([['c1', 'c2'], ['d1'], []]);
  });

  it('refuses a test class the training data lacks, naming it', () => {
    const train = { classes: [{ name: 'cat' }] };
    expect(() => testFilesByClass(train, folder({ cat: ['c1'], fox: ['f1'] }))).toThrow(
      /test folder has classes the training folder lacks: fox/,
    );
  });
});
