import { beforeEach, describe, expect, it } from 'vitest';
import type { ProjectSummary } from '../../../shared/contract';
import { Studio } from '../app/studio';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { fakePlatform, resetToasts } from '../testing/harness';

/** A fake engine with a list of projects that can be created, renamed and deleted. */
function setup() {
  const projects = new Map<number, FakeProject>();
  const summary = (p: FakeProject): ProjectSummary => {
    const { classList: _c, splits: _s, missing: _m, runs: _r, jobs: _j, ...rest } = p.detail();
    return { ...rest, updatedAt: p.id };
  };
  const engine = new FakeEngine({
    projectList: async () => ({ projects: [...projects.values()].map(summary) }),
    projectRuns: async () => ({ runs: [] }),
    projectShow: async ({ projectId }) => projects.get(projectId)!.detail(),
    projectImages: async () => ({ images: [], total: 0 }),
    projectCreate: async ({ name }) => {
      const p = new FakeProject(name, [], projects.size + 1);
      projects.set(p.id, p);
      return summary(p);
    },
    projectRename: async ({ projectId, name }) => {
      const p = projects.get(projectId)!;
      p.name = name;
      return summary(p);
    },
    projectDelete: async ({ projectId }) => ({ deleted: projects.delete(projectId) }),
  });
  return { engine, studio: new Studio(engine, fakePlatform()) };
}

describe('ProjectsController', () => {
  beforeEach(() => {
    resetToasts();
    localStorage.clear();
  });

  it('creates a project from the form, opens it and remembers it as recently opened', async () => {
    const { studio } = setup();
    const projects = studio.projects;
    projects.draftName = '   ';
    expect(await projects.submitCreate()).toBe(false);
    projects.draftName = ' Birds ';
    expect(await projects.submitCreate()).toBe(true);
    projects.draftName = 'Tulips';
    await projects.submitCreate();
    expect(projects.draftName).toBe('');
    expect(projects.creating).toBe(false);
    expect(projects.current?.name).toBe('Tulips');
    expect(projects.recent.map((p) => p.name)).toEqual(['Tulips', 'Birds']);
    await projects.open(1);
    expect(projects.recentlyOpened.map((p) => p.name)).toEqual(['Birds', 'Tulips']);
    expect(JSON.parse(localStorage.getItem('coop-studio-recent-projects') ?? '[]')).toEqual([1, 2]);
  });

  it('renames through the dialog, closing it only when the rename worked', async () => {
    const { studio, engine } = setup();
    const projects = studio.projects;
    await projects.create('Tulips');
    projects.startRename(projects.list[0]!);
    expect(projects.newName).toBe('Tulips');
    await projects.submitRename();
    expect(projects.toRename).toBeNull();
    expect(engine.argsOf('projectRename')).toEqual([]);
    projects.startRename(projects.list[0]!);
    projects.newName = ' Garden tulips ';
    await projects.submitRename();
    expect(engine.argsOf('projectRename')).toEqual([{ projectId: 1, name: 'Garden tulips' }]);
    expect(projects.current?.name).toBe('Garden tulips');
    expect(projects.toRename).toBeNull();
  });

  it('deletes the project the dialog asked about, and forgets it', async () => {
    const { studio } = setup();
    const projects = studio.projects;
    await projects.create('Birds');
    await projects.create('Tulips');
    projects.toDelete = projects.list.find((p) => p.name === 'Tulips') ?? null;
    await projects.confirmDelete();
    expect(projects.toDelete).toBeNull();
    expect(projects.current).toBeNull();
    expect(projects.list.map((p) => p.name)).toEqual(['Birds']);
    expect(projects.recentlyOpened.map((p) => p.name)).toEqual(['Birds']);
  });
});
