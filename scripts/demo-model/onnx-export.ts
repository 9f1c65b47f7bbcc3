/**
 * @file Writes the demo CLIP's two ONNX graphs with the ops and layout of a PyTorch export of
 * Hugging Face's CLIPTextModelWithProjection / CLIPVisionModelWithProjection (build script, plain Node).
 *
 * [Note: demo ONNX layout] Mirrors the opset-17 fixture graphs (`../shared/fixtures/models/hf-tiny-op17`):
 * `Gather` token lookup on the [vocab, width] table; positional `Gather` with constant ids + `Add`;
 * `LayerNormalization` (epsilon 1e-5); linear layers as `MatMul` on a weight stored [in, out] followed
 * by `Add(bias, .)`; heads split with `Reshape` + `Transpose` (k transposed to [0,2,3,1]); scores
 * `MatMul` then `Mul` by 1/sqrt(head dim); the causal mask `ConstantOfShape(-FLT_MAX)` -> `Trilu(upper)`
 * -> `Unsqueeze` added before `Softmax`; quick-GELU as `x * Sigmoid(1.702 x)`; EOT pooling as
 * `Cast(int32)` -> `ArgMax` plus `Range * L` -> `Gather` on the flattened hidden states; the ViT's
 * patch `Conv` (no bias), class-token `Expand` + `Concat`, `pre_layrnorm`, class-token `Gather`,
 * `post_layernorm` and projection `MatMul`; the encoder's output is the second graph output `last_hidden_state`
 * (as in Hugging Face's exports; the patch-similarity maps need it). Shape plumbing uses constant Reshape targets with 0
 * ("copy this dim") where PyTorch computes them with Shape/Gather/Concat; the computation is the same.
 */
import {
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  OnnxAttributeType,
  OnnxDataType,
  float32Tensor,
  int64Tensor,
} from '../../electron/engine/onnx/onnx-proto';
import { type DemoClipConfig, LN_EPS } from './clip-tf';

/** Parameter values by name, as `Float32Array`s in the shapes of `paramShapes`. */
export type ParamValues = Map<string, Float32Array>;

