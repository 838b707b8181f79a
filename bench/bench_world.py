#!/usr/bin/env python
"""The toy world's costs (issue 7): training seconds per toy model, read from the records the trainer wrote beside
the shipped weights (summed, and as `lgclip world train` schedules them: the LLM beside the CLIP, then the
generator; measurement after each model not included), and the `tiny` preset's run time with the toy models as a ratio to the same run with the
random-weight builders (`tiny-random`), the two measured side by side in one process, each in a fresh cache
(first run: prompts, synthesis and encoding all done) and again in the warm cache.
Usage: python bench/bench_world.py [--per-class 10] [--out bench/world.json]"""
import argparse, json, platform, tempfile, time
from pathlib import Path
import torch

def run_once(cache:Path, out:Path, random:bool, per_class:int) -> float:
    from lgclip.pipeline import Config, run
    names = dict(llm='tiny-random', generator='tiny-random', backbone='tiny-random') if random else {}
    cfg = Config.from_preset('tiny', max_per_class=per_class, cache_dir=str(cache), out_dir=str(out), **names)
    t = time.perf_counter(); run(cfg, progress=False); return time.perf_counter() - t

def main():
    p = argparse.ArgumentParser(); p.add_argument('--per-class', type=int, default=10)
    p.add_argument('--out', default='bench/world.json'); a = p.parse_args()
    from lgclip.models import toy_model, TOY_KINDS, TOY_RECORD
    recs = {k: json.loads((toy_model(k)/TOY_RECORD).read_text()) for k in TOY_KINDS}
    res = {'machine': platform.machine(), 'threads': torch.get_num_threads(), 'torch': torch.__version__,
           'training_seconds': {k: round(r['seconds']) for k, r in recs.items()},
           'training_machine': {k: r['machine'] for k, r in recs.items()},
           'training_sum_minutes': round(sum(r['seconds'] for r in recs.values())/60, 1),
           # `lgclip world train` trains the LLM in a second process beside the CLIP, then the generator
           'training_wall_minutes': round((max(recs['clip']['seconds'], recs['llm']['seconds'])
                                           + recs['generator']['seconds'])/60, 1)}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); t = {}
        for kind in ('toy', 'random'):   # cold: fresh cache; then warm: same cache, everything reused
            t[f'{kind}_cold'] = run_once(d/kind, d/f'{kind}-runs', kind == 'random', a.per_class)
        for kind in ('toy', 'random'):
            t[f'{kind}_warm'] = run_once(d/kind, d/f'{kind}-runs2', kind == 'random', a.per_class)
    res['tiny_run_seconds'] = {k: round(v, 2) for k, v in t.items()}
    res['tiny_run_ratio_toy_to_random'] = {'cold': round(t['toy_cold']/t['random_cold'], 2),
                                           'warm': round(t['toy_warm']/t['random_warm'], 2)}
    print(json.dumps(res, indent=1)); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
