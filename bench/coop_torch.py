"""CoOp in PyTorch, written for `npm run bench:learn`: the baseline the app's `learn` is timed against.

A small, self-contained implementation of KaiyangZhou/CoOp's recipe on a CLIP given as a bench model folder
(scripts/make-bench-model.ts --full: config.json, preprocessor_config.json, weights.safetensors with [in, out] linear
weights), so both sides run on the same random weights:
  - prompts as CoOp builds them: [SOS] [V]1..[V]M name . [EOS], padded to the 77-token context, the full sequence through
    the causal text transformer, features at the EOS (argmax of the ids);
  - SGD lr 0.002, momentum 0.9, weight decay 5e-4, one warm-up epoch at 1e-5 then cosine over the epochs, batch 32 with
    the last incomplete batch dropped (Dassl), logits 100 * cos, cross-entropy;
  - `--mode reference`: the reference recipe, a random resized crop (scale 0.08-1) and flip of each training image and
    the frozen image encoder on every step (images are decoded once up front, as a loader's cache would);
    `--mode cached`: the image features of the plain training images computed once, then only the text encoder per step.
The plan (class name token ids from the app's tokenizer, the split, the schedule, and ORT text features of a few
prompts to check this text encoder against) comes from bench/learn.bench.ts as JSON. With --max-steps N the loop
stops after N steps and the training time is extrapolated from their mean; with --sample-images N at most N images
of each set are embedded and the embedding time is extrapolated (both reported as such). Prints one JSON object.

Runs with Debian's python3-torch (torch 1.13), numpy and PIL; no torchvision.
"""

import argparse
import json
import math
import random
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=np.float32, count=(b - a) // 4, offset=a).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def layer_norm(x, w, prefix):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], 1e-5)


def linear(x, w, prefix):
    return x @ w[prefix + ".weight"] + w[prefix + ".bias"]


def transformer(x, w, prefix, layers, heads, mask):
    b, l, width = x.shape
    d = width // heads
    for i in range(layers):
        p = f"{prefix}.encoder.layers.{i}"
        h = layer_norm(x, w, p + ".layer_norm1")
        q = linear(h, w, p + ".self_attn.q_proj").view(b, l, heads, d).transpose(1, 2)
        k = linear(h, w, p + ".self_attn.k_proj").view(b, l, heads, d).transpose(1, 2)
        v = linear(h, w, p + ".self_attn.v_proj").view(b, l, heads, d).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) * d ** -0.5
        if mask is not None:
            att = att + mask
        o = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, l, width)
        x = x + linear(o, w, p + ".self_attn.out_proj")
        h = layer_norm(x, w, p + ".layer_norm2")
        f = linear(h, w, p + ".mlp.fc1")
        x = x + linear(f * torch.sigmoid(1.702 * f), w, p + ".mlp.fc2")
    return x


