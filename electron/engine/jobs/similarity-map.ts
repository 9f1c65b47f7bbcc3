/**
 * @file `similarityMap`: where the model looks, for one image: the patch-level cosine map of every class for the
 * hand-written prompt and for a learned one, with PNG overlays (engine worker, plain Node).
 *
 * See [Note: what the similarity map is] (shared/contract/experiments.ts) for what the map means and does not mean;
 * the result carries that sentence so every view of the map can show it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { z } from 'zod';
import type { JobContext } from '../../../shared/contract/define';
import {
  SIMILARITY_MAP_NOTE,
  type MapPrompt,
  type PromptMaps,
  type SimilarityMapProgress,
  type SimilarityMapResult,
  type similarityMapArgs,
} from '../../../shared/contract/similarity-map';
import { AppError } from '../../../shared/result';
import type { ClipModel } from '../clip/clip-model';
import { readContextFile } from '../formats/context-file';
import { openModel } from '../models/open-model';
import { normalizeRows, stack, type Matrix } from '../methods/matrix';
import { patchFeatures, type PatchFeatures } from '../methods/patch-features';
import { classMaps } from '../methods/similarity-map';
import { fillTemplate } from '../methods/templates';
import { overlayPng, sideBySidePng } from '../reports/similarity-overlay';
import { contextWeights } from './predict';

type MapArgs = z.output<typeof similarityMapArgs>;

/** The classes and both prompts' weights: the hand-written template's, and the context's when given. */
async function promptWeights(
  args: MapArgs,
  model: ClipModel,
): Promise<{ classNames: string[]; prompts: { prompt: MapPrompt; texts: string[]; weights: Matrix }[] }> {
  let classNames = args.classes ?? [];
  let classTexts = classNames;
  const prompts: { prompt: MapPrompt; texts: string[]; weights: Matrix }[] = [];
  if (args.context) {
    const learned = await contextWeights(args.context, model, args.backend, args.classes);
    const file = await readContextFile(args.context);
    classNames = learned.classNames;
    classTexts = learned.prompts;
    // The learned prompt as the paper writes it: X stands for a learned vector (see [Note: prompt layout]).
    const xs = (n: number) => Array.from({ length: n }, () => 'X').join(' ');
    const m = file.meta.nCtx;
    const half = Math.floor(m / 2);
    const texts = learned.prompts.map((p) =>
      file.meta.position === 'front'
        ? `${p} ${xs(m)}.`
        : file.meta.position === 'middle'
          ? `${xs(half)} ${p} ${xs(m - half)}.`.trim()
          : `${xs(m)} ${p}.`,
    );
    prompts.push({ prompt: 'learned', texts, weights: learned.weights });
  }
  if (classNames.length === 0) throw new AppError('bad_args', 'Give the class names, or a learned context.');
  const texts = classTexts.map((c) => fillTemplate(args.template, c));
  const weights = normalizeRows(stack(await model.embedText(texts)));
  return { classNames, prompts: [{ prompt: 'hand-written', texts, weights }, ...prompts] };
}

/** The classes to draw: the given ones, else the top 3 of the learned prompt (else of the hand-written one). */
function chosenClasses(args: MapArgs, maps: PromptMaps[], classes: number): number[] {
  if (args.classIndices) {
    const bad = args.classIndices.filter((i) => i >= classes);
    if (bad.length > 0)
      throw new AppError('bad_args', `Class index ${bad.join(', ')} is out of range: there are ${classes} classes.`);
    return [...new Set(args.classIndices)];
  }
  const ranked = (maps.find((m) => m.prompt === 'learned') ?? maps[0])?.probabilities ?? [];
  return ranked
    .map((p, i) => ({ p, i }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, 3)
    .map((x) => x.i);
}

/** Overlays of the chosen classes, every prompt of a class on one colour scale. */
async function drawOverlays(
  feats: PatchFeatures,
  maps: PromptMaps[],
  classNames: string[],
  chosen: number[],
  size: number,
): Promise<{ overlays: SimilarityMapResult['overlays']; sheets: { classIndex: number; png: Buffer }[] }> {
  const overlays: SimilarityMapResult['overlays'] = [];
  const sheets: { classIndex: number; png: Buffer }[] = [];
  for (const c of chosen) {
    const all = maps.flatMap((m) => m.maps[c] ?? []);
    const scale = { min: Math.min(...all), max: Math.max(...all) };
    const panels: { caption: string; png: Buffer }[] = [];
    for (const m of maps) {
      const values = m.maps[c] ?? [];
      const png = await overlayPng(feats.crop, { values, ...feats.grid }, scale, size);
      const className = classNames[c] ?? String(c);
      overlays.push({ prompt: m.prompt, classIndex: c, className, ...scale, png: png.toString('base64') });
      panels.push({ caption: `${m.prompt}: ${className} (${((m.probabilities[c] ?? 0) * 100).toFixed(1)}%)`, png });
    }
    sheets.push({
      classIndex: c,
      png: await sideBySidePng(panels, size, scale, 'Patch-to-prompt cosine (not a gradient saliency).'),
    });
  }
  return { overlays, sheets };
}

/** Runs `similarityMap`. */
export async function runSimilarityMap(
  args: MapArgs,
  env: { dataDir: string },
  { progress }: JobContext<SimilarityMapProgress>,
): Promise<SimilarityMapResult> {
  progress({ kind: 'phase', message: 'Reading the model and the prompts' });
  const model = await openModel(env.dataDir, args.model);
  const { classNames, prompts } = await promptWeights(args, model);
  progress({ kind: 'phase', message: 'Reading the patch tokens of the image' });
  const feats = await patchFeatures(model, args.image);
  const maps: PromptMaps[] = prompts.map((p) => ({
    prompt: p.prompt,
    texts: p.texts,
    ...classMaps(feats.patches, feats.imageEmbeds, p.weights, model.info.logitScale),
  }));
  progress({ kind: 'phase', message: 'Drawing the overlays' });
  const chosen = chosenClasses(args, maps, classNames.length);
  const { overlays, sheets } = await drawOverlays(feats, maps, classNames, chosen, args.size);
  const result: SimilarityMapResult = {
    model: { id: model.info.id, dir: model.info.dir },
    image: { path: resolve(args.image), width: feats.crop.width, height: feats.crop.height },
    grid: feats.grid,
    classNames,
    prompts: maps,
    overlays,
    check: feats.check,
    note: SIMILARITY_MAP_NOTE,
    files: [],
  };
  if (args.out) result.files = await writeMapFiles(args.out, args.image, result, sheets);
  return result;
}

/** Writes each overlay, each class's side-by-side sheet and map.json (numbers, no PNG bytes) into `out`. */
async function writeMapFiles(
  out: string,
  image: string,
  r: SimilarityMapResult,
  sheets: { classIndex: number; png: Buffer }[],
): Promise<string[]> {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  const stem = basename(image, extname(image)).replace(/[^\w.-]+/g, '_');
  const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
  const files: string[] = [];
  for (const o of r.overlays) {
    const f = join(dir, `${stem}-${safe(o.className)}-${o.prompt}.png`);
    await writeFile(f, Buffer.from(o.png, 'base64'));
    files.push(f);
  }
  for (const s of sheets) {
    const f = join(dir, `${stem}-${safe(r.classNames[s.classIndex] ?? String(s.classIndex))}.png`);
    await writeFile(f, s.png);
    files.push(f);
  }
  const json = join(dir, `${stem}-map.json`);
  files.push(json);
  await writeFile(json, JSON.stringify({ ...r, overlays: r.overlays.map(({ png: _png, ...o }) => o), files }, null, 2));
  return files;
}
