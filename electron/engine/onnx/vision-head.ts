/**
 * @file Reads the head of a CLIP vision graph (class-token selection -> post-layernorm -> visual projection) by its
 * structure and writes it as a graph of its own, so any token of the last hidden state can be projected the way the
 * class token is (engine; pure TypeScript over the ONNX codec).
 *
 * [Note: vision head sub-graph] Hugging Face's exports output `last_hidden_state` (the encoder's output, before the
 * post-layernorm) beside `image_embeds`. The head is found by structure, as the text side is in clip-text-graph.ts,
 * never by weight names: the one node that consumes the hidden state on the way to `image_embeds` is the class-token
 * selection (a `Gather` on the token axis with a constant index); every node after it on that way, plus the constant
 * sub-graphs those nodes read (weights, `DequantizeLinear` of int8 weights, epsilon constants), is the head. The head
 * is copied as it is (a `LayerNormalization`, or the decomposed form of opsets below 17; fp16 graphs with their casts;
 * quantized `MatMulInteger` chains), with one input `tokens` float32 [n, width] in place of the selection's output,
 * so ONNX Runtime computes exactly what the full graph computes for the class token. The caller checks that: the
 * class token through the head must reproduce `image_embeds`.
 */
import { GraphMatchError } from './clip-text-graph';
import {
  OnnxAttributeType,
  OnnxDataType,
  tensorToFloat32,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto';

/** The head graph and where the class token sits. */
export interface VisionHead {
  /** `tokens` float32 [n, width] -> `image_embeds` [n, projection]. */
  model: OnnxModel;
  /** Index of the class token on the hidden state's token axis. */
  clsIndex: number;
  /** The graph output holding the encoder's hidden states. */
  hiddenOutput: string;
}

/** The head's input name. */
export const HEAD_INPUT = 'tokens';
const PASS_THROUGH = new Set(['Cast', 'Identity']);

function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.type === OnnxAttributeType.INT && a.i !== undefined ? Number(a.i) : fallback;
}

/** The single integer value of a constant tensor (initializer or `Constant` node output), or null. */
function constantIndex(name: string, inits: Map<string, OnnxTensor>, producers: Map<string, OnnxNode>): number | null {
  const t = inits.get(name) ?? producers.get(name)?.attribute?.find((a) => a.name === 'value')?.t;
  if (!t) return null;
  const n = (t.dims ?? []).reduce((a, b) => a * Number(b), 1);
  if (n !== 1) return null;
  if (t.dataType === OnnxDataType.INT64 || t.dataType === OnnxDataType.INT32) {
    const v = t.int64Data?.[0] ?? t.int32Data?.[0];
    if (v !== undefined) return Number(v);
    const raw = t.rawData;
    if (!raw) return null;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return t.dataType === OnnxDataType.INT64 ? Number(view.getBigInt64(0, true)) : view.getInt32(0, true);
  }
  const f = tensorToFloat32(t)[0];
  return f === undefined ? null : f;
}

