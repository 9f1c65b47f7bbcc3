/**
 * @file The README written next to an exported context file: what it is, and how to use it from Python with
 * Hugging Face CLIP (engine, pure TypeScript).
 *
 * [Note: context README] The snippet rebuilds the prompts exactly as the app's prompt learner does ([SOS], the
 * context vectors, the class-name tokens, ".", [EOS], with the class name at the end, front or in the middle), runs
 * the frozen CLIP text transformer on those embeddings, pools at the EOS and projects. It uses only public modules
 * of `transformers`' CLIPModel (embeddings, encoder, final_layer_norm, text_projection), so it does not depend on
 * a `inputs_embeds` argument that the text model's forward lacks. It was written against transformers 4.x and not
 * run in CI (no Python in the build).
 */
import type { ContextMetadata } from '../formats/context-file';

const pct = (x: number | null | undefined) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : 'n/a');

/** The README text for a context file named `fileName`: what the file holds, then how to use it from Python. */
export function contextReadme(meta: ContextMetadata, fileName: string, shape: number[]): string {
  return `${readmeHeader(meta, fileName, shape)}${pythonSection(fileName)}`;
}

/** What the file is: its tensor, its metadata as a table, and which model it works with. */
function readmeHeader(meta: ContextMetadata, fileName: string, shape: number[]): string {
  const testAcc = meta.metrics['testAccuracy'];
  const zsAcc = meta.metrics['zeroShotTestAccuracy'];
  return `# Learned prompt context (CoOp Studio)

\`${fileName}\` is a [safetensors](https://huggingface.co/docs/safetensors) file with one float32 tensor \`ctx\` of
shape [${shape.join(', ')}] (${meta.csc ? 'one context per class: [classes, M, width]' : 'one context shared by all classes: [M, width]'}) and
its metadata in the header's \`__metadata__\` map (JSON strings for the structured values).

| field | value |
| --- | --- |
| method | ${meta.method} |
| model id | \`${meta.model.id}\` |
| model files | ${meta.model.files.map((f) => `\`${f.path}\` (${f.bytes} bytes${f.sha256 ? `, sha256 ${f.sha256.slice(0, 16)}...` : ''})`).join(', ')} |
| classes | ${meta.classNames.map((c, i) => `${c} ("${meta.prompts[i] ?? c}")`).join(', ')} |
| context vectors M | ${meta.nCtx} |
| class-specific | ${meta.csc ? 'yes' : 'no'} |
| class position | ${meta.position} |
| init | ${meta.init} |
| shots, seed, epochs | ${meta.shots}, ${meta.seed}, ${meta.epochs} |
| test accuracy | ${pct(testAcc)} (hand-written prompt: ${pct(zsAcc)}) |
| app version | ${meta.appVersion} |

The context only works with the model it was learned with (the vectors live in that model's token-embedding space).
${meta.csc ? '' : 'A unified context can be applied to new class names: pass any list of names to `class_features` below.\n'}
`;
}

/** The Python snippet that rebuilds the prompts with Hugging Face CLIP (see [Note: context README]). */
function pythonSection(fileName: string): string {
  return `## Use it from Python with Hugging Face CLIP

\`\`\`python
# pip install torch transformers safetensors pillow
import json
import torch
from PIL import Image
from safetensors import safe_open
from transformers import CLIPModel, CLIPProcessor

MODEL = "path/or/hub-id-of-the-same-clip-model"  # the model this context was learned with
with safe_open("${fileName}", "pt") as f:
    ctx = f.get_tensor("ctx")
    meta = f.metadata()
prompts = json.loads(meta["prompts"])
position = meta["position"]  # "end", "middle" or "front"

model = CLIPModel.from_pretrained(MODEL).eval()
processor = CLIPProcessor.from_pretrained(MODEL)
tok = processor.tokenizer
tm = model.text_model


@torch.no_grad()
def class_features(names):
    emb = tm.embeddings.token_embedding
    sos, eos = tok.bos_token_id, tok.eos_token_id
    dot = tok(".", add_special_tokens=False).input_ids
    rows, eot = [], []
    for c, name in enumerate(names):
        cx = ctx[c] if ctx.dim() == 3 else ctx  # [M, width]
        name_ids = tok(name, add_special_tokens=False).input_ids
        e = lambda ids: emb(torch.tensor(ids, dtype=torch.long))
        if position == "end":
            parts = [e([sos]), cx, e(name_ids), e(dot + [eos])]
        elif position == "front":
            parts = [e([sos]), e(name_ids), cx, e(dot + [eos])]
        else:
            half = cx.shape[0] // 2
            parts = [e([sos]), cx[:half], e(name_ids), cx[half:], e(dot + [eos])]
        x = torch.cat(parts)
        eot.append(x.shape[0] - 1)
        rows.append(torch.cat([x, torch.zeros(77 - x.shape[0], x.shape[1])]))
    x = torch.stack(rows)
    pos = tm.embeddings.position_embedding(torch.arange(77))
    L = x.shape[1]
    causal = torch.full((L, L), float("-inf")).triu(1)[None, None]
    h = tm.encoder(inputs_embeds=x + pos, causal_attention_mask=causal).last_hidden_state
    h = tm.final_layer_norm(h)
    pooled = h[torch.arange(len(names)), torch.tensor(eot)]
    f = model.text_projection(pooled)
    return f / f.norm(dim=-1, keepdim=True)


text = class_features(prompts)
image = processor(images=Image.open("some-image.png"), return_tensors="pt")
with torch.no_grad():
    img = model.get_image_features(**image)
img = img / img.norm(dim=-1, keepdim=True)
probs = (100 * img @ text.T).softmax(dim=-1)[0]
names = json.loads(meta["classNames"])
for p, i in zip(*probs.topk(min(5, len(names)))):
    print(f"{names[i]}: {p:.3f}")
\`\`\`

The snippet rebuilds the prompts as the app does ([SOS], context, class-name tokens, ".", [EOS]; features at the
EOS) and scores with logit scale 100. It was written for transformers 4.x and has not been run by the app's tests.
`;
}
