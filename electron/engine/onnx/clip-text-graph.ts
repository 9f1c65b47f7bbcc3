/**
 * @file Finds the weights of a CLIP text transformer in an exported ONNX graph by its structure (engine process or
 * browser; pure TypeScript, no Node modules).
 *
 * [Note: structural match of the text graph] Exporters rename initializers (`onnx::MatMul_331`), so nothing here
 * relies on names. The token embedding is the `Gather` whose data is a [vocab, width] initializer; the positional
 * embedding is the other [context, width] table added to it. Layer norms are either `LayerNormalization` nodes
 * (opset >= 17) or the decomposed ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add chain (opset 14), recognised from
 * the Div by the Mul(scale) and Add(bias) that consume it. Linear layers are MatMul (or Gemm) nodes with a 2-D
 * initializer, stored [in, out]. In node order a pre-LN CLIP layer reads: LN1, q/k/v (or one fused [W, 3W]), out, LN2,
 * fc1, fc2; then the final LN and the text projection. q, k and v are told apart by data flow: v feeds the MatMul that
 * consumes the softmax, q and k feed the score MatMul as its first and second operand. Whatever matched is verified
 * numerically against ONNX Runtime before use (see text-encoder.ts), so a wrong match is refused, never used.
 */
import type { OnnxModel, OnnxNode, OnnxTensor } from './onnx-proto';
import { tensorToFloat32 } from './onnx-proto';

/** A linear layer: weight [in, out] row-major and bias [out] (zeros when the graph has none). */
export interface LinearWeights {
  w: Float32Array;
  b: Float32Array;
  inDim: number;
  outDim: number;
}

/** A layer norm's scale, bias and epsilon. */
export interface LayerNormWeights {
  gamma: Float32Array;
  beta: Float32Array;
  eps: number;
}

/** One pre-LN transformer layer. */
export interface TextLayerWeights {
  ln1: LayerNormWeights;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  out: LinearWeights;
  ln2: LayerNormWeights;
  fc1: LinearWeights;
  fc2: LinearWeights;
}

/** Everything the tfjs text encoder needs, as plain arrays. */
export interface ClipTextWeights {
  vocabSize: number;
  width: number;
  contextLength: number;
  heads: number;
  projectionDim: number;
  activation: 'quick_gelu' | 'gelu';
  tokenEmbedding: Float32Array;
  positionalEmbedding: Float32Array;
  layers: TextLayerWeights[];
  finalLn: LayerNormWeights;
  projection: LinearWeights;
}

/** Thrown when the graph does not look like a CLIP text encoder; the caller turns it into an AppError. */
export class GraphMatchError extends Error {}

