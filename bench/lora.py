#!/usr/bin/env python
"""The cost of LoRA adaptation (lgclip.lora) as ratios measured side by side in one process.

1. one LoRA training step of `adapt_generator` (time per step as it records it, data and noise prepared in advance)
   vs one step of full fine-tuning of the same UNet (every weight trained, AdamW, same batch, same resolution);
2. the adapter's file size vs the UNet's weights.
The generator is the `tiny` one unless --generator names another (a local folder or a Hub id on this machine).
Usage: python bench/lora.py [--generator tiny] [--steps 20] [--batch 2] [--resolution 16] [--out FILE]"""
import argparse, copy, json, platform, tempfile, time
from pathlib import Path
import numpy as np
import torch

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--generator', default='tiny'); ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--batch', type=int, default=2); ap.add_argument('--resolution', type=int, default=16)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    from PIL import Image
    from lgclip.core import get_device
    from lgclip.models import load_generator
    from lgclip.lora import (LoraSettings, adapt_generator, denoising_loss, noise_scheduler, text_conditioning,
                             training_resolution)
    dev = get_device('auto'); gen = load_generator(a.generator, dev)
    rng = np.random.default_rng(0)
    imgs = [Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)) for _ in range(8)]
    s = LoraSettings(prompt='a photo', steps=a.steps, batch_size=a.batch, resolution=a.resolution, checkpoint_every=10**6)
    with tempfile.TemporaryDirectory() as d:
        ad = adapt_generator(gen, imgs, s, d, progress=False).extra
        lora_step, lora_bytes = ad.meta['seconds_per_step'], ad.size
    pipe = gen.model; res = training_resolution(pipe, a.resolution)
    unet = copy.deepcopy(pipe.unet).float().train().requires_grad_(True)
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-5)
    sched, emb = noise_scheduler(pipe), text_conditioning(pipe, ['a photo'], res)[0].float()
    lat = pipe.vae.config.latent_channels, res // pipe.vae_scale_factor
    x0 = torch.randn(a.batch, lat[0], lat[1], lat[1], device=dev); noise = torch.randn_like(x0)
    t = torch.randint(0, sched.config.num_train_timesteps, (a.batch,), device=dev)
    amp = pipe.unet.dtype if pipe.unet.dtype != torch.float32 else None
    def full_step():
        with torch.autocast(dev.type, dtype=amp) if amp else torch.autocast(dev.type, enabled=False):
            loss = denoising_loss(unet, sched, x0, noise, t, emb.expand(a.batch, -1, -1).to(dev))
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    full_step()
    if dev.type == 'cuda': torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps): full_step()
    if dev.type == 'cuda': torch.cuda.synchronize()
    full = (time.perf_counter() - t0) / a.steps
    unet_bytes = sum(p.numel() * p.element_size() for p in pipe.unet.parameters())
    out = {'machine': platform.processor() or platform.machine(), 'threads': torch.get_num_threads(), 'device': str(dev),
           'torch': torch.__version__, 'generator': a.generator, 'random_weights': gen.random_weights,
           'steps': a.steps, 'batch': a.batch, 'resolution': res,
           'lora_s_per_step': round(lora_step, 4), 'full_finetune_s_per_step': round(full, 4),
           'lora_step_vs_full_step': round(lora_step / full, 3),
           'adapter_bytes': lora_bytes, 'unet_bytes': unet_bytes, 'adapter_vs_unet': round(lora_bytes / unet_bytes, 4),
           'note': 'ratios, measured in one process; absolute seconds drift on a shared machine'}
    print(json.dumps(out, indent=1))
    if a.out: Path(a.out).write_text(json.dumps(out, indent=1) + '\n')

if __name__ == '__main__': main()
