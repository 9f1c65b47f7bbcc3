/**
 * @file Exports a learned classifier as one ONNX file: pixel_values -> logits, probs (engine, plain Node).
 *
 * [Note: ONNX classifier export] The model's own vision graph is kept as it is and extended with
 * LpNormalization of `image_embeds`, a MatMul with the class text features baked in as a [D, C]
 * matrix (already L2-normalised), a Mul by the logit scale and a Softmax. Class names, prompt texts
 * and provenance go into the model's metadata_props, and the model's preprocessor_config.json is
 * written beside it, so any ONNX Runtime user can classify images without the app. The export is
 * verified by loading it in ONNX Runtime and comparing its top-1 with the app's own predictions.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../../../shared/result';
import { decodeModel, encodeModel, float32Tensor, type OnnxModel, type OnnxNode } from './onnx-proto';

/** What the exported graph needs. */
export interface OnnxClassifierSpec {
  /** The model's vision graph (`onnx/vision_model.onnx`). */
  visionModelPath: string;
  /** The model's preprocessor_config.json, copied beside the export. */
  preprocessorConfigPath?: string;
  classNames: string[];
  /** One feature vector per class (normalised or not: normalised here). */
  classFeatures: Float32Array[];
  logitScale: number;
  /** Extra string metadata (method, model id, app version, ...). */
  metadata?: Record<string, string>;
}

const OUT_LOGITS = 'logits';
const OUT_PROBS = 'probs';

/** Builds the classifier ONNX model in memory. */
export function buildOnnxClassifier(spec: OnnxClassifierSpec): OnnxModel {
  const model = decodeModel(readFileSync(spec.visionModelPath));
  const graph = model.graph;
  if (!graph?.output?.length) throw new AppError('invalid_model', `${spec.visionModelPath} has no graph outputs.`);
  const embeds = graph.output.find((o) => o.name === 'image_embeds') ?? graph.output[0];
  const embedName = embeds?.name;
  if (!embedName) throw new AppError('invalid_model', `${spec.visionModelPath} has no image_embeds output.`);
  const c = spec.classFeatures.length;
  if (c === 0 || c !== spec.classNames.length) {
    throw new AppError(
      'bad_args',
      `Need one feature vector per class (${spec.classNames.length} names, ${c} vectors).`,
    );
  }
  const d = spec.classFeatures[0]!.length;
  // [D, C] matrix of normalised class features: logits = scale * normalise(image) · Wᵀ.
  const w = new Float32Array(d * c);
  spec.classFeatures.forEach((f, k) => {
    if (f.length !== d) throw new AppError('bad_args', `Class feature ${k} has ${f.length} values, expected ${d}.`);
    const norm = Math.hypot(...f) || 1;
    for (let i = 0; i < d; i++) w[i * c + k] = f[i]! / norm;
  });
  const p = 'coop_classifier/';
  graph.initializer = [
    ...(graph.initializer ?? []),
    float32Tensor(`${p}class_weights`, [d, c], w),
    float32Tensor(`${p}logit_scale`, [], Float32Array.of(spec.logitScale)),
  ];
  const nodes: OnnxNode[] = [
    {
      opType: 'LpNormalization',
      name: `${p}normalize`,
      input: [embedName],
      output: [`${p}normalized`],
      attribute: [
        { name: 'axis', type: 2, i: -1 },
        { name: 'p', type: 2, i: 2 },
      ],
    },
    { opType: 'MatMul', name: `${p}cosine`, input: [`${p}normalized`, `${p}class_weights`], output: [`${p}cosine`] },
    { opType: 'Mul', name: `${p}scale`, input: [`${p}cosine`, `${p}logit_scale`], output: [OUT_LOGITS] },
    {
      opType: 'Softmax',
      name: `${p}softmax`,
      input: [OUT_LOGITS],
      output: [OUT_PROBS],
      attribute: [{ name: 'axis', type: 2, i: -1 }],
    },
  ];
  graph.node = [...(graph.node ?? []), ...nodes];
  const batch = embeds?.type?.tensorType?.shape?.dim?.[0] ?? { dimParam: 'batch_size' };
  const out = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [batch, { dimValue: c }] } } },
  });
  graph.output = [out(OUT_LOGITS), out(OUT_PROBS)];
  graph.name = 'coop_studio_classifier';
  model.producerName = 'CoOp Studio';
  model.metadataProps = [
    ...Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    { key: 'class_names', value: JSON.stringify(spec.classNames) },
    { key: 'logit_scale', value: String(spec.logitScale) },
    { key: 'inputs', value: 'pixel_values: float32 [batch, 3, H, W], preprocessed as preprocessor_config.json says' },
    { key: 'outputs', value: 'logits: [batch, classes] = logit_scale * cos; probs: softmax(logits)' },
  ];
  return model;
}

/**
 * Writes the classifier and its preprocessor_config.json; returns the written paths. `onFile` hears each path just
 * before it is written, so a caller can remove whatever was written when a later step fails.
 */
export function writeOnnxClassifier(
  spec: OnnxClassifierSpec,
  outPath: string,
  onFile?: (path: string) => void,
): { model: string; preprocessor: string | null } {
  const bytes = encodeModel(buildOnnxClassifier(spec));
  onFile?.(outPath);
  writeFileSync(outPath, bytes);
  const pre = spec.preprocessorConfigPath ?? join(dirname(dirname(spec.visionModelPath)), 'preprocessor_config.json');
  let preprocessor: string | null = null;
  if (existsSync(pre)) {
    preprocessor = join(dirname(outPath), 'preprocessor_config.json');
    onFile?.(preprocessor);
    copyFileSync(pre, preprocessor);
  }
  return { model: outPath, preprocessor };
}

/** Runs the exported classifier in ONNX Runtime and returns the top-1 class of each image. */
export async function classifierTop1(
  modelPath: string,
  pixels: Float32Array,
  dims: [number, number, number, number],
): Promise<number[]> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, dims) });
    const probs = out[OUT_PROBS];
    if (!probs) throw new AppError('invalid_model', 'The exported classifier has no probs output.');
    const data = probs.data as Float32Array;
    const c = data.length / dims[0];
    return Array.from({ length: dims[0] }, (_, i) => {
      let best = 0;
      for (let k = 1; k < c; k++) if (data[i * c + k]! > data[i * c + best]!) best = k;
      return best;
    });
  } finally {
    await session.release();
  }
}
