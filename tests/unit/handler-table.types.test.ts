/**
 * @file Proves that a contract operation without a handler is a compile error (`tsc` runs over this file).
 */
import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../shared/contract';
import { createHandlers } from '../../electron/engine/handlers';

describe('handler table typing', () => {
  it('fails tsc when an operation lacks a handler', () => {
    const full = createHandlers({ dataDir: '/tmp', log: () => {} });
    const { doctor: _dropped, ...rest } = full;
    // @ts-expect-error -- `doctor` is missing: if this line ever compiles, the contract check is broken.
    const incomplete: Handlers = rest;
    expect(Object.keys(incomplete)).not.toContain('doctor');
  });
});