const QUANTIZED_OPS = new Set(['DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'QLinearMatMul']);

class GraphIndex {
  readonly inits = new Map<string, OnnxTensor>();
  readonly consts = new Map<string, OnnxTensor>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly producer = new Map<string, OnnxNode>();
  constructor(
    readonly nodes: OnnxNode[],
    initializers: OnnxTensor[],
  ) {
    for (const t of initializers) if (t.name) this.inits.set(t.name, t);
    for (const n of nodes) {
      for (const o of n.output ?? []) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
      if (n.opType === 'Constant') {
        const t = n.attribute?.find((a) => a.name === 'value')?.t;
        const out = n.output?.[0];
        if (t && out) this.consts.set(out, t);
      }
    }
  }
  init(name: string | undefined): OnnxTensor | undefined {
    return name === undefined ? undefined : this.inits.get(name);
  }
  constScalar(name: string | undefined): number | undefined {
    if (name === undefined) return undefined;
    const t = this.inits.get(name) ?? this.consts.get(name);
    if (!t) return undefined;
    const v = tensorToFloat32(t);
    return v.length >= 1 ? v[0] : undefined;
  }
  uses(name: string | undefined): OnnxNode[] {
    return name === undefined ? [] : (this.consumers.get(name) ?? []);
  }
}

function dimsOf(t: OnnxTensor | undefined): number[] {
  return t?.dims ?? [];
}

type Event =
  { kind: 'ln'; ln: LayerNormWeights; node: OnnxNode } | { kind: 'linear'; lin: LinearWeights; node: OnnxNode };

function linearOf(g: GraphIndex, node: OnnxNode): LinearWeights | null {
  let wT: OnnxTensor | undefined;
  let transposed = false;
  if (node.opType === 'MatMul') {
    wT = g.init(node.input?.[1]);
  } else if (node.opType === 'Gemm') {
    wT = g.init(node.input?.[1]);
    transposed = (node.attribute?.find((a) => a.name === 'transB')?.i ?? 0) === 1;
  }
  const dims = dimsOf(wT);
  if (!wT || dims.length !== 2) return null;
  const [d0 = 0, d1 = 0] = dims;
  const inDim = transposed ? d1 : d0;
  const outDim = transposed ? d0 : d1;
  let w: Float32Array = tensorToFloat32(wT);
  if (transposed) {
    const t = new Float32Array(inDim * outDim);
    for (let o = 0; o < outDim; o++) for (let i = 0; i < inDim; i++) t[i * outDim + o] = w[o * inDim + i] ?? 0;
    w = t;
  }
  let b: Float32Array = new Float32Array(outDim);
  const gemmBias = node.opType === 'Gemm' ? g.init(node.input?.[2]) : undefined;
  if (gemmBias) b = tensorToFloat32(gemmBias);
  else {
    for (const add of g.uses(node.output?.[0])) {
      if (add.opType !== 'Add') continue;
      const biasName = add.input?.find((i) => g.inits.has(i) && dimsOf(g.init(i)).join() === String(outDim));
      if (biasName) b = tensorToFloat32(g.init(biasName) ?? {});
    }
  }
  return { w, b, inDim, outDim };
}

function decomposedLn(g: GraphIndex, div: OnnxNode): LayerNormWeights | null {
  // Div(Sub(x, mean), Sqrt(Add(ReduceMean(Pow(.)), eps))) -> Mul(gamma) -> Add(beta)
  const sub = g.producer.get(div.input?.[0] ?? '');
  const sqrt = g.producer.get(div.input?.[1] ?? '');
  if (sub?.opType !== 'Sub' || sqrt?.opType !== 'Sqrt') return null;
  const mul = g.uses(div.output?.[0]).find((n) => n.opType === 'Mul' && n.input?.some((i) => g.inits.has(i)));
  const gammaName = mul?.input?.find((i) => g.inits.has(i));
  const add = g.uses(mul?.output?.[0]).find((n) => n.opType === 'Add' && n.input?.some((i) => g.inits.has(i)));
  const betaName = add?.input?.find((i) => g.inits.has(i));
  const epsAdd = g.producer.get(sqrt.input?.[0] ?? '');
  const eps = epsAdd?.input?.map((i) => g.constScalar(i)).find((v) => v !== undefined) ?? 1e-5;
  if (!gammaName || !betaName || !add) return null;
  return { gamma: tensorToFloat32(g.init(gammaName) ?? {}), beta: tensorToFloat32(g.init(betaName) ?? {}), eps };
}

/** Follows a value through reshapes/transposes/scalings to the activation MatMul it feeds: [matmul, operand index]. */
function feedsMatMul(g: GraphIndex, value: string | undefined, depth = 0): [OnnxNode, number] | null {
  if (depth > 8) return null;
  for (const n of g.uses(value)) {
    if (n.opType === 'MatMul' && !n.input?.some((i) => g.inits.has(i))) {
      return [n, n.input?.indexOf(value ?? '') ?? -1];
    }
    if (['Reshape', 'Transpose', 'Mul', 'Div', 'Cast', 'Add', 'Unsqueeze', 'Squeeze'].includes(n.opType ?? '')) {
      if (n.opType === 'Add' && depth === 0) continue; // the bias Add is followed through separately
      const hit = feedsMatMul(g, n.output?.[0], depth + 1);
      if (hit) return hit;
    }
  }
  return null;
}

function linearOutput(g: GraphIndex, node: OnnxNode): string | undefined {
  const out = node.output?.[0];
  const add = g.uses(out).find((n) => n.opType === 'Add' && n.input?.some((i) => g.inits.has(i)));
  return add?.output?.[0] ?? out;
}

function splitColumns(lin: LinearWeights, parts: number): LinearWeights[] {
  const outDim = lin.outDim / parts;
  return Array.from({ length: parts }, (_, p) => {
    const w = new Float32Array(lin.inDim * outDim);
    for (let i = 0; i < lin.inDim; i++) {
      w.set(lin.w.subarray(i * lin.outDim + p * outDim, i * lin.outDim + (p + 1) * outDim), i * outDim);
    }
    return { w, b: lin.b.slice(p * outDim, (p + 1) * outDim), inDim: lin.inDim, outDim };
  });
}

function orderQkv(
  g: GraphIndex,
  nodes: OnnxNode[],
  lins: LinearWeights[],
): [LinearWeights, LinearWeights, LinearWeights] {
  const roles = nodes.map((n) => {
    const hit = feedsMatMul(g, linearOutput(g, n));
    if (!hit) return 'unknown';
    const [mm, index] = hit;
    const fromSoftmax = mm.input?.some((i) => {
      let p = g.producer.get(i);
      for (let d = 0; p && d < 4; d++) {
        if (p.opType === 'Softmax') return true;
        p = g.producer.get(p.input?.[0] ?? '');
      }
      return false;
    });
    if (fromSoftmax) return 'v';
    return index === 0 ? 'q' : 'k';
  });
  const pick = (role: (typeof roles)[number], fallback: number): LinearWeights =>
    lins[roles.indexOf(role)] ?? (lins[fallback] as LinearWeights);
  const unique = new Set(roles).size === 3 && !roles.includes('unknown');
  return unique
    ? [pick('q', 0), pick('k', 1), pick('v', 2)]
    : ([lins[0], lins[1], lins[2]] as [LinearWeights, LinearWeights, LinearWeights]);
}

/** The token-embedding lookup table [vocab, width] and the positional table [context, width] of the graph. */
function embeddingTables(graph: NonNullable<OnnxModel['graph']>, g: GraphIndex) {
  const nodes = graph.node ?? [];
  const tokenGather = nodes.find((n) => {
    const d = dimsOf(g.init(n.input?.[0]));
    return n.opType === 'Gather' && d.length === 2 && (d[0] ?? 0) > 1000;
  });
  if (!tokenGather)
    throw new GraphMatchError('No token-embedding lookup (a Gather over a [vocab, width] table) found.');
  const tokenT = g.init(tokenGather.input?.[0]) ?? {};
  const [vocabSize = 0, width = 0] = dimsOf(tokenT);
  const posT = (graph.initializer ?? []).find((t) => {
    const d = dimsOf(t).filter((x, i, all) => !(all.length === 3 && i === 0 && x === 1));
    return (
      t !== tokenT &&
      d.length === 2 &&
      d[1] === width &&
      (d[0] ?? 0) < 4096 &&
      g.uses(t.name).some((n) => n.opType === 'Gather' || n.opType === 'Add' || n.opType === 'Slice')
    );
  });
  if (!posT) throw new GraphMatchError('No positional-embedding table [context, width] found.');
  return { tokenT, posT, vocabSize, width, contextLength: dimsOf(posT).at(-2) ?? 0 };
}

/** The layer norms (fused or decomposed) and linear layers of the graph, in graph order. */
function graphEvents(nodes: readonly OnnxNode[], g: GraphIndex, width: number): Event[] {
  const events: Event[] = [];
  for (const n of nodes) {
    if (n.opType === 'LayerNormalization') {
      const gamma = g.init(n.input?.[1]);
      const beta = g.init(n.input?.[2]);
      if (!gamma) continue;
      const eps = n.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      events.push({
        kind: 'ln',
        node: n,
        ln: { gamma: tensorToFloat32(gamma), beta: beta ? tensorToFloat32(beta) : new Float32Array(width), eps },
      });
    } else if (n.opType === 'Div') {
      const ln = decomposedLn(g, n);
      if (ln) events.push({ kind: 'ln', node: n, ln });
    } else if (n.opType === 'MatMul' || n.opType === 'Gemm') {
      const lin = linearOf(g, n);
      if (lin) events.push({ kind: 'linear', node: n, lin });
    }
  }
  return events;
}

/** One transformer layer from its events: ln1, the attention projections, ln2, the MLP. */
function layerOf(g: GraphIndex, l: number, width: number, ev: { ln1: Event; att: Event[]; ln2: Event; mlp: Event[] }) {
  const { ln1, att, ln2, mlp } = ev;
  if (ln1.kind !== 'ln' || ln2.kind !== 'ln') throw new GraphMatchError('Layer norm expected.');
  const linears = (es: Event[]) =>
    es.map((e) => (e.kind === 'linear' ? e.lin : null)).filter((x): x is LinearWeights => x !== null);
  const attLin = linears(att);
  let q: LinearWeights, k: LinearWeights, v: LinearWeights, out: LinearWeights;
  if (attLin.length === 4) {
    [q, k, v] = orderQkv(
      g,
      att.slice(0, 3).map((e) => e.node),
      attLin.slice(0, 3),
    );
    out = attLin[3] as LinearWeights;
  } else if (attLin.length === 2 && attLin[0]?.outDim === 3 * width) {
    [q, k, v] = splitColumns(attLin[0], 3) as [LinearWeights, LinearWeights, LinearWeights];
    out = attLin[1] as LinearWeights;
  } else throw new GraphMatchError(`Layer ${l}: expected q/k/v/out projections, found ${attLin.length} linear layers.`);
  const [fc1, fc2, ...extra] = linears(mlp);
  if (!fc1 || !fc2 || extra.length > 0) throw new GraphMatchError(`Layer ${l}: expected fc1 and fc2.`);
  return { ln1: ln1.ln, q, k, v, out, ln2: ln2.ln, fc1, fc2 };
}

/** The layers, the final layer norm and the projection, read from the events in order. */
function layersOf(g: GraphIndex, events: readonly Event[], width: number) {
  let i = 0;
  const take = (kind: Event['kind']): Event => {
    const e = events[i++];
    if (!e || e.kind !== kind)
      throw new GraphMatchError(`Unexpected graph structure near event ${i} (expected ${kind}).`);
    return e;
  };
  const linearsUntilLn = (): Event[] => {
    const out: Event[] = [];
    while (events[i]?.kind === 'linear') out.push(events[i++] as Event);
    return out;
  };
  const lnCount = events.filter((e) => e.kind === 'ln').length;
  const nLayers = (lnCount - 1) / 2;
  if (!Number.isInteger(nLayers) || nLayers < 1)
    throw new GraphMatchError(`Found ${lnCount} layer norms; expected 2 per layer + 1.`);
  const layers: TextLayerWeights[] = [];
  for (let l = 0; l < nLayers; l++)
    layers.push(
      layerOf(g, l, width, { ln1: take('ln'), att: linearsUntilLn(), ln2: take('ln'), mlp: linearsUntilLn() }),
    );
  const finalLn = take('ln');
  const proj = events[i];
  if (finalLn.kind !== 'ln' || proj?.kind !== 'linear')
    throw new GraphMatchError('No final layer norm + text projection found.');
  return { layers, finalLn: finalLn.ln, projection: proj.lin };
}

/** Extracts the text transformer's weights from a decoded text_model.onnx; `heads` comes from config.json. */
export function extractClipTextWeights(model: OnnxModel, hints: { heads?: number } = {}): ClipTextWeights {
  const graph = model.graph;
  if (!graph) throw new GraphMatchError('The file has no graph.');
  const nodes = graph.node ?? [];
  const quantized = nodes.find((n) => QUANTIZED_OPS.has(n.opType ?? ''));
  if (quantized) {
    throw new GraphMatchError(
      `This text model is int8-quantized (${quantized.opType ?? ''} nodes), which the trainer cannot differentiate: use the fp32 file for training (onnx/text_model.onnx; fp16 also works).`,
    );
  }
  const g = new GraphIndex(nodes, graph.initializer ?? []);
  const { tokenT, posT, vocabSize, width, contextLength } = embeddingTables(graph, g);
  const { layers, finalLn, projection } = layersOf(g, graphEvents(nodes, g, width), width);
  const heads = hints.heads ?? Math.max(1, Math.round(width / 64));
  if (width % heads !== 0) throw new GraphMatchError(`Width ${width} is not divisible by ${heads} heads.`);
  return {
    vocabSize,
    width,
    contextLength,
    heads,
    projectionDim: projection.outDim,
    activation: nodes.some((n) => n.opType === 'Erf') ? 'gelu' : 'quick_gelu',
    tokenEmbedding: tensorToFloat32(tokenT),
    positionalEmbedding: tensorToFloat32(posT),
    layers,
    finalLn,
    projection,
  };
}
