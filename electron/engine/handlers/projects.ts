/**
 * @file Handlers of the project operations (engine, plain Node). See [Note: projects].
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { HandlersFor } from '../../../shared/contract';
import type { EmbedProgress, EmbedReport, projectsOps } from '../../../shared/contract/projects';
import type { EngineEnv } from './env';
import { loadEmbedder } from '../features/embedder';
import { embedProject } from '../features/embed-project';
import type { ImageEmbedder } from '../features/features';
import { importData } from '../jobs/import-data';
import { JoinableJobs } from '../jobs/joinable-jobs';
import { checkFiles, relinkFolder } from '../jobs/missing-files';
import { exportProject } from '../jobs/portable';
import { importProjectFile } from '../jobs/project-import';
import { editClasses, nextUndo, undoClassEdit } from '../store/class-edit';
import { storeDb, type Db } from '../store/db';
import { recordModel } from '../store/embeddings-repo';
import { listJobs } from '../store/jobs-repo';
import {
  createProject,
  deleteProject,
  getProject,
  listClasses,
  listImages,
  listProjects,
  projectRow,
  renameProject,
  setProjectCopyDir,
  splitCounts,
} from '../store/projects-repo';
import { getRunDetail, listRuns } from '../store/runs-repo';
import { stmt } from '../store/statements';
import { resolveModel } from '../models/model-store';
import { projectReadiness } from '../jobs/readiness';

/** The `models` row of an encoder: its id (derived from its files by the CLIP runtime), folder and file sizes. */
async function modelRecord(embedder: ImageEmbedder, dir: string): Promise<Parameters<typeof recordModel>[1]> {
  const paths = [embedder.info.textModelPath, embedder.info.visionModelPath].filter((p): p is string => !!p);
  const files = await Promise.all(
    paths.map(async (path) => ({ path, bytes: (await stat(path).catch(() => null))?.size ?? -1 })),
  );
  return { id: embedder.info.id, source: 'folder', dir: embedder.info.dir ?? dir, files };
}

type ProjectsHandlers = HandlersFor<typeof projectsOps>;
/** The store of the data folder, opened on first use (so engines that never touch projects never create the file). */
type OpenDb = () => Db;

/** A project as a whole: create, list, show, rename, delete, and its portable file (export, import). */
function projectRecordHandlers(
  env: EngineEnv,
  db: OpenDb,
): Pick<
  ProjectsHandlers,
  | 'projectCreate'
  | 'projectList'
  | 'projectShow'
  | 'projectDelete'
  | 'projectExport'
  | 'projectImportFile'
  | 'projectRename'
> {
  return {
    async projectCreate({ name, description, copyImages }) {
      const p = createProject(db(), name, description, null);
      if (copyImages) setProjectCopyDir(db(), p.id, join(env.dataDir, 'projects', String(p.id), 'images'));
      return getProject(db(), p.id);
    },
    async projectList() {
      return { projects: listProjects(db()) };
    },
    async projectShow({ projectId, checkFiles: check }) {
      const summary = getProject(db(), projectId);
      if (check) await checkFiles(db(), projectId);
      const missing = (
        stmt(db(), 'SELECT count(*) AS n FROM images WHERE project_id = ? AND missing = 1').get(projectId) as {
          n: number;
        }
      ).n;
      return {
        ...summary,
        classList: listClasses(db(), projectId),
        undo: nextUndo(db(), projectId),
        splits: splitCounts(db(), projectId),
        missing,
        runs: listRuns(db(), projectId),
        jobs: listJobs(db(), projectId),
      };
    },
    async projectDelete({ projectId }) {
      return { deleted: deleteProject(db(), projectId) };
    },
    async projectExport({ projectId, file, includeImages }) {
      return exportProject(db(), projectId, file, includeImages);
    },
    async projectImportFile({ file, name }) {
      return importProjectFile(db(), env.dataDir, file, name);
    },
    async projectRename({ projectId, name }) {
      return renameProject(db(), projectId, name);
    },
  };
}

/** A project's images: list, import, relink missing files, embed, and whether they are ready to learn from. */
function projectImageHandlers(
  env: EngineEnv,
  db: OpenDb,
): Pick<
  ProjectsHandlers,
  'projectImages' | 'projectImportData' | 'projectRelink' | 'projectEmbed' | 'projectReadiness'
> {
  const embedJobs = new JoinableJobs<EmbedReport, EmbedProgress>();
  return {
    async projectImages({ projectId, classId, missingOnly, limit, offset }) {
      projectRow(db(), projectId);
      return listImages(db(), projectId, { classId, missingOnly, limit, offset });
    },
    async projectImportData({ projectId, sources, copy, thumbnails }, { progress, signal }) {
      return importData(db(), { projectId, sources, copy, thumbnails, dataDir: env.dataDir, progress, signal });
    },
    async projectRelink({ projectId, folder }) {
      projectRow(db(), projectId);
      return relinkFolder(db(), projectId, folder);
    },
    async projectEmbed({ projectId, modelDir, views, batchSize }, caller) {
      projectRow(db(), projectId);
      const dir = resolveModel(env.dataDir, modelDir).dir;
      // One embedding job per project, model and views: later callers join it (see [Note: joined jobs]).
      return embedJobs.run(JSON.stringify([projectId, dir, views]), caller, async (signal, progress) => {
        await checkFiles(db(), projectId);
        const embedder = await loadEmbedder(dir);
        recordModel(db(), await modelRecord(embedder, dir));
        return embedProject(db(), { projectId, embedder, views, batchSize, progress, signal });
      });
    },
    async projectReadiness({ projectId, shots, seed }) {
      return projectReadiness(env.dataDir, projectId, shots, seed);
    },
  };
}

/** A project's classes: edit, and undo the last edit. */
function projectClassHandlers(db: OpenDb): Pick<ProjectsHandlers, 'projectEditClasses' | 'projectUndo'> {
  return {
    async projectEditClasses({ projectId, edit }) {
      projectRow(db(), projectId);
      editClasses(db(), projectId, edit);
      return { classes: listClasses(db(), projectId), undo: nextUndo(db(), projectId) };
    },
    async projectUndo({ projectId }) {
      projectRow(db(), projectId);
      const undone = undoClassEdit(db(), projectId);
      return { undone, classes: listClasses(db(), projectId), undo: nextUndo(db(), projectId) };
    },
  };
}

/** A project's runs: the list, and one run's detail. */
function projectRunHandlers(db: OpenDb): Pick<ProjectsHandlers, 'projectRuns' | 'projectRun'> {
  return {
    async projectRuns({ projectId, curves }) {
      projectRow(db(), projectId);
      return { runs: listRuns(db(), projectId, curves) };
    },
    async projectRun({ runId }) {
      return getRunDetail(db(), runId);
    },
  };
}

/** Handlers for {@link projectsOps}. */
export function projectsHandlers(env: EngineEnv): ProjectsHandlers {
  const db: OpenDb = () => storeDb(env.dataDir);
  return {
    ...projectRecordHandlers(env, db),
    ...projectImageHandlers(env, db),
    ...projectClassHandlers(db),
    ...projectRunHandlers(db),
  };
}
