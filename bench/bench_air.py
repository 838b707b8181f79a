#!/usr/bin/env python
"""Training speed of lgclip's prompt learners against a bare forward+backward of the same open_clip model, as ratios
measured side by side in one process (absolute times drift on shared machines).

For each backbone and each learner, at the same batch of images and the same classes:
  step:  images/s of one training step. bare: open_clip's own forward and backward, the gradient reaching the spot
         the learner's parameters sit (textual: the positional embeddings, through the whole text tower; visual: the
         class token, through the whole image tower), an SGD step; the image features of the textual case computed in
         the step. ours: the learner's forward (with its hook and, for VPT, its extra tokens), the same loss and step.
  fit:   images/s of `train_prompts` over a few epochs (its one-off work included: the textual learner computes the
         frozen image features once, the visual one preprocesses once) against the bare step looped over the same
         epochs on already-preprocessed pixels.
A ratio > 1 means lgclip is faster. Random weights: speed does not depend on weight values. The CUDA section (fp16
autocast and a gradient scaler on both sides, as `train_prompts` runs there) is skipped when no GPU is visible.
Usage: python bench/bench_air.py [--backbones tiny-random,ViT-B-32] [--batch 16] [--classes 10] [--out bench/air.json]"""
import argparse, json, platform, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

def interleaved(fns, reps=3, sync=lambda: None):
    "Median seconds of each function over `reps` rounds that call them in turn (after a warm-up call each)."
    for f in fns: f(); sync()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for f, t in zip(fns, ts):
            t0 = time.perf_counter(); f(); sync(); t.append(time.perf_counter() - t0)
    return [sorted(t)[len(t) // 2] for t in ts]

def images(n, size, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8)) for _ in range(n)]

def bench_backbone(backbone, batch, n_classes, device, epochs, n_images, reps):
    from lgclip.models import load_clip
    from lgclip.classify import TextClassifier
    from lgclip.prompt_learning import (TextualPrompts, VisualPrompts, TrainConfig, train_set, train_prompts,
                                        amp_dtype)
    dev = torch.device(device)
    clip = load_clip(backbone, None if backbone.startswith('tiny') else 'random', device=device, dtype='fp32')
    model, (pre, tok) = clip.model, clip.extra
    names = [f'class {i}' for i in range(n_classes)]
    imgs = images(n_images, 96 if backbone.startswith('tiny') else 256)
    pix = torch.stack([pre(im) for im in imgs]).to(dev)
    y = torch.arange(n_images, device=dev) % n_classes
    xb, yb = pix[:batch], y[:batch]
    dt = amp_dtype('auto', dev)
    scaler = lambda: torch.amp.GradScaler(dev.type, enabled=dt == torch.float16)
    auto = lambda: torch.autocast(dev.type, dtype=dt or torch.float32, enabled=dt is not None)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    text_fixed = TextClassifier(clip, names).means.to(dev)
    tokens = tok([' '.join(['X'] * 16) + f' {c}.' for c in names]).to(dev)
    model.requires_grad_(False).eval()

    def step(loss_fn, params, sc):
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
        def run(x=xb, t=yb):
            with auto(): logits = loss_fn(x)
            loss = F.cross_entropy(logits.float(), t)
            opt.zero_grad(set_to_none=True); sc.scale(loss).backward(); sc.step(opt); sc.update()
        return run

    def bare_text(x):
        with torch.no_grad(): f = F.normalize(model.encode_image(x).float(), dim=-1)
        return 100 * f @ F.normalize(model.encode_text(tokens).float(), dim=-1).T
    def bare_visual(x):
        return 100 * F.normalize(model.encode_image(x).float(), dim=-1) @ text_fixed.T
    res = {}
    for kind in ('textual', 'visual'):
        if kind == 'textual':
            leaf = model.positional_embedding; learner = TextualPrompts(clip, names)
            def ours_fn(x):
                with torch.no_grad(): f = F.normalize(model.encode_image(x).float(), dim=-1)
                return learner(f)
            bare_fn = bare_text
        else:
            leaf = model.visual.class_embedding; learner = VisualPrompts(clip, names, text_fixed)
            ours_fn, bare_fn = learner, bare_visual
        # the leaf of the bare step needs a gradient, the learner's CLIP none: switched on only inside the bare calls
        def with_leaf(fn):
            def run(*a):
                leaf.requires_grad_(True)
                try: fn(*a)
                finally: leaf.requires_grad_(False)
            return run
        bare = with_leaf(step(bare_fn, [leaf], scaler()))
        t_bare, t_ours = interleaved([bare, step(ours_fn, list(learner.parameters()), scaler())], reps, sync)
        # whole fits: train_prompts (one-off work included) vs the bare step over the same epochs
        data = train_set(pseudo=(imgs, (np.arange(n_images) % n_classes).tolist(), 1.0))
        cfg = TrainConfig(epochs=epochs, batch_size=batch, warmup_epochs=1)
        fresh = lambda: TextualPrompts(clip, names) if kind == 'textual' else VisualPrompts(clip, names, text_fixed)
        def fit_bare():
            for _ in range(epochs):
                for b in torch.randperm(n_images).split(batch): bare(pix[b.to(dev)], y[b.to(dev)])
        fit_ours = lambda: train_prompts(fresh(), data, cfg, progress=False)
        fit_bare, fit_ours = interleaved([fit_bare, fit_ours], 1, sync)
        res[kind] = {'step_bare_img_per_s': round(batch / t_bare, 2), 'step_ours_img_per_s': round(batch / t_ours, 2),
                     'step_ours_vs_bare': round(t_bare / t_ours, 3),
                     'fit_bare_img_per_s': round(epochs * n_images / fit_bare, 2),
                     'fit_ours_img_per_s': round(epochs * n_images / fit_ours, 2),
                     'fit_ours_vs_bare': round(fit_bare / fit_ours, 3)}
    return {'backbone': backbone + (' (random weights)' if backbone != 'tiny' else ''), 'batch': batch,
            'classes': n_classes, 'prompt_tokens': 16, 'fit_images': n_images, 'fit_epochs': epochs,
            'autocast': str(dt), **res}

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--backbones', default='tiny-random,ViT-B-32'); p.add_argument('--batch', type=int, default=16)
    p.add_argument('--classes', type=int, default=10); p.add_argument('--reps', type=int, default=3)
    p.add_argument('--out', default='bench/air.json')
    a = p.parse_args()
    res = {'machine': platform.machine(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
           'note': "ViT-B-32 with random weights, tiny-random: the random-weight ViT builder (speed does not depend on weight values); "
                   "ratios > 1: lgclip faster", 'cpu': [], 'cuda': []}
    for bb in a.backbones.split(','):
        small = bb.startswith('tiny')
        r = bench_backbone(bb, a.batch, a.classes, 'cpu', epochs=3 if small else 2, n_images=64 if small else 32,
                           reps=a.reps if small else 2)
        res['cpu'].append(r); print(json.dumps(r, indent=1), flush=True)
    if torch.cuda.is_available():
        res['cuda_device'] = torch.cuda.get_device_name()
        for bb in a.backbones.split(','):
            r = bench_backbone(bb, a.batch, a.classes, 'cuda', epochs=3, n_images=256, reps=5)
            res['cuda'].append(r); print(json.dumps(r, indent=1), flush=True)
    else: print('cuda: skipped (no GPU visible)')
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
