#!/usr/bin/env python
"""How the `tiny` preset's AiR settings were chosen, and how far learned prompts can go on the toy world, measured on
data the report never scores: the world's own validation stream drawn in the shifted style (50 images per class),
with the shifted train split (200 images) as the unlabeled pool, as in `lgclip reproduce air-world`.

1. sweep: top-1 of GRIP-style and AiR-style textual prompts on that validation split for each learning rate x
   temperature (None: the toy CLIP's own logit scale) x paradigm x seed, the rest of the tiny schedule unchanged.
2. ceiling: prompts trained on the pool's *true* labels (the most any pseudo-label can give), shared and per class,
   and a linear probe on the frozen image features, against the frozen zero-shot CLIP on the same split.
Toy models trained on drawn shapes: the numbers show the method on a toy world, not the paper's.
Usage: python bench/air_world_val.py [--lrs 0.1,0.01,0.002] [--seeds 0,1] [--out bench/air_world_val.json]"""
import argparse, itertools, json, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lrs', default='0.1,0.01,0.002'); ap.add_argument('--temperatures', default='100,own')
    ap.add_argument('--paradigms', default='ul,ssl,trzsl'); ap.add_argument('--seeds', default='0,1')
    ap.add_argument('--out', default=str(Path(__file__).with_name('air_world_val.json')))
    a = ap.parse_args()
    from lgclip import LGCLIP
    from lgclip.air import air_data, air_settings, compare
    from lgclip.classify import TextClassifier, TEMPLATES
    from lgclip.data import ImageSet
    from lgclip.pipeline import make_config
    from lgclip.prompt_learning import TextualPrompts, TrainConfig, frozen_features, train_prompts, train_set
    from lgclip.world import WORLD, world_images
    t0 = time.perf_counter()
    cfg = make_config(None, preset='tiny', dataset='world-shifted', backbone='tiny')
    pool, test, _ = air_data(cfg)
    ims, _, ys = world_images(50, 'val', 'shifted')
    val = ImageSet('world-shifted-val', list(WORLD), list(zip(ims, ys.tolist())))
    assert val.classnames == pool.classnames, (val.classnames, pool.classnames)
    lg = LGCLIP.for_dataset(test, cfg)
    sweep = []
    for lr, temp, par, seed in itertools.product([float(x) for x in a.lrs.split(',')], a.temperatures.split(','),
                                                 a.paradigms.split(','), [int(s) for s in a.seeds.split(',')]):
        air = air_settings('tiny', lr=lr, temperature=None if temp == 'own' else float(temp), paradigm=par, seed=seed,
                           out_dir=tempfile.mkdtemp(prefix='lgclip-val-'))
        m = compare(pool, val, air, lg, progress=False)['metrics']
        key = 'harmonic' if par == 'trzsl' else 'top1'
        sweep.append(dict(lr=lr, temperature=temp, paradigm=par, seed=seed, **{k: round(v[key], 4) for k, v in m.items()}))
        print(json.dumps(sweep[-1]), flush=True)
    clip = lg.encoder.model()
    px = [x for x, _ in pool.items]; y = pool.labels.tolist()
    fp, fv = frozen_features(clip, px), frozen_features(clip, [x for x, _ in val.items])
    acc = lambda logits: round(float((torch.as_tensor(logits).argmax(1).numpy() == val.labels).mean()), 4)
    zs = TextClassifier(clip, pool.classnames, [f'a {lg.domain} of a {{}}.', *TEMPLATES])
    ceiling = {'zero_shot': acc(zs.logits(fv))}
    for per_class in (False, True):
        for lr, epochs in ((0.01, 20), (0.002, 3), (0.002, 20)):
            l = TextualPrompts(clip, pool.classnames, 4, per_class=per_class)
            train_prompts(l, train_set(pool=(px, y, 1.0, fp)), TrainConfig(epochs=epochs, batch_size=8, lr=lr,
                          warmup_epochs=1), progress=False)
            with torch.no_grad(): ceiling[f"true_labels_{'per_class' if per_class else 'shared'}_lr{lr}_e{epochs}"] = acc(l(fv))
    X, Xv = F.normalize(fp.float(), dim=-1), F.normalize(fv.float(), dim=-1)
    W = torch.zeros(X.shape[1], len(WORLD), requires_grad=True); b = torch.zeros(len(WORLD), requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=500); Y = torch.tensor(y)
    def closure():
        opt.zero_grad(); loss = F.cross_entropy(X @ W * 10 + b, Y) + 1e-3 * W.pow(2).sum(); loss.backward(); return loss
    opt.step(closure)
    with torch.no_grad(): ceiling['linear_probe'] = acc(Xv @ W * 10 + b)
    print(json.dumps(ceiling))
    mean = {}
    for r in sweep: mean.setdefault(f"{r['paradigm']} lr={r['lr']} T={r['temperature']}", []).append((r['grip'], r['air']))
    mean = {k: {'grip': round(float(np.mean([g for g, _ in v])), 4), 'air': round(float(np.mean([x for _, x in v])), 4)}
            for k, v in mean.items()}
    out = {'what': __doc__.split('\n')[0], 'note': "toy models trained on drawn shapes: the numbers show the method on "
           "a toy world, not the paper's", 'n_pool': len(pool), 'n_val': len(val), 'sweep': sweep,
           'mean_over_seeds': mean, 'ceiling': ceiling, 'torch': torch.__version__,
           'seconds': round(time.perf_counter() - t0, 1)}
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    print(f"wrote {a.out} ({out['seconds']} s)")

if __name__ == '__main__': main()
