#!/usr/bin/env python
"""lgclip's costs as ratios measured side by side in one process (absolute times drift on shared machines).

CPU (always), each against the target of issue 9:
  1. ViT-B-32 `Encoder.embed` of JPEG files (decoded in workers) vs the tower's forward on ready tensors   >= 0.93
  2. the tiny tower's encode vs today's implementation (kept below as `TodayEncoder`), 2 cores,
     on --tiny-images files (a few hundred: the workers' start is a fixed cost, not the steady rate)        >= 1.7x
  3. multi-scale (1,2) preprocessing cost vs single scale (decode, crops, resampling, normalisation)      <= 1.2x
  4. a re-encode of a shuffled half of a cached set: forward passes counted                                 0
  5. synthesis (`Synthesizer`) vs the bare diffusers call at the same shape, plan and seeds                 >= 0.97
GPU (where CUDA exists; skipped otherwise): the same ratios for ViT-B/32 and ViT-L/14 on a few thousand JPEGs
(fp16, batch 512, crops resampled on the GPU), and synthesis at SD-Turbo's shape (512 px, 1 step).
Random weights throughout: speed does not depend on weight values. `parallel_headroom` (two processes vs one on a
pure-Python job, before and after) says what parallel decoding can gain on the machine at that moment: 2.0 on two idle
cores, less when other jobs share them.
Usage: python bench/bench.py [--images 128] [--tiny-images 512] [--gpu-images 3000] [--reps 3] [--out bench/results.json]"""
import argparse, json, os, platform, random, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

