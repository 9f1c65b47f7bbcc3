/**
 * @file Contract of `similarityMap`: where the model looks in one image, as a patch-level similarity map for the
 * hand-written and the learned prompt (pure TypeScript).
 */
import { z } from 'zod';
import { job } from './define';
import { templateArg } from './train';
import { TRAIN_BACKENDS } from './train';

/** The largest overlay side `similarityMap` draws (pixels). */
export const MAX_OVERLAY_SIZE = 1024;

/** Arguments of `similarityMap`. */
export const similarityMapArgs = z
  .object({
    /** Model folder or installed model id; the active model when omitted (see [Note: one model resolver]). */
    model: z.string().min(1).optional(),
    /** The image file. */
    image: z.string().min(1),
    /** A learned context file: its map is drawn next to the hand-written prompt's. */
    context: z.string().min(1).optional(),
    /** Class prompt texts (required without a context; with a unified context, classes to apply it to). */
    classes: z.array(z.string().min(1)).min(1).max(1000).optional(),
    template: templateArg,
    /** Draw overlays for these class indices; default: the top 3 classes of the learned (else hand-written) prompt. */
    classIndices: z.array(z.number().int().min(0)).min(1).max(16).optional(),
    /** Side of the overlay PNGs in pixels. */
    size: z.number().int().min(32).max(MAX_OVERLAY_SIZE).default(224),
    /** Folder to write the overlay PNGs and map.json into. */
    out: z.string().min(1).optional(),
    backend: z.enum(TRAIN_BACKENDS).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.context === undefined && v.classes === undefined)
      ctx.addIssue({ code: 'custom', path: ['classes'], message: 'give the class names, or a learned context' });
  });

/**
 * [Note: what the similarity map is] The map is, for every patch of the model's input crop, the cosine between that
 * patch token (the vision encoder's last hidden state, through the same post-layernorm and visual projection as the
 * class token) and a class's text feature. It shows which patches look like the class's prompt in CLIP's joint space.
 * It is not a gradient saliency or an attribution of the prediction: the prediction uses only the class token, which
 * has attended to every patch, and patch tokens of a CLIP never trained for dense alignment are often noisy or
 * highest on the background. Compare the hand-written and learned prompts' maps with each other, not with a segmentation.
 */
export const SIMILARITY_MAP_NOTE =
  'Cosine between each image patch token (last hidden state through the post-layernorm and visual projection) and the class text feature. Not a gradient saliency and not an attribution of the prediction: the prediction uses the class token only. Compare the hand-written and learned prompts side by side.';

/** Which prompt a map belongs to. */
export type MapPrompt = 'hand-written' | 'learned';

/** The maps of one prompt. */
export interface PromptMaps {
  prompt: MapPrompt;
  /** The prompt texts per class (the learned one shows its context as `X X ... name.`). */
  texts: string[];
  /** Softmax probabilities of the image over the classes (logit scale of the model). */
  probabilities: number[];
  /** Per class, the cosine of every patch, row-major `grid.rows x grid.cols`. */
  maps: number[][];
}

/** What `similarityMap` reports. */
export interface SimilarityMapResult {
  model: { id: string; dir: string };
  image: { path: string; width: number; height: number };
  /** The patch grid of the model's input crop. */
  grid: { rows: number; cols: number };
  classNames: string[];
  prompts: PromptMaps[];
  /** Overlays drawn (PNG, base64) for the chosen classes, hand-written and learned side by side. */
  overlays: { prompt: MapPrompt; classIndex: number; className: string; min: number; max: number; png: string }[];
  /** The check of the path: max |class token through post-LN + projection - image_embeds|. */
  check: { clsMaxAbsDiff: number; tolerance: number };
  note: string;
  files: string[];
}

/** Progress of `similarityMap`. */
export type SimilarityMapProgress = { kind: 'phase'; message: string };

/** Similarity-map operations. */
export const similarityMapOps = {
  similarityMap: job<SimilarityMapResult, SimilarityMapProgress>()(
    similarityMapArgs,
    "Where the model looks: the cosine of each image patch with each class's text feature, for the hand-written and the learned prompt (numbers and PNG overlays).",
  ),
};