class Clip:
    def __init__(self, model_dir):
        cfg = json.load(open(f"{model_dir}/config.json"))
        pre = json.load(open(f"{model_dir}/preprocessor_config.json"))
        self.t = cfg["text_config"]
        self.v = cfg["vision_config"]
        self.w = load_safetensors(f"{model_dir}/weights.safetensors")
        crop = pre.get("crop_size", 224)
        self.size = crop["height"] if isinstance(crop, dict) else crop
        self.mean = torch.tensor(pre["image_mean"]).view(3, 1, 1)
        self.std = torch.tensor(pre["image_std"]).view(3, 1, 1)
        ctx_len = self.t["max_position_embeddings"]
        self.mask = torch.full((ctx_len, ctx_len), float("-inf")).triu(1)

    def encode_text(self, emb, ids):
        """Raw text features of token embeddings [B, L, W] whose ids [B, L] give the EOS position (argmax)."""
        w, l = self.w, emb.shape[1]
        x = emb + w["text_model.embeddings.position_embedding.weight"][:l]
        x = transformer(x, w, "text_model", self.t["num_hidden_layers"], self.t["num_attention_heads"], self.mask[:l, :l])
        x = layer_norm(x, w, "text_model.final_layer_norm")
        x = x[torch.arange(x.shape[0]), ids.argmax(-1)]
        return x @ w["text_projection.weight"]

    def encode_image(self, pixels):
        w, b = self.w, pixels.shape[0]
        ps, width = self.v["patch_size"], self.v["hidden_size"]
        g = self.size // ps
        patches = pixels.reshape(b, 3, g, ps, g, ps).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, 3 * ps * ps)
        x = patches @ w["vision_model.embeddings.patch_embedding.weight"]
        cls = w["vision_model.embeddings.class_embedding"].view(1, 1, width).expand(b, 1, width)
        x = torch.cat([cls, x], 1) + w["vision_model.embeddings.position_embedding.weight"]
        x = layer_norm(x, w, "vision_model.pre_layrnorm")
        x = transformer(x, w, "vision_model", self.v["num_hidden_layers"], self.v["num_attention_heads"], None)
        x = layer_norm(x[:, 0], w, "vision_model.post_layernorm")
        return x @ w["visual_projection.weight"]

    def to_tensor(self, img):
        a = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return (a - self.mean) / self.std

    def plain(self, img):
        """Resize the shorter side to the crop size (bicubic), centre crop (CLIP's test transform)."""
        s = self.size
        wd, ht = img.size
        r = s / min(wd, ht)
        img = img.resize((max(s, round(wd * r)), max(s, round(ht * r))), Image.BICUBIC)
        left, top = (img.size[0] - s) // 2, (img.size[1] - s) // 2
        return self.to_tensor(img.crop((left, top, left + s, top + s)))

    def augmented(self, img, rng):
        """torchvision's RandomResizedCrop(scale 0.08-1, ratio 3/4-4/3, bicubic) + RandomHorizontalFlip."""
        wd, ht = img.size
        area = wd * ht
        box = None
        for _ in range(10):
            target = area * rng.uniform(0.08, 1.0)
            ratio = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            cw, ch = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
            if 0 < cw <= wd and 0 < ch <= ht:
                x, y = rng.randint(0, wd - cw), rng.randint(0, ht - ch)
                box = (x, y, x + cw, y + ch)
                break
        if box is None:
            side = min(wd, ht)
            box = ((wd - side) // 2, (ht - side) // 2, (wd - side) // 2 + side, (ht - side) // 2 + side)
        out = img.resize((self.size, self.size), Image.BICUBIC, box=box)
        if rng.random() < 0.5:
            out = out.transpose(Image.FLIP_LEFT_RIGHT)
        return self.to_tensor(out)


class PromptLearner(torch.nn.Module):
    """CoOp's unified context, class token at the end, prompts padded to the context length."""

    def __init__(self, clip, plan, n_ctx):
        super().__init__()
        tok = clip.w["text_model.embeddings.token_embedding.weight"]
        ctx_len = clip.t["max_position_embeddings"]
        width = tok.shape[1]
        self.ctx = torch.nn.Parameter(torch.randn(n_ctx, width) * 0.02)
        ids = []
        for name in plan["nameIds"]:
            row = [plan["sot"]] + [0] * n_ctx + name[: ctx_len - 3 - n_ctx] + plan["dotIds"] + [plan["eot"]]
            ids.append(row + [0] * (ctx_len - len(row)))
        self.ids = torch.tensor(ids)
        emb = tok[self.ids]
        self.register_buffer("prefix", emb[:, :1])
        self.register_buffer("suffix", emb[:, 1 + n_ctx :])

    def forward(self):
        c = self.ids.shape[0]
        return torch.cat([self.prefix, self.ctx.unsqueeze(0).expand(c, -1, -1), self.suffix], 1)


def lr_at(epoch, plan):
    if epoch < 1:
        return 1e-5
    return plan["lr"] * (1 + math.cos(math.pi * (epoch - 1) / plan["epochs"])) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--plan", required=True)
    ap.add_argument("--mode", choices=["reference", "cached"], required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--sample-images", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    plan = json.load(open(args.plan))
    torch.manual_seed(plan["seed"])
    rng = random.Random(plan["seed"])
    clip = Clip(args.model)
    learner = PromptLearner(clip, plan, plan["nCtx"])

    with torch.no_grad():
        zs = plan["check"]
        ids = torch.tensor([r + [0] * (clip.t["max_position_embeddings"] - len(r)) for r in zs["ids"]])
        mine = clip.encode_text(clip.w["text_model.embeddings.token_embedding.weight"][ids], ids)
        check = float((mine - torch.tensor(zs["features"])).abs().max())

    def load(items):
        return [(Image.open(p).convert("RGB"), y) for p, y in items]

    train, test = load(plan["train"]), load(plan["test"])
    load_s = time.perf_counter() - t_start

    sampled = []

    def embed(images):
        """Features of `images` and the seconds embedding them took, extrapolated past --sample-images images."""
        n = len(images) if args.sample_images <= 0 else min(len(images), args.sample_images)
        t = time.perf_counter()
        feats = []
        with torch.no_grad():
            for i in range(0, n, 32):
                feats.append(F.normalize(clip.encode_image(torch.stack([clip.plain(im) for im, _ in images[i : min(n, i + 32)]])), dim=-1))
        seconds = time.perf_counter() - t
        out = torch.cat(feats)
        if n < len(images):
            # Timing only: the other images reuse the computed features (the weights are random anyway).
            sampled.append(len(images) - n)
            out = out[torch.arange(len(images)) % n]
            seconds *= len(images) / n
        return out, seconds

    train_feats = test_feats = None
    embed_s = 0.0
    if args.mode == "cached":
        train_feats, s1 = embed(train)
        test_feats, s2 = embed(test)
        embed_s = s1 + s2

    n = len(train)
    batch = plan["batchSize"]
    per_epoch = n // batch if n >= batch else 1
    total = per_epoch * plan["epochs"]
    limit = total if args.max_steps <= 0 else min(total, args.max_steps)
    opt = torch.optim.SGD([learner.ctx], lr=plan["lr"], momentum=0.9, weight_decay=5e-4)
    labels_all = torch.tensor([y for _, y in train])
    step_times = []
    done = 0
    t_train = time.perf_counter()
    for epoch in range(plan["epochs"]):
        for g in opt.param_groups:
            g["lr"] = lr_at(epoch, plan)
        order = list(range(n))
        rng.shuffle(order)
        for s in range(per_epoch):
            if done >= limit:
                break
            t = time.perf_counter()
            idx = order[s * batch : (s + 1) * batch]
            if args.mode == "cached":
                img = train_feats[idx]
            else:
                with torch.no_grad():
                    img = F.normalize(clip.encode_image(torch.stack([clip.augmented(train[i][0], rng) for i in idx])), dim=-1)
            text = F.normalize(clip.encode_text(learner(), learner.ids), dim=-1)
            loss = F.cross_entropy(100 * img @ text.t(), labels_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            step_times.append(time.perf_counter() - t)
        if done >= limit:
            break
    measured_train_s = time.perf_counter() - t_train
    extrapolated = done < total
    # The first step pays for allocations; the rest give the mean used to extrapolate.
    later = step_times[1:] or step_times
    per_step = sum(later) / len(later)
    train_s = measured_train_s if not extrapolated else step_times[0] + per_step * (total - 1)

    embed_eval_s = 0.0
    if test_feats is None:
        test_feats, embed_eval_s = embed(test)
    t0 = time.perf_counter()
    with torch.no_grad():
        text = F.normalize(clip.encode_text(learner(), learner.ids), dim=-1)
        pred = (test_feats @ text.t()).argmax(-1)
        acc = float((pred == torch.tensor([y for _, y in test])).float().mean())
    eval_s = embed_eval_s + time.perf_counter() - t0
    print(
        json.dumps(
            {
                "mode": args.mode,
                "threads": args.threads,
                "torch": torch.__version__,
                "steps": total,
                "stepsRun": done,
                "extrapolated": extrapolated,
                "sPerStep": per_step,
                "firstStepS": step_times[0] if step_times else None,
                "loadS": load_s,
                "embedS": embed_s,
                "trainS": train_s,
                "evalS": eval_s,
                "totalS": load_s + embed_s + train_s + eval_s,
                "wallS": time.perf_counter() - t_start,
                "testAccuracy": None if extrapolated or sampled else acc,
                "imagesExtrapolated": sum(sampled),
                "textCheckMaxAbsDiff": check,
            }
        )
    )


if __name__ == "__main__":
    main()
