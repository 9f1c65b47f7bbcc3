import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportProgress } from '../../../shared/contract';
import { Studio } from '../app/studio';
import { toasts } from '../app/errors.svelte';
import { FakeEngine } from '../testing/fake-engine';
import { FakeProject } from '../testing/fake-project';
import { errorToasts, fakePlatform, resetToasts } from '../testing/harness';

function setup(platform = fakePlatform()) {
  const project = new FakeProject('Pets', [
    { folderName: 'cats', images: 20 },
    { folderName: 'dogs', images: 3 },
  ]);
  const engine = new FakeEngine(project.handlers());
  return { engine, project, platform, studio: new Studio(engine, platform) };
}

describe('DatasetController', () => {
  beforeEach(resetToasts);

  it("loads each class's first images when a project opens, and drops cached gallery pages", async () => {
    const { studio } = setup();
    const before = studio.dataset.imagesVersion;
    await studio.projects.open(1);
    expect(studio.dataset.images[1]).toHaveLength(12);
    expect(studio.dataset.images[2]).toHaveLength(3);
    expect(studio.dataset.imagesVersion).toBe(before + 1);
    expect((await studio.dataset.pageImages(1, 15, 10)).map((i) => i.id)).toEqual([16, 17, 18, 19, 20]);
  });

  it('imports with progress, reports it and reloads the project', async () => {
    const { studio, engine, project } = setup();
    const seen: (ImportProgress | null)[] = [];
    engine.on('projectImportData', async ({ sources }, { progress }) => {
      progress({ scanned: 1, imported: 1, skipped: 0, failed: 0, duplicates: 0, total: 2 });
      seen.push(studio.dataset.importing);
      project.classes.push({ ...project.classes[0]!, id: 3, folderName: 'birds', prompt: 'birds', images: 0 });
      return {
        imported: 2,
        skipped: 0,
        failed: 0,
        duplicates: 0,
        failedFiles: [],
        classesCreated: ['birds'],
        sources,
      } as never;
    });
    await studio.projects.open(1);
    await studio.dataset.importSources(['/photos/birds']);
    expect(seen[0]).toMatchObject({ imported: 1, total: 2 });
    expect(studio.dataset.importing).toBeNull();
    expect(studio.dataset.busy).toBe(false);
    expect(engine.argsOf('projectImportData')).toEqual([{ projectId: 1, sources: ['/photos/birds'] }]);
    expect(toasts.items.map((t) => t.message)).toEqual(['2 images imported into 1 classes.']);
    expect(studio.projects.current?.classList.map((c) => c.prompt)).toEqual(['cats', 'dogs', 'birds']);
  });

  it('chooses a folder with the native dialog on the desktop, and leaves it to the page in web mode', async () => {
    const desktop = setup(
      fakePlatform({ transport: 'electron', desktop: { openFolderDialog: () => ({ paths: ['/photos/pets'] }) } }),
    );
    desktop.engine.on('projectImportData', async () => {
      throw new Error('stop here');
    });
    await desktop.studio.projects.open(1);
    expect(await desktop.studio.dataset.chooseFolder()).toBe(true);
    expect(desktop.platform.calls).toEqual([{ op: 'openFolderDialog', args: { title: 'Choose a dataset folder' } }]);
    expect(desktop.engine.argsOf('projectImportData')).toEqual([{ projectId: 1, sources: ['/photos/pets'] }]);

    const web = setup();
    await web.studio.projects.open(1);
    expect(await web.studio.dataset.chooseFolder()).toBe(false);
    expect(web.engine.argsOf('projectImportData')).toEqual([]);
  });

  it("imports a desktop drop by the files' real paths", async () => {
    const a = new File(['x'], 'a.png');
    const b = new File(['x'], 'b.png');
    const { studio, engine } = setup(fakePlatform({ transport: 'electron', paths: new Map([[a, '/photos/a.png']]) }));
    engine.on('projectImportData', async () => {
      throw new Error('stop here');
    });
    await studio.projects.open(1);
    await studio.dataset.drop({ files: [a, b] } as unknown as DataTransfer);
    expect(engine.argsOf('projectImportData')).toEqual([{ projectId: 1, sources: ['/photos/a.png'] }]);
  });

  it('says so when a drop holds no images', async () => {
    const { studio, engine } = setup();
    await studio.projects.open(1);
    await studio.dataset.uploadAndImport([]);
    expect(errorToasts()).toEqual(['No images were found in what you dropped.']);
    expect(engine.argsOf('projectImportData')).toEqual([]);
  });

  it('edits classes: a rename keeps the page, other edits reload the project', async () => {
    const { studio, engine } = setup();
    await studio.projects.open(1);
    const shows = () => engine.argsOf('projectShow').length;
    const c = studio.projects.current!.classList[0]!;
    await studio.dataset.renameClass(c, ' kittens ');
    expect(studio.projects.current?.classList[0]?.prompt).toBe('kittens');
    expect(shows()).toBe(1);
    await studio.dataset.renameClass(studio.projects.current!.classList[0]!, 'kittens');
    expect(engine.argsOf('projectEditClasses')).toHaveLength(1);

    const img = studio.dataset.images[2]![0]!;
    await studio.dataset.toggleExcluded(img);
    expect(engine.argsOf('projectEditClasses')[1]).toEqual({
      projectId: 1,
      edit: { kind: 'exclude', imageIds: [img.id], excluded: true },
    });
    expect(shows()).toBe(2);
    expect(studio.projects.current?.classList[1]?.excluded).toBe(1);
    expect(studio.dataset.smallClasses(3).map((x) => x.prompt)).toEqual(['dogs']);
    // dogs: 3 images, 1 excluded, so 2 usable.
    expect(studio.dataset.smallClasses(2)).toEqual([]);

    await studio.dataset.undo();
    expect(studio.projects.current?.classList[1]?.excluded).toBe(0);
    expect(toasts.items.at(-1)?.message).toBe('Undid: exclude 1 image(s).');
  });

  it('merges into the class chosen in the list only', async () => {
    const { studio, engine } = setup();
    await studio.projects.open(1);
    const dogs = studio.projects.current!.classList[1]!;
    await studio.dataset.merge(dogs);
    expect(engine.argsOf('projectEditClasses')).toEqual([]);
    studio.dataset.mergeInto[dogs.id] = '1';
    await studio.dataset.merge(dogs);
    expect(engine.argsOf('projectEditClasses')).toEqual([
      { projectId: 1, edit: { kind: 'merge', from: [2], into: 1 } },
    ]);
    await vi.waitFor(() => expect(studio.projects.current?.classList).toHaveLength(1));
  });

  it('shows one class gallery at a time', () => {
    const { studio } = setup();
    studio.dataset.toggleExpanded(1);
    studio.dataset.toggleExpanded(2);
    expect(studio.dataset.expanded).toBe(2);
    studio.dataset.toggleExpanded(2);
    expect(studio.dataset.expanded).toBeNull();
  });
});