def median_times(fns:dict, reps:int) -> dict:
    "Median seconds of each function, the functions interleaved rep by rep (one warm-up call each first)."
    for f in fns.values(): f()
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            sync(); t = time.perf_counter(); f(); sync(); ts[k].append(time.perf_counter() - t)
    return {k: sorted(v)[len(v) // 2] for k, v in ts.items()}

def cpu_seconds() -> float:
    "CPU time of this process and its finished children (DataLoader workers) so far."
    import resource
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

def _spin(n:int=4_000_000) -> int:
    s = 0
    for i in range(n): s += i
    return s

def parallel_headroom(reps:int=3) -> float:
    "How much faster two processes finish two pure-Python jobs than one does (2.0 on two idle cores)."
    import multiprocessing as mp
    out = []
    with mp.get_context('fork').Pool(2) as pool:
        for _ in range(reps):
            t = time.perf_counter(); _spin(); _spin(); one = time.perf_counter() - t
            t = time.perf_counter(); pool.map(_spin, [4_000_000] * 2); out.append(one / (time.perf_counter() - t))
    return round(sorted(out)[len(out) // 2], 2)

def sync():
    if torch.cuda.is_available(): torch.cuda.synchronize()

def jpeg_files(n:int, folder:Path, size=(500, 375), seed=0) -> list[Path]:
    "`n` JPEG files of noise-and-gradient content (as hard to decode as photos), written once."
    rng = np.random.default_rng(seed); folder.mkdir(parents=True, exist_ok=True); out = []
    grad = np.linspace(0, 1, size[0])[None, :, None] * np.linspace(0, 1, size[1])[:, None, None]
    for i in range(n):
        p = folder/f'{i:05d}.jpg'
        if not p.exists():
            a = (0.6 * rng.random((size[1], size[0], 3)) + 0.4 * grad) * 255
            Image.fromarray(a.astype(np.uint8)).save(p, quality=90)
        out.append(p)
    return out

class TodayEncoder:
    "lgclip's encoder before issue 9 (commit 5e1e985), kept for the comparison: PIL crops and preprocessing per crop."
    def __init__(self, clip, scales, batch_size): self.clip, self.scales, self.batch_size = clip, scales, batch_size
    def embed(self, paths):
        from lgclip.encoding import grid_crops
        model, (pre, _) = self.clip.model, self.clip.extra
        pils = []
        for p in paths:
            with Image.open(p) as im: im.load(); pils.append(im.convert('RGB'))
        crops, owner = [], []
        for s, k in enumerate(self.scales):
            for i, im in enumerate(pils):
                cs = grid_crops(im, k); crops += cs; owner += [(s, i)] * len(cs)
        out = []
        with torch.inference_mode():
            for j in range(0, len(crops), self.batch_size):
                x = torch.stack([pre(c) for c in crops[j:j + self.batch_size]])
                out.append(F.normalize(model.encode_image(x).float(), dim=-1))
        e = torch.cat(out); idx = tuple(torch.tensor(o) for o in zip(*owner))
        per = torch.zeros(len(self.scales), len(pils), e.shape[1]).index_put_(idx, e, accumulate=True)
        cnt = torch.zeros(len(self.scales), len(pils), 1).index_put_(idx, torch.ones(len(owner), 1), accumulate=True)
        return per / cnt

def prep_only(enc, files, scales, on_device=False) -> None:
    """The input pipeline alone, in this process: decode, crops, Pillow resampling (CPU path), normalisation; or, for
    the device path, what its workers do (decode, crop boxes)."""
    from lgclip.encoding import _CropSet, _collate, to_input
    prep = enc._prep(); ds = _CropSet(files, [(i, scales) for i in range(len(files))], prep, on_device)
    for a in range(0, len(ds), 16):
        js, x, _ = _collate([ds[j] for j in range(a, min(a + 16, len(ds)))])
        if not on_device: to_input(x, prep)

def today_prep_only(clip, files, scales) -> None:
    "Today's input pipeline alone: decode, PIL crops, open_clip's preprocess per crop."
    from lgclip.encoding import grid_crops
    pre = clip.extra[0]
    for p in files:
        with Image.open(p) as im: im.load(); im = im.convert('RGB')
        torch.stack([pre(c) for k in scales for c in grid_crops(im, k)])

def tower_on_ready(clip, files, batch, dev, dt, crops_per_image=1, ready=None):
    "A function running the bare tower on preprocessed tensors (made once, beforehand) of `files`."
    pre, model = clip.extra[0], clip.model
    if ready is None: ready = torch.stack([pre(Image.open(p).convert('RGB')) for p in files])
    ready = ready.to(dev, dt).repeat_interleave(crops_per_image, 0)
    def run():
        with torch.inference_mode():
            for i in range(0, len(ready), batch): model.encode_image(ready[i:i + batch])
    return run

def bench_cpu(res, n, reps, tmp, tiny_n=512):
    from lgclip.encoding import Encoder, default_workers
    from lgclip.models import load_clip
    files = jpeg_files(n, tmp/'jpegs')
    # 1. ViT-B-32 encode of JPEG files vs the tower on ready tensors
    vit = load_clip('ViT-B-32', 'random', 'cpu')
    enc = Encoder('ViT-B-32', scales=(1,), batch_size=32, device='cpu', clip=vit)
    tower = tower_on_ready(vit, files, 32, 'cpu', torch.float32)
    t = median_times({'tower': tower, 'encode': lambda: enc.embed(files)}, reps)
    res['vitb32_encode_vs_tower'] = {'images': n, 'batch': 32, 'workers': default_workers('cpu'),
                                     'tower_img_per_s': round(n / t['tower'], 2),
                                     'encode_img_per_s': round(n / t['encode'], 2),
                                     'ratio': round(t['tower'] / t['encode'], 3), 'target': '>= 0.93'}
    # 3. multi-scale preprocessing cost (ViT-B-32's 224 px input), in one process
    t = median_times({'one': lambda: prep_only(enc, files, (1,)), 'two': lambda: prep_only(enc, files, (1, 2)),
                      'today_one': lambda: today_prep_only(vit, files, (1,)),
                      'today_two': lambda: today_prep_only(vit, files, (1, 2)),
                      'dev_one': lambda: prep_only(enc, files, (1,), True),
                      'dev_two': lambda: prep_only(enc, files, (1, 2), True)}, reps)
    res['multiscale_prep_cost'] = {'images': n, 'one_scale_img_per_s': round(n / t['one'], 1),
                                   'scales_1_2_img_per_s': round(n / t['two'], 1),
                                   'ratio': round(t['two'] / t['one'], 3),
                                   'today_ratio': round(t['today_two'] / t['today_one'], 3),
                                   'vs_today_one_scale': round(t['today_one'] / t['one'], 3),
                                   'device_path_workers_ratio': round(t['dev_two'] / t['dev_one'], 3),
                                   'target': '<= 1.2'}
    del vit, enc
    # 2. the tiny tower (preprocessing-bound): new encoder vs today's
    tiny = load_clip('tiny-random', None, 'cpu'); tiny_files = jpeg_files(tiny_n, tmp/'jpegs')
    for scales in [(1, 2), (1,)]:
        today = TodayEncoder(tiny, scales, 64)
        new = Encoder('tiny-random', scales=scales, batch_size=64, device='cpu', clip=tiny)
        t = median_times({'today': lambda: today.embed(tiny_files), 'new': lambda: new.embed(tiny_files),
                          'today_128': lambda: today.embed(files), 'new_128': lambda: new.embed(files)}, reps)
        close = torch.allclose(new.embed_scales(tiny_files), today.embed(tiny_files), atol=1e-5)
        here = Encoder('tiny-random', scales=scales, batch_size=64, device='cpu', clip=tiny, workers=0)
        c0 = cpu_seconds(); today.embed(files); c1 = cpu_seconds(); here.embed(files); c2 = cpu_seconds()
        res[f'tiny_encode_vs_today_scales_{"_".join(map(str, scales))}'] = {
            'images': tiny_n, 'workers': default_workers('cpu'), 'main_threads': new.threads_used,
            'today_img_per_s': round(tiny_n / t['today'], 1),
            'new_img_per_s': round(tiny_n / t['new'], 1), 'speedup': round(t['today'] / t['new'], 3),
            f'speedup_on_{n}_images': round(t['today_128'] / t['new_128'], 3),
            'cpu_work_today_vs_new_in_process': round((c1 - c0) / (c2 - c1), 3),
            'same_features_atol_1e-5': close, 'target': '>= 1.7'}
    # 4. a shuffled half of a cached set: no forward pass
    enc = Encoder('tiny-random', scales=(1, 2), batch_size=64, device='cpu', clip=tiny, cache_dir=tmp/'cache')
    t0 = time.perf_counter(); full = enc.encode(files, progress=False); cold = time.perf_counter() - t0
    passes = enc.forward_passes; half = random.Random(0).sample(range(n), n // 2)
    t0 = time.perf_counter(); again = enc.encode([files[i] for i in half], progress=False)
    warm = time.perf_counter() - t0
    res['cached_shuffled_half'] = {'images': n, 'forward_passes_first': passes,
                                   'forward_passes_shuffled_half': enc.forward_passes - passes,
                                   'same_features': bool(torch.equal(again, full[half])),
                                   'seconds_first': round(cold, 3),
                                   'seconds_shuffled_half': round(warm, 3), 'target': '0 forward passes'}
    # 5. synthesis vs the bare diffusers call
    res['synthesis_vs_bare'] = bench_synthesis('tiny-random', 'cpu', 64, 2, 3.0, 32, 8, max(reps, 5), tmp)

def bench_synthesis(generator, device, n, steps, guidance, size, batch, reps, tmp):
    from lgclip.models import load_generator, Loaded
    from lgclip.synthesis import Synthesizer, plan
    gen = generator if isinstance(generator, Loaded) else load_generator(generator, device)
    prompts = {'circle': ['a drawing of a circle.'], 'square': ['a drawing of a square.']}
    items = plan(prompts, n // 2); dev = gen.model.device
    def bare():
        for i in range(0, len(items), batch):
            b = items[i:i + batch]
            with torch.inference_mode():
                gens = [torch.Generator(dev).manual_seed(it.seed) for it in b]
                gen.model(prompt=[it.prompt for it in b], num_inference_steps=steps, guidance_scale=guidance,
                          height=size, width=size, output_type='pil', generator=gens)
    def ours():
        Synthesizer(gen, steps=steps, guidance=guidance, size=size, batch_size=batch, device=str(dev),
                    cache_dir=tempfile.mkdtemp(dir=tmp))(prompts, n // 2, progress=False)
    t = median_times({'bare': bare, 'ours': ours}, reps)
    return {'generator': f'{gen.name} (random weights), {size} px, {steps} steps', 'images': n, 'batch': batch,
            'bare_diffusers_img_per_s': round(n / t['bare'], 2), 'lgclip_img_per_s': round(n / t['ours'], 2),
            'ratio': round(t['bare'] / t['ours'], 3), 'target': '>= 0.97'}

def bench_gpu(res, n, reps, tmp):
    "The same ratios on CUDA: fp16, batch 512, crops resampled on the GPU."
    from lgclip.encoding import Encoder, default_workers
    from lgclip.models import load_clip
    files = jpeg_files(n, tmp/'gpu_jpegs'); dev = torch.device('cuda')
    out = {'device': torch.cuda.get_device_name(), 'images': n, 'workers': default_workers('cuda')}
    for name in ['ViT-B-32', 'ViT-L-14']:
        clip = load_clip(name, 'random', 'cuda')
        one = Encoder(name, scales=(1,), batch_size=512, device='cuda', clip=clip)
        two = Encoder(name, scales=(1, 2), batch_size=512, device='cuda', clip=clip)
        ready = torch.stack([clip.extra[0](Image.open(p).convert('RGB')) for p in files])
        t = median_times({'tower': tower_on_ready(clip, files, 512, dev, torch.float16, ready=ready),
                          'tower5': tower_on_ready(clip, files, 512, dev, torch.float16, 5, ready),
                          'one': lambda: one.embed(files), 'two': lambda: two.embed(files)}, reps)
        cached = Encoder(name, scales=(1, 2), batch_size=512, device='cuda', clip=clip, cache_dir=tmp/f'cache-{name}')
        full = cached.encode(files, progress=False); passes = cached.forward_passes
        half = random.Random(0).sample(range(n), n // 2); cached.encode([files[i] for i in half], progress=False)
        out[name] = {'tower_img_per_s': round(n / t['tower'], 1), 'encode_img_per_s': round(n / t['one'], 1),
                     'encode_vs_tower': round(t['tower'] / t['one'], 3),
                     'multiscale_encode_vs_tower_on_5_crops': round(t['tower5'] / t['two'], 3),
                     'multiscale_cost_vs_one_scale': round(t['two'] / t['one'], 3),
                     'forward_passes_shuffled_half': cached.forward_passes - passes}
        del clip, one, two, cached, full, ready; torch.cuda.empty_cache()
    out['synthesis_vs_bare'] = bench_synthesis(_turbo_shaped(), 'cuda', 64, 1, 0.0, 512, 16, reps, tmp)
    res['gpu'] = out

def _turbo_shaped():
    "An SD-Turbo-shaped pipeline (UNet and VAE at full size, a small text encoder), random weights, fp16 on CUDA."
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel, AutoencoderKL, EulerAncestralDiscreteScheduler
    from transformers import CLIPTextConfig, CLIPTextModel
    from lgclip.models import Loaded, tiny_generator
    tok = StableDiffusionPipeline.from_pretrained(str(tiny_generator())).tokenizer
    te = CLIPTextModel(CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=1024, intermediate_size=1024,
                                      num_hidden_layers=2, num_attention_heads=16, max_position_embeddings=256,
                                      bos_token_id=0, eos_token_id=1, pad_token_id=1))
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), down_block_types=('DownEncoderBlock2D',) * 4,
                        up_block_types=('UpDecoderBlock2D',) * 4, latent_channels=4, layers_per_block=2,
                        sample_size=512)
    unet = UNet2DConditionModel(sample_size=64, block_out_channels=(320, 640, 1280, 1280), layers_per_block=2,
                                down_block_types=('CrossAttnDownBlock2D',) * 3 + ('DownBlock2D',),
                                up_block_types=('UpBlock2D',) + ('CrossAttnUpBlock2D',) * 3, cross_attention_dim=1024,
                                attention_head_dim=(5, 10, 20, 20), use_linear_projection=True)
    sched = EulerAncestralDiscreteScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                                            beta_schedule='scaled_linear', timestep_spacing='trailing')
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sched,
                                   safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False).to('cuda', torch.float16)
    pipe.set_progress_bar_config(disable=True)
    return Loaded(pipe, 'sd-turbo-shaped', 'random', True)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--images', type=int, default=128); p.add_argument('--tiny-images', type=int, default=512)
    p.add_argument('--gpu-images', type=int, default=3000)
    p.add_argument('--reps', type=int, default=3); p.add_argument('--out', default='bench/results.json')
    a = p.parse_args()
    res = {'machine': platform.machine(), 'cores': len(os.sched_getaffinity(0)),
           'torch_threads': torch.get_num_threads(),
           'load_average_at_start': os.getloadavg(), 'torch': torch.__version__,
           'note': 'random weights: speed does not depend on weight values; ratios measured side by side in one run'}
    res['parallel_headroom_before'] = parallel_headroom()   # what two processes can gain on this machine now
    with tempfile.TemporaryDirectory() as tmp:
        bench_cpu(res, a.images, a.reps, Path(tmp), a.tiny_images)
        res['parallel_headroom_after'] = parallel_headroom()
        if torch.cuda.is_available(): bench_gpu(res, a.gpu_images, a.reps, Path(tmp))
        else: res['gpu'] = 'skipped: no CUDA device'
    print(json.dumps(res, indent=1), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