type AttrValue = number | number[] | OnnxTensor | { float: number };

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxTensor[] = [];
  private counter = 0;

  constructor(private readonly params: ParamValues) {}

  /** Adds a parameter as an initializer (under its Hugging Face name or `rename`) and returns its name. */
  param(name: string, dims: number[], rename?: string): string {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    const outName = rename ?? name;
    this.inits.push(float32Tensor(outName, dims, v));
    return outName;
  }

  /** A weight stored [in, out] for MatMul, named like PyTorch's anonymous `onnx::MatMul_N`. */
  matmulWeight(name: string, dims: number[]): string {
    return this.param(name, dims, `onnx::MatMul_${1000 + this.counter++}`);
  }

  constInt64(scope: string, values: number[], dims: number[] = [values.length]): string {
    return this.node('Constant', `${scope}/Constant_${this.counter++}`, [], { value: int64Tensor('', dims, values) });
  }

  constFloat(scope: string, value: number): string {
    return this.node('Constant', `${scope}/Constant_${this.counter++}`, [], {
      value: float32Tensor('', [], new Float32Array([value])),
    });
  }

  /** Adds a node named like PyTorch's scopes and returns its (first) output name. */
  node(op: string, name: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    const output = `${name}_output_0`;
    const attribute: OnnxAttribute[] = Object.entries(attrs).map(([key, v]) => {
      if (typeof v === 'number') return { name: key, type: OnnxAttributeType.INT, i: v };
      if (Array.isArray(v)) return { name: key, type: OnnxAttributeType.INTS, ints: v };
      if ('float' in v) return { name: key, type: OnnxAttributeType.FLOAT, f: v.float };
      return { name: key, type: OnnxAttributeType.TENSOR, t: v };
    });
    this.nodes.push({ opType: op, name, input: inputs, output: [output], attribute });
    return output;
  }

  /** Renames the last node's output (graph outputs carry fixed names). */
  nameLastOutput(name: string): string {
    const last = this.nodes.at(-1);
    if (!last) throw new Error('no node');
    last.output = [name];
    return name;
  }

  layerNorm(scope: string, x: string, prefix: string, width: number): string {
    const g = this.param(`${prefix}.weight`, [width]);
    const b = this.param(`${prefix}.bias`, [width]);
    return this.node('LayerNormalization', `${scope}/LayerNormalization`, [x, g, b], {
      axis: -1,
      epsilon: { float: LN_EPS },
    });
  }

  linear(scope: string, x: string, prefix: string, inDim: number, outDim: number): string {
    const w = this.matmulWeight(`${prefix}.weight`, [inDim, outDim]);
    const y = this.node('MatMul', `${scope}/MatMul`, [x, w]);
    const b = this.param(`${prefix}.bias`, [outDim]);
    return this.node('Add', `${scope}/Add`, [b, y]);
  }

  /** One pre-LN transformer block (Hugging Face CLIPEncoderLayer). */
  block(root: string, prefix: string, x: string, width: number, heads: number, mask: string | null): string {
    const s = `/${root}/encoder/layers.${prefix.split('.').at(-1) ?? ''}`;
    const d = width / heads;
    const h = this.layerNorm(`${s}/layer_norm1`, x, `${prefix}.layer_norm1`, width);
    const a = `${s}/self_attn`;
    const split = this.constInt64(a, [0, 0, heads, d]);
    const q = this.linear(`${a}/q_proj`, h, `${prefix}.self_attn.q_proj`, width, width);
    const qh = this.node(
      'Transpose',
      `${a}/Transpose`,
      [this.node('Reshape', `${a}/Reshape`, [q, split], { allowzero: 0 })],
      { perm: [0, 2, 1, 3] },
    );
    const k = this.linear(`${a}/k_proj`, h, `${prefix}.self_attn.k_proj`, width, width);
    const kr = this.node('Reshape', `${a}/Reshape_1`, [k, split], { allowzero: 0 });
    const v = this.linear(`${a}/v_proj`, h, `${prefix}.self_attn.v_proj`, width, width);
    const vh = this.node(
      'Transpose',
      `${a}/Transpose_1`,
      [this.node('Reshape', `${a}/Reshape_2`, [v, split], { allowzero: 0 })],
      { perm: [0, 2, 1, 3] },
    );
    const kh = this.node('Transpose', `${a}/Transpose_2`, [kr], { perm: [0, 2, 3, 1] });
    let scores = this.node('Mul', `${a}/Mul`, [
      this.node('MatMul', `${a}/MatMul`, [qh, kh]),
      this.constFloat(a, d ** -0.5),
    ]);
    if (mask) scores = this.node('Add', `${a}/Add`, [scores, mask]);
    const probs = this.node('Softmax', `${a}/Softmax`, [scores], { axis: -1 });
    const ctx = this.node('Transpose', `${a}/Transpose_3`, [this.node('MatMul', `${a}/MatMul_1`, [probs, vh])], {
      perm: [0, 2, 1, 3],
    });
    const merged = this.node('Reshape', `${a}/Reshape_3`, [ctx, this.constInt64(a, [0, 0, width])], { allowzero: 0 });
    const attnOut = this.linear(`${a}/out_proj`, merged, `${prefix}.self_attn.out_proj`, width, width);
    const r1 = this.node('Add', `${s}/Add`, [x, attnOut]);
    const h2 = this.layerNorm(`${s}/layer_norm2`, r1, `${prefix}.layer_norm2`, width);
    const f = this.linear(`${s}/mlp/fc1`, h2, `${prefix}.mlp.fc1`, width, 4 * width);
    const sig = this.node('Sigmoid', `${s}/mlp/Sigmoid`, [
      this.node('Mul', `${s}/mlp/Mul`, [f, this.constFloat(`${s}/mlp`, 1.702)]),
    ]);
    const gelu = this.node('Mul', `${s}/mlp/Mul_1`, [f, sig]);
    const f2 = this.linear(`${s}/mlp/fc2`, gelu, `${prefix}.mlp.fc2`, 4 * width, width);
    return this.node('Add', `${s}/Add_1`, [r1, f2]);
  }
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function model(name: string, b: GraphBuilder, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'coop-studio demo-model',
    producerVersion: '1',
    graph: { name, node: b.nodes, initializer: b.inits, input: inputs, output: outputs },
  };
}