/** Extracts the head (see [Note: vision head sub-graph]); throws `GraphMatchError` when the graph does not fit. */
export function extractVisionHead(model: OnnxModel, hiddenOutput = 'last_hidden_state'): VisionHead {
  const g = model.graph;
  if (!g) throw new GraphMatchError('The vision model has no graph.');
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  if (!outputs.has('image_embeds')) throw new GraphMatchError('The vision model has no image_embeds output.');
  if (!outputs.has(hiddenOutput))
    throw new GraphMatchError(
      `The vision model has no ${hiddenOutput} output (outputs: ${[...outputs].join(', ')}); re-export it with the hidden states.`,
    );
  const nodes = g.node ?? [];
  const producers = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.output ?? []) producers.set(o, n);
  const inits = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  // The hidden state inside the graph: behind the casts an fp16 export puts before its outputs.
  let hidden = hiddenOutput;
  for (let p = producers.get(hidden); p && PASS_THROUGH.has(p.opType ?? ''); p = producers.get(hidden))
    hidden = p.input?.[0] ?? hidden;
  const ancestors = new Set<OnnxNode>();
  const stack = ['image_embeds'];
  while (stack.length > 0) {
    const p = producers.get(stack.pop() ?? '');
    if (!p || ancestors.has(p)) continue;
    ancestors.add(p);
    stack.push(...(p.input ?? []));
  }
  const selectors = nodes.filter((n) => ancestors.has(n) && (n.input ?? []).includes(hidden));
  const sel = selectors[0];
  if (selectors.length !== 1 || !sel)
    throw new GraphMatchError(`Expected one node to take the class token from ${hidden}; found ${selectors.length}.`);
  const clsIndex = sel.opType === 'Gather' ? constantIndex(sel.input?.[1] ?? '', inits, producers) : null;
  if (sel.opType !== 'Gather' || intAttr(sel, 'axis', 0) !== 1 || clsIndex === null || !Number.isInteger(clsIndex))
    throw new GraphMatchError(
      `The class token is taken by a ${sel.opType ?? '?'} node, not a Gather of one token on axis 1; this reader does not follow it.`,
    );
  const selected = sel.output?.[0] ?? '';
  const graphInputs = new Set((g.input ?? []).map((i) => i.name ?? '').filter((name) => !inits.has(name)));
  const head = headNodes(nodes, ancestors, producers, graphInputs, selected);
  const used = new Set(head.flatMap((n) => n.input ?? []));
  const internalHalf = hidden !== hiddenOutput && producers.get(hiddenOutput)?.opType === 'Cast';
  const entry: OnnxNode = internalHalf
    ? {
        opType: 'Cast',
        name: 'head_tokens_cast',
        input: [HEAD_INPUT],
        output: [selected],
        attribute: [{ name: 'to', type: OnnxAttributeType.INT, i: OnnxDataType.FLOAT16 }],
      }
    : { opType: 'Identity', name: 'head_tokens', input: [HEAD_INPUT], output: [selected] };
  const embedsInfo = (g.output ?? []).find((o) => o.name === 'image_embeds');
  return {
    clsIndex,
    hiddenOutput,
    model: {
      ...(model.irVersion !== undefined ? { irVersion: model.irVersion } : {}),
      opsetImport: model.opsetImport ?? [],
      producerName: 'coop-studio vision head',
      graph: {
        name: 'vision_head',
        node: [entry, ...head],
        initializer: (g.initializer ?? []).filter((t) => used.has(t.name ?? '')),
        input: [
          {
            name: HEAD_INPUT,
            type: {
              tensorType: {
                elemType: OnnxDataType.FLOAT,
                shape: { dim: [{ dimParam: 'tokens' }, { dimParam: 'width' }] },
              },
            },
          },
        ],
        output: embedsInfo ? [embedsInfo] : [],
      },
    },
  };
}

/**
 * The nodes after `selected` on the way to `image_embeds`, and the constant sub-graphs they read, in graph order.
 * A head that reads anything else computed from the image (a shape of the hidden states, say) is refused.
 */
function headNodes(
  nodes: OnnxNode[],
  ancestors: Set<OnnxNode>,
  producers: Map<string, OnnxNode>,
  graphInputs: Set<string>,
  selected: string,
): OnnxNode[] {
  const fromSelected = new Set<string>([selected]);
  const keep = new Set<OnnxNode>();
  for (const n of nodes) {
    if (!ancestors.has(n) || !(n.input ?? []).some((i) => fromSelected.has(i))) continue;
    keep.add(n);
    for (const o of n.output ?? []) fromSelected.add(o);
  }
  // A tensor is dynamic when it is computed from a graph input; constants are initializers and what only they feed.
  const memo = new Map<string, boolean>();
  const dynamic = (tensor: string): boolean => {
    if (graphInputs.has(tensor)) return true;
    const known = memo.get(tensor);
    if (known !== undefined) return known;
    memo.set(tensor, false);
    const p = producers.get(tensor);
    const d = p ? (p.input ?? []).some((i) => i !== '' && dynamic(i)) : false;
    memo.set(tensor, d);
    return d;
  };
  const pending = [...keep];
  while (pending.length > 0) {
    const n = pending.pop() as OnnxNode;
    for (const i of n.input ?? []) {
      if (i === '' || fromSelected.has(i)) continue;
      const p = producers.get(i);
      if (!p || keep.has(p)) continue;
      if (dynamic(i))
        throw new GraphMatchError(`The head reads ${i}, computed from the image outside the class-token path.`);
      keep.add(p);
      pending.push(p);
    }
  }
  return nodes.filter((n) => keep.has(n));
}
