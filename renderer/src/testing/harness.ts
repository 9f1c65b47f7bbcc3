/**
 * @file The component test harness: mounts a screen or a dialog in happy-dom over a studio whose engine is a
 * `FakeEngine` (renderer tests only).
 *
 * How to write a component test (see dataset/DatasetScreen.test.ts, ui/Dialog.test.ts, learn/LearnScreen.test.ts):
 * 1. Name it `<Component>.test.ts` beside the component; `npm test` runs it (vitest project `renderer`:
 *    `npx vitest run --project renderer`).
 * 2. Give the engine what the screen will call: `new FakeEngine({ modelsList: async () => ... })`, or a
 *    `FakeProject`'s `handlers()` for the project operations. An operation without a handler fails with
 *    `unknown_op`, and arguments are checked by the contract's zod schemas, as in the real engine.
 * 3. `const { studio, user } = await renderWithStudio(Screen, { engine })`: the studio is the one the component
 *    reads through `useStudio()`, so a test can put it in a state first (`await studio.projects.open(1)`) or pass
 *    `setup` to do so before the component mounts.
 * 4. Find controls the way a user or a screen reader does: `screen.getByRole('button', { name: 'Merge' })`,
 *    `screen.getByLabelText('Shots')`; act with `user` (`await user.click(...)`, `user.type`, `user.keyboard`).
 * 5. Assert what the user sees (text, values, focus: `document.activeElement`) and what reached the engine
 *    (`engine.argsOf('projectEditClasses')`). Wait for asynchronous updates with `await vi.waitFor(...)` or
 *    `await screen.findBy...`. Plain components without the studio (a Dialog inside a test host component) mount
 *    with `render` from @testing-library/svelte directly.
 * The DOM is emptied after every test (`svelteTesting()` in vitest.config.ts); toasts are module state: `resetToasts()`.
 */
import { render, type RenderResult } from '@testing-library/svelte';
import userEvent, { type UserEvent } from '@testing-library/user-event';
import type { Component } from 'svelte';
import type { EngineClient } from '../../../shared/client';
import type { PreparedDownload } from '../../../shared/contract/downloads';
import { thumbnailUrl } from '../../../shared/files';
import type { Result } from '../../../shared/result';
import { toasts } from '../app/errors.svelte';
import type { DesktopOp, EngineNotice, Platform, TransportKind } from '../app/platform';
import { Studio, studioContext } from '../app/studio';
import { FakeEngine } from './fake-engine';

/** A platform for tests: web mode by default; desktop operations answered by `desktop` (recorded in `calls`). */
export function fakePlatform(
  options: {
    transport?: TransportKind;
    /** Answers of desktop operations (recorded in `calls`); prepared downloads are recorded in `downloads`. */
    desktop?: Partial<Record<DesktopOp, (args: unknown) => unknown>>;
    paths?: Map<File, string>;
  } = {},
): Platform & {
  calls: { op: DesktopOp; args: unknown }[];
  downloads: PreparedDownload[];
  notify(notice: EngineNotice): void;
} {
  const calls: { op: DesktopOp; args: unknown }[] = [];
  const downloads: PreparedDownload[] = [];
  const notices: ((n: EngineNotice) => void)[] = [];
  const transport = options.transport ?? 'web';
  return {
    transport,
    calls,
    async desktop<T>(op: DesktopOp, args: unknown): Promise<Result<T> | undefined> {
      if (transport !== 'electron') return undefined;
      calls.push({ op, args });
      const handler = options.desktop?.[op];
      if (!handler) return { ok: false, error: { code: 'unknown_op', message: `No fake desktop "${op}".` } };
      return { ok: true, value: handler(args) as T };
    },
    thumbnailSrc: (hash) => thumbnailUrl(hash, transport),
    downloads,
    async saveDownload(d) {
      downloads.push(d);
      if (transport !== 'electron') return { ok: true, value: { saved: null } };
      const r = await this.desktop<{ path: string | null }>('saveDownload', {
        url: d.url,
        title: `Save ${d.fileName}`,
      });
      if (!r) return { ok: true, value: { saved: null } };
      return r.ok ? { ok: true, value: { saved: r.value.path } } : r;
    },
    pathForFile: (file) => options.paths?.get(file) ?? null,
    onMenu: () => {},
    onEngineNotice: (l) => notices.push(l),
    notify: (n) => notices.forEach((l) => l(n)),
  };
}

/** Removes every toast (they are the UI's one module-level funnel). */
export function resetToasts(): void {
  toasts.items = [];
}

/** The messages of the error toasts on screen. */
export function errorToasts(): string[] {
  return toasts.items.filter((t) => t.kind === 'error').map((t) => t.message);
}

/** What {@link renderWithStudio} returns. */
export interface Rendered extends RenderResult<Component> {
  studio: Studio;
  user: UserEvent;
}

/** Mounts `component` with a studio over `engine` (a `FakeEngine` by default) and `platform` (web by default). */
export async function renderWithStudio<Props extends Record<string, unknown>>(
  component: Component<Props>,
  options: {
    engine?: EngineClient;
    platform?: Platform;
    props?: Props;
    /** Runs before the component mounts (open a project, load a run, ...). */
    setup?: (studio: Studio) => Promise<void> | void;
  } = {},
): Promise<Rendered> {
  const studio = new Studio(options.engine ?? new FakeEngine(), options.platform ?? fakePlatform());
  await options.setup?.(studio);
  const user = userEvent.setup();
  const rendered = render(component as Component, {
    props: options.props ?? {},
    context: studioContext(studio),
  });
  return { ...rendered, studio, user };
}
