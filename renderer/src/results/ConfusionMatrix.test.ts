import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ConfusionMatrix from './ConfusionMatrix.svelte';

const NAMES = ['cats', 'dogs', 'birds'];
const CONFUSION = [
  [5, 1, 0],
  [2, 4, 0],
  [0, 0, 3],
];

/** The matrix with a button before and after it, so Tab into and out of the grid can be seen. */
function setup() {
  const before = document.createElement('button');
  before.textContent = 'Before';
  document.body.append(before);
  const onopen = vi.fn();
  render(ConfusionMatrix, { props: { names: NAMES, confusion: CONFUSION, max: 5, onopen } });
  const after = document.createElement('button');
  after.textContent = 'After';
  document.body.append(after);
  return { before, after, onopen, user: userEvent.setup() };
}

const focused = () => document.activeElement?.getAttribute('aria-label');
const cell = (t: number, p: number) => `${CONFUSION[t]?.[p]} ${NAMES[t]} images predicted as ${NAMES[p]}`;

describe('ConfusionMatrix', () => {
  afterEach(() => document.body.replaceChildren());

  it('is a named grid with one Tab stop: Tab enters on a cell and the next Tab leaves the grid', async () => {
    const { before, after, user } = setup();
    const grid = screen.getByRole('grid', { name: 'Confusion matrix' });
    expect(grid.querySelectorAll('[tabindex="0"]')).toHaveLength(1);
    expect(screen.getAllByRole('gridcell')).toHaveLength(9);
    before.focus();
    await user.tab();
    expect(focused()).toBe(cell(0, 0));
    await user.tab();
    expect(document.activeElement).toBe(after);
  });

  it('moves between cells with the arrow keys, Home/End and Ctrl+Home/End, staying inside the matrix', async () => {
    const { before, user } = setup();
    before.focus();
    await user.tab();
    await user.keyboard('{ArrowRight}');
    expect(focused()).toBe(cell(0, 1));
    await user.keyboard('{ArrowDown}');
    expect(focused()).toBe(cell(1, 1));
    await user.keyboard('{ArrowLeft}{ArrowLeft}{ArrowLeft}');
    expect(focused()).toBe(cell(1, 0));
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(focused()).toBe(cell(0, 0));
    await user.keyboard('{End}');
    expect(focused()).toBe(cell(0, 2));
    await user.keyboard('{Home}');
    expect(focused()).toBe(cell(0, 0));
    await user.keyboard('{Control>}{End}{/Control}');
    expect(focused()).toBe(cell(2, 2));
    await user.keyboard('{PageUp}');
    expect(focused()).toBe(cell(0, 2));
    await user.keyboard('{Control>}{Home}{/Control}');
    expect(focused()).toBe(cell(0, 0));
  });

  it('keeps the last cell used as the Tab stop when focus comes back', async () => {
    const { before, after, user } = setup();
    before.focus();
    await user.tab();
    await user.keyboard('{ArrowDown}{ArrowRight}');
    await user.tab();
    expect(document.activeElement).toBe(after);
    await user.tab({ shift: true });
    expect(focused()).toBe(cell(1, 1));
  });

  it('opens the focused cell with Enter or Space', async () => {
    const { before, onopen, user } = setup();
    before.focus();
    await user.tab();
    await user.keyboard('{ArrowDown}{Enter}');
    expect(onopen).toHaveBeenLastCalledWith({ t: 1, p: 0 });
    await user.keyboard('{ArrowRight} ');
    expect(onopen).toHaveBeenLastCalledWith({ t: 1, p: 1 });
    expect(onopen).toHaveBeenCalledTimes(2);
  });
});
