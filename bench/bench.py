#!/usr/bin/env python
"""lgclip's costs as ratios measured side by side in one process (absolute times drift on shared machines).

1. encoding: lgclip's Encoder (one scale) vs the bare open_clip call (preprocess + encode_image, same batch) on the same model;
   then multi-scale (1,2) vs single-scale, per image.
2. synthesis: lgclip's Synthesizer vs the bare diffusers pipeline call on the same pipeline, prompts, steps and batch.
3. the tiny preset end to end: a cold run (empty cache) vs a re-run from the caches.
Usage: python bench/bench.py [--backbone ViT-B-32] [--images 32] [--batch 32] [--out bench/results.json]"""
import argparse, json, platform, tempfile, time
from pathlib import Path
import torch
from PIL import Image
import numpy as np

def timed(fn, reps=3):
    "Median seconds of `reps` calls after one warm-up call."
    fn(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]

def images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray((rng.random((375, 500, 3)) * 255).astype(np.uint8)) for _ in range(n)]

def bench_encoding(backbone, n, batch, res):
    from lgclip.encoding import Encoder
    from lgclip.models import load_clip
    clip = load_clip(backbone, 'random' if backbone != 'tiny' else None, 'cpu')
    model, (pre, _) = clip.model, clip.extra
    imgs = images(n)
    def bare():
        with torch.inference_mode():
            for i in range(0, n, batch): model.encode_image(torch.stack([pre(im) for im in imgs[i:i+batch]]))
    one = Encoder(backbone, scales=(1,), batch_size=batch, device='cpu', clip=clip)
    two = Encoder(backbone, scales=(1, 2), batch_size=batch, device='cpu', clip=clip)
    t_bare, t_one = timed(bare, 2), timed(lambda: one.embed(imgs), 2)
    t_two = timed(lambda: two.embed(imgs), 1)
    res['encoding'] = {'backbone': backbone, 'images': n, 'batch': batch, 'bare_open_clip_img_per_s': round(n / t_bare, 2),
                       'lgclip_1scale_img_per_s': round(n / t_one, 2), 'lgclip_1scale_vs_bare': round(t_bare / t_one, 3),
                       'lgclip_1_2scale_img_per_s': round(n / t_two, 2), 'multiscale_cost_vs_1scale': round(t_two / t_one, 2)}

def bench_synthesis(res, n=16, batch=8):
    from lgclip.models import load_generator
    from lgclip.synthesis import Synthesizer, plan
    gen = load_generator('tiny', 'cpu')
    prompts = {'circle': ['a drawing of a circle.'], 'square': ['a drawing of a square.']}
    items = plan(prompts, n // 2)
    def bare():
        for i in range(0, len(items), batch):
            b = items[i:i+batch]
            gen.model(prompt=[it.prompt for it in b], num_inference_steps=2, guidance_scale=3.0, height=32, width=32, output_type='pil',
                      generator=[torch.Generator().manual_seed(it.seed) for it in b])
    def ours():
        Synthesizer(gen, steps=2, guidance=3.0, size=32, batch_size=batch, device='cpu', cache_dir=tempfile.mkdtemp())(prompts, n // 2, progress=False)
    t_bare, t_ours = timed(bare), timed(ours)
    res['synthesis'] = {'generator': 'tiny (SD-shaped, random weights, 32 px, 2 steps)', 'images': n, 'batch': batch,
                        'bare_diffusers_img_per_s': round(n / t_bare, 2), 'lgclip_img_per_s': round(n / t_ours, 2),
                        'lgclip_vs_bare': round(t_bare / t_ours, 3)}

def bench_run(res):
    from lgclip.pipeline import Config, run
    cache = tempfile.mkdtemp()
    cfg = lambda: Config.from_preset('tiny', cache_dir=cache, out_dir=tempfile.mkdtemp(), device='cpu')
    t = time.perf_counter(); run(cfg(), progress=False); cold = time.perf_counter() - t
    t = time.perf_counter(); r = run(cfg(), progress=False); warm = time.perf_counter() - t
    res['tiny_run'] = {'cold_s': round(cold, 2), 'cached_rerun_s': round(warm, 2), 'cold_vs_cached': round(cold / warm, 2),
                       'stage_seconds_cached': r['seconds']}

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--backbone', default='ViT-B-32'); p.add_argument('--images', type=int, default=32); p.add_argument('--batch', type=int, default=32)
    p.add_argument('--out', default='bench/results.json')
    a = p.parse_args()
    res = {'machine': platform.machine(), 'threads': torch.get_num_threads(), 'torch': torch.__version__, 'device': 'cpu',
           'note': 'random weights: speed does not depend on weight values'}
    bench_encoding(a.backbone, a.images, a.batch, res); print(json.dumps(res['encoding'], indent=1), flush=True)
    bench_synthesis(res); print(json.dumps(res['synthesis'], indent=1), flush=True)
    bench_run(res); print(json.dumps(res['tiny_run'], indent=1), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
