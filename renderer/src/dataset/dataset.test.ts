import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImportProgress, ImportReport } from '../../../shared/contract';
import { AppError } from '../../../shared/result';
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
    expect(toasts.items.map((t) => [t.kind, t.message])).toEqual([['info', '2 images imported into 1 classes.']]);
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
    // Kept in the drop card, not only in a toast that goes.
    expect(studio.dataset.importError).toBe(
      'No images were found in what you dropped: drop image files, folders of them, a .zip or a .csv.',
    );
    expect(errorToasts()).toEqual([]);
    expect(engine.argsOf('projectImportData')).toEqual([]);
  });

  it("keeps a failed import's reason on screen until the next import", async () => {
    const { studio, engine } = setup();
    engine.on('projectImportData', async () => {
      throw new AppError('not_found', 'The folder /photos/pets does not exist.');
    });
    await studio.projects.open(1);
    expect(await studio.dataset.importSources(['/photos/pets'])).toBeUndefined();
    expect(studio.dataset.importError).toBe('The folder /photos/pets does not exist.');
    expect(errorToasts()).toEqual([]);
    engine.on('projectImportData', async () => importReport());
    await studio.dataset.importSources(['/photos/pets']);
    expect(studio.dataset.importError).toBeNull();
  });

  it('shows one class gallery at a time', () => {
    const { studio } = setup();
    studio.dataset.toggleExpanded(1);
    studio.dataset.toggleExpanded(2);
    expect(studio.dataset.expanded).toBe(2);
    studio.dataset.toggleExpanded(2);
    expect(studio.dataset.expanded).toBeNull();
  });

  it('says an import of nothing as a warning, not a success, and keeps its report on screen', async () => {
    const { studio, engine } = setup();
    engine.on('projectImportData', async () => ({
      ...importReport(),
      skipped: 1,
      skippedFiles: [
        { path: '/srv/up/x/notes.txt', name: 'Shapes/notes.txt', problem: 'not_an_image', reason: 'not an image' },
      ],
      warning: { code: 'nothing_imported', why: 'no_images', message: 'No image was found in what you added.' },
    }));
    await studio.projects.open(1);
    const report = await studio.dataset.importSources(['/srv/up/x']);
    expect(report?.warning?.why).toBe('no_images');
    expect(toasts.items.map((t) => [t.kind, t.title])).toEqual([['warning', 'Nothing was imported']]);
    expect(studio.dataset.lastImport?.skippedFiles[0]?.name).toBe('Shapes/notes.txt');
  });

  it('files dropped on a class in web mode are uploaded under its folder, so the import files them there', async () => {
    const { studio, engine } = setup();
    const puts: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      puts.push(url);
      return new Response(JSON.stringify({ ok: true, value: { folder: '/data/uploads/s1', bytes: 1 } }));
    });
    engine.on('projectImportData', async () => importReport());
    try {
      await studio.projects.open(1);
      const dogs = studio.projects.current!.classList[1]!;
      const file = new File(['x'], 'rex.png');
      await studio.dataset.dropOnClass(dogs, { items: [], files: [file] } as unknown as DataTransfer);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatch(/^\/upload\/[0-9a-f]+\/dogs\/rex\.png$/);
    expect(engine.argsOf('projectImportData')).toEqual([{ projectId: 1, sources: ['/data/uploads/s1'] }]);
  });

  it('files dropped on a class on the desktop are imported where they are, then moved into the class', async () => {
    const file = new File(['x'], 'rex.png');
    const { studio, engine, project } = setup(
      fakePlatform({ transport: 'electron', paths: new Map([[file, '/photos/rex.png']]) }),
    );
    engine.on('projectImportData', async () => {
      project.images.push({
        ...project.images[0]!,
        id: 99,
        classId: null,
        origin: '/photos/rex.png',
        path: '/photos/rex.png',
      });
      return importReport();
    });
    await studio.projects.open(1);
    const dogs = studio.projects.current!.classList[1]!;
    await studio.dataset.dropOnClass(dogs, { items: [], files: [file] } as unknown as DataTransfer);
    expect(engine.argsOf('projectImportData')).toEqual([{ projectId: 1, sources: ['/photos/rex.png'] }]);
    expect(engine.argsOf('projectEditClasses')).toEqual([
      { projectId: 1, edit: { kind: 'move', imageIds: [99], toClassId: dogs.id } },
    ]);
    expect(studio.projects.current?.classList[1]?.images).toBe(4);
  });
});

/** An import report with nothing in it (tests override what they need). */
function importReport(): ImportReport {
  return {
    jobId: 1,
    projectId: 1,
    scanned: 1,
    imported: 1,
    skipped: 0,
    failed: 0,
    duplicates: 0,
    total: 1,
    classesCreated: [],
    skippedFiles: [],
    failedFiles: [],
    duplicateFiles: [],
    warning: null,
    durationMs: 1,
  };
}