/** The text graph: `input_ids` int64 [batch, context] -> `text_embeds` float32 [batch, projection]. */
export function buildTextModel(c: DemoClipConfig, params: ParamValues): OnnxModel {
  const b = new GraphBuilder(params);
  const L = c.contextLength;
  const W = c.textWidth;
  const e = '/text_model/embeddings';
  const tok = b.node('Gather', `${e}/token_embedding/Gather`, [
    b.param('text_model.embeddings.token_embedding.weight', [c.vocabSize, W]),
    'input_ids',
  ]);
  const posIds = b.constInt64(
    e,
    Array.from({ length: L }, (_, i) => i),
    [1, L],
  );
  const pos = b.node('Gather', `${e}/position_embedding/Gather`, [
    b.param('text_model.embeddings.position_embedding.weight', [L, W]),
    posIds,
  ]);
  let h = b.node('Add', `${e}/Add`, [tok, pos]);
  const fill = b.node('ConstantOfShape', '/text_model/ConstantOfShape', [b.constInt64('/text_model', [L, L])], {
    value: float32Tensor('', [1], new Float32Array([-3.4028234663852886e38])),
  });
  const upper = b.node('Trilu', '/text_model/Trilu', [fill, b.constInt64('/text_model', [1], [])], { upper: 1 });
  const mask = b.node('Unsqueeze', '/text_model/Unsqueeze', [upper, b.constInt64('/text_model', [0, 1])]);
  for (let i = 0; i < c.textLayers; i++)
    h = b.block('text_model', `text_model.encoder.layers.${i}`, h, W, c.textHeads, mask);
  const last = b.layerNorm('/text_model/final_layer_norm', h, 'text_model.final_layer_norm', W);
  const eot = b.node(
    'ArgMax',
    '/text_model/ArgMax',
    [b.node('Cast', '/text_model/Cast_1', ['input_ids'], { to: OnnxDataType.INT32 })],
    {
      axis: -1,
      keepdims: 0,
      select_last_index: 0,
    },
  );
  const batch = b.node(
    'Gather',
    '/text_model/Gather',
    [b.node('Shape', '/text_model/Shape', [last]), b.constInt64('/text_model', [0], [])],
    { axis: 0 },
  );
  const rows = b.node('Range', '/text_model/Range', [
    b.constInt64('/text_model', [0], []),
    batch,
    b.constInt64('/text_model', [1], []),
  ]);
  const flatIndex = b.node('Add', '/text_model/Add_1', [
    eot,
    b.node('Mul', '/text_model/Mul_1', [rows, b.constInt64('/text_model', [L], [])]),
  ]);
  const flat = b.node('Flatten', '/text_model/Flatten', [last], { axis: 2 });
  const pooled = b.node('Gather', '/text_model/Gather_3', [flat, flatIndex], { axis: 0 });
  b.node('MatMul', '/text_projection/MatMul', [pooled, b.matmulWeight('text_projection.weight', [W, c.projectionDim])]);
  b.nameLastOutput('text_embeds');
  return model(
    'main_graph',
    b,
    [valueInfo('input_ids', OnnxDataType.INT64, ['batch_size', L])],
    [valueInfo('text_embeds', OnnxDataType.FLOAT, ['batch_size', c.projectionDim])],
  );
}

/**
 * The vision graph: `pixel_values` float32 [batch, 3, S, S] -> `image_embeds` float32 [batch, projection] and
 * `last_hidden_state` float32 [batch, 1 + patches, width] (the encoder's output before the post-layernorm).
 */
