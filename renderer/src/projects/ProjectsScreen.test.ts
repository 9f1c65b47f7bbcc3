import { screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportReport, ProjectSummary } from '../../../shared/contract';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, renderWithStudio, resetToasts } from '../testing/harness';
import ProjectsScreen from './ProjectsScreen.svelte';

const REPORT: ImportReport = {
  jobId: 1,
  projectId: 2,
  scanned: 10,
  imported: 10,
  skipped: 0,
  failed: 0,
  duplicates: 0,
  total: 10,
  classesCreated: ['a', 'b'],
  skippedFiles: [],
  failedFiles: [],
  duplicateFiles: [],
  warning: null,
  durationMs: 100,
};

/** The Projects screen over a fake engine whose projects can be created, renamed and deleted. */
async function setup(names: string[] = []) {
  const projects = new Map<number, FakeProject>();
  const summary = (p: FakeProject): ProjectSummary => {
    const { classList: _c, splits: _s, missing: _m, runs: _r, jobs: _j, ...rest } = p.detail();
    return { ...rest, updatedAt: p.id };
  };
  const add = (name: string) => {
    const p = new FakeProject(name, [], projects.size + 1);
    projects.set(p.id, p);
    return p;
  };
  for (const n of names) add(n);
  const engine = new FakeEngine({
    projectList: async () => ({ projects: [...projects.values()].map(summary) }),
    projectRuns: async () => ({ runs: [] }),
    projectShow: async ({ projectId }) => projects.get(projectId)!.detail(),
    projectImages: async () => ({ images: [], total: 0 }),
    projectCreate: async ({ name }) => summary(add(name)),
    projectRename: async ({ projectId, name }) => {
      const p = projects.get(projectId)!;
      p.name = name;
      return summary(p);
    },
    projectDelete: async ({ projectId }) => ({ deleted: projects.delete(projectId) }),
    sampleList: async () => ({ samples: [{ name: 'patterns', classes: ['a', 'b'], images: 10 }] }),
    sampleImport: async () => REPORT,
  });
  const rendered = await renderWithStudio(ProjectsScreen, {
    engine,
    setup: async (s) => {
      await s.projects.load();
      await s.projects.loadSamples();
    },
  });
  return { ...rendered, engine };
}

describe('the Projects screen', () => {
  beforeEach(() => {
    resetToasts();
    localStorage.clear();
  });

  it('starts with New project and the samples, and keeps the diagnostics off it', async () => {
    await setup();
    const headings = screen.getAllByRole('heading').map((h) => h.textContent);
    expect(headings.slice(0, 3)).toEqual(['Projects', 'New project', 'Try it with a sample dataset']);
    expect(screen.queryByRole('heading', { name: /machine/ })).toBeNull();
    expect(screen.queryByText(/ONNX Runtime/)).toBeNull();
  });

  it('refuses a name another project has, in words next to the field, and sends nothing', async () => {
    const { engine, user } = await setup(['Birds']);
    const field = screen.getByLabelText('Project name');
    await user.type(field, '  birds {Enter}');
    const message = await screen.findByText('A project called "Birds" already exists: choose another name.');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(field.getAttribute('aria-describedby')).toBe(message.id);
    expect(document.activeElement).toBe(field);
    expect(engine.argsOf('projectCreate')).toEqual([]);
    expect(errorToasts()).toEqual([]);
    // Typing clears it; a free name is created.
    await user.clear(field);
    expect(screen.queryByText(/already exists/)).toBeNull();
    await user.type(field, 'Tulips{Enter}');
    await vi.waitFor(() => expect(engine.argsOf('projectCreate')).toEqual([{ name: 'Tulips' }]));
  });

  it('says an empty name is empty instead of doing nothing', async () => {
    const { engine, user } = await setup();
    await user.click(screen.getByRole('button', { name: 'Create project' }));
    expect(await screen.findByText('The project name cannot be empty.')).toBeTruthy();
    expect(engine.argsOf('projectCreate')).toEqual([]);
  });

  it('refuses a rename to a name another project has, inside the dialog', async () => {
    const { engine, user } = await setup(['Birds', 'Tulips']);
    await user.click(screen.getByRole('button', { name: 'Rename Tulips' }));
    const dialog = screen.getByRole('dialog', { name: 'Rename project' });
    const field = within(dialog).getByLabelText('New project name');
    await user.clear(field);
    await user.type(field, 'BIRDS{Enter}');
    expect(await within(dialog).findByText(/A project called "Birds" already exists/)).toBeTruthy();
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(engine.argsOf('projectRename')).toEqual([]);
  });

  it('asks before deleting with focus on Cancel: Enter keeps the project, focus goes back to Delete', async () => {
    const { engine, user } = await setup(['Birds']);
    const del = screen.getByRole('button', { name: 'Delete Birds' });
    await user.click(del);
    const dialog = screen.getByRole('dialog', { name: 'Delete project?' });
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    await user.keyboard('{Enter}');
    await vi.waitFor(() => expect((dialog as HTMLDialogElement).open).toBe(false));
    expect(engine.argsOf('projectDelete')).toEqual([]);
    expect(document.activeElement).toBe(del);
    // Deleting needs the destructive button, on purpose.
    await user.click(del);
    await user.click(within(dialog).getByRole('button', { name: 'Delete project' }));
    await vi.waitFor(() => expect(engine.argsOf('projectDelete')).toEqual([{ projectId: 1 }]));
  });

  it('turns a sample into a new project and imports it by name', async () => {
    const { engine, studio, user } = await setup(['patterns sample']);
    const use = screen.getByRole('button', { name: 'Use the patterns sample' });
    expect(use.getAttribute('aria-describedby')).toBeTruthy();
    await user.click(use);
    await vi.waitFor(() => expect(engine.argsOf('sampleImport')).toEqual([{ projectId: 2, sample: 'patterns' }]));
    expect(engine.argsOf('projectCreate')).toEqual([{ name: 'patterns sample 2' }]);
    expect(studio.nav.current).toBe('dataset');
  });
});