export function buildVisionModel(c: DemoClipConfig, params: ParamValues): OnnxModel {
  const b = new GraphBuilder(params);
  const W = c.visionWidth;
  const p = c.patchSize;
  const n = (c.imageSize / p) ** 2;
  const e = '/vision_model/embeddings';
  // The [3*p*p, W] training matrix (rows ordered channel, ky, kx) becomes the Conv kernel [W, 3, p, p].
  const pm = params.get('vision_model.embeddings.patch_embedding.weight');
  if (!pm) throw new Error('missing patch embedding');
  const kernel = new Float32Array(pm.length);
  const k = 3 * p * p;
  for (let r = 0; r < k; r++) for (let o = 0; o < W; o++) kernel[o * k + r] = pm[r * W + o] ?? 0;
  b.inits.push(float32Tensor('vision_model.embeddings.patch_embedding.weight', [W, 3, p, p], kernel));
  const conv = b.node(
    'Conv',
    `${e}/patch_embedding/Conv`,
    ['pixel_values', 'vision_model.embeddings.patch_embedding.weight'],
    {
      dilations: [1, 1],
      group: 1,
      kernel_shape: [p, p],
      pads: [0, 0, 0, 0],
      strides: [p, p],
    },
  );
  const patches = b.node(
    'Transpose',
    `${e}/Transpose`,
    [b.node('Reshape', `${e}/Reshape`, [conv, b.constInt64(e, [0, W, -1])], { allowzero: 0 })],
    {
      perm: [0, 2, 1],
    },
  );
  const batch = b.node('Unsqueeze', `${e}/Unsqueeze`, [
    b.node('Gather', `${e}/Gather`, [b.node('Shape', `${e}/Shape`, ['pixel_values']), b.constInt64(e, [0], [])], {
      axis: 0,
    }),
    b.constInt64(e, [0]),
  ]);
  const clsShape = b.node('Concat', `${e}/Concat_1`, [batch, b.constInt64(e, [1, W])], { axis: 0 });
  const cls = b.node('Expand', `${e}/Expand`, [b.param('vision_model.embeddings.class_embedding', [W]), clsShape]);
  const tokens = b.node('Concat', `${e}/Concat_2`, [cls, patches], { axis: 1 });
  const posIds = b.constInt64(
    e,
    Array.from({ length: n + 1 }, (_, i) => i),
    [1, n + 1],
  );
  const pos = b.node('Gather', `${e}/position_embedding/Gather`, [
    b.param('vision_model.embeddings.position_embedding.weight', [n + 1, W]),
    posIds,
  ]);
  let h = b.node('Add', `${e}/Add`, [tokens, pos]);
  h = b.layerNorm('/vision_model/pre_layrnorm', h, 'vision_model.pre_layrnorm', W);
  for (let i = 0; i < c.visionLayers; i++)
    h = b.block('vision_model', `vision_model.encoder.layers.${i}`, h, W, c.visionHeads, null);
  // The encoder's output is also a graph output, as in Hugging Face's exports (see [Note: demo ONNX layout]).
  h = b.nameLastOutput('last_hidden_state');
  const clsOut = b.node('Gather', '/vision_model/Gather', [h, b.constInt64('/vision_model', [0], [])], { axis: 1 });
  const post = b.layerNorm('/vision_model/post_layernorm', clsOut, 'vision_model.post_layernorm', W);
  b.node('MatMul', '/visual_projection/MatMul', [
    post,
    b.matmulWeight('visual_projection.weight', [W, c.projectionDim]),
  ]);
  b.nameLastOutput('image_embeds');
  return model(
    'main_graph',
    b,
    [valueInfo('pixel_values', OnnxDataType.FLOAT, ['batch_size', 3, c.imageSize, c.imageSize])],
    [
      valueInfo('image_embeds', OnnxDataType.FLOAT, ['batch_size', c.projectionDim]),
      valueInfo('last_hidden_state', OnnxDataType.FLOAT, ['batch_size', n + 1, W]),
    ],
  );
}
