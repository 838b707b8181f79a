"Encoding: open_clip's embedding at scale 1 on awkward images, unit norms, the feature store (hits, corruption, writers)."
import contextlib, io, json, os, random, subprocess, sys, textwrap
from pathlib import Path
import numpy as np
import pytest, torch
import torch.nn.functional as F
from PIL import Image
from lgclip.core import LGCLIPError
from lgclip.encoding import (Encoder, FeatureStore, verify_cache, decode_file, resample, crop_params, pack, grid_boxes,
                             split_preprocess, pil_to_uint8)
from lgclip.models import load_clip
from conftest import lgclip_cli

@pytest.fixture(scope='module')
def tiny():
    return load_clip('tiny', device='cpu')

@pytest.fixture(scope='module')
def awkward(tmp_path_factory) -> list[Path]:
    "Image files of the kinds that break preprocessing: not square, 1 pixel, smaller than the grid, gray, RGBA, palette"
    d = tmp_path_factory.mktemp('awkward'); rng = np.random.default_rng(0); out = []
    def noise(w, h, c=3): return rng.integers(0, 256, (h, w, c) if c > 1 else (h, w), dtype=np.uint8)
    specs = [('wide.jpg', Image.fromarray(noise(500, 375))), ('tall.png', Image.fromarray(noise(37, 210))),
             ('one_pixel.png', Image.fromarray(noise(1, 1))), ('tiny.png', Image.fromarray(noise(3, 2))),
             ('sliver.png', Image.fromarray(noise(1, 40))), ('gray.png', Image.fromarray(noise(60, 45, 1), 'L')),
             ('rgba.png', Image.fromarray(noise(50, 64, 4), 'RGBA')),
             ('palette.gif', Image.fromarray(noise(70, 52)).convert('P', palette=Image.Palette.ADAPTIVE))]
    for name, im in specs: im.save(d/name); out.append(d/name)
    return out

def _open_clip(clip, paths) -> torch.Tensor:
    "open_clip's own single-scale embedding: its preprocess of the RGB image (as torchvision loaders give it)"
    pre = clip.extra[0]
    with torch.inference_mode():
        x = torch.stack([pre(Image.open(p).convert('RGB')) for p in paths])
        return F.normalize(clip.model.encode_image(x).float(), dim=-1)

@pytest.mark.parametrize('resize_on', ['workers', 'device'])
def test_one_scale_is_open_clips_embedding_tiny(tiny, awkward, resize_on):
    enc = Encoder('tiny', scales=(1,), clip=tiny, device='cpu', resize_on=resize_on, workers=2, batch_size=3)
    e = enc.embed(awkward)
    assert (e - _open_clip(tiny, awkward)).abs().max() < 1e-5

def test_one_scale_is_open_clips_embedding_vit_b32(awkward):
    "A random-weight ViT-B-32 (224 px input, the paper's backbone shape) on a few of the awkward images."
    clip = load_clip('ViT-B-32', 'random', 'cpu'); some = [awkward[i] for i in (0, 2, 6, 7)]
    for resize_on in ('workers', 'device'):
        enc = Encoder('ViT-B-32', 'random', scales=(1,), clip=clip, device='cpu', resize_on=resize_on, workers=0)
        e = enc.embed(some)
        assert (e - _open_clip(clip, some)).abs().max() < 1e-5

def test_every_embedding_is_unit_norm_and_scales_beyond_the_image_work(tiny, awkward):
    "Issue 10, 2.2: a single scale other than 1 passed through unnormalised; 1-pixel images raised ZeroDivisionError."
    for scales in [(2,), (3,), (1, 2), (1, 2, 3)]:
        e = Encoder('tiny', scales=scales, clip=tiny, device='cpu', workers=0).embed(awkward)
        assert torch.isfinite(e).all() and torch.allclose(e.norm(dim=-1), torch.ones(len(awkward)), atol=1e-5)
    assert grid_boxes(1, 1, 4) == [(0, 0, 1, 1)] * 16

def test_device_resampling_is_pillow_bit_for_bit():
    "The GPU path's resampler against Pillow on random sizes and every cell of scales 1-3, both filters."
    from torchvision import transforms as T
    rng = np.random.default_rng(3)
    pics = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            for w, h in zip(rng.integers(1, 260, 12), rng.integers(1, 260, 12))]
    pixels, offs = pack([torch.from_numpy(np.array(p)) for p in pics])
    crops = [(i, b) for i, p in enumerate(pics) for k in (1, 2, 3) for b in grid_boxes(*p.size, k)]
    params = torch.cat([crop_params(*pics[i].size, [b], 48, offs[i]) for i, b in crops])
    for kind, mode in [('bicubic', T.InterpolationMode.BICUBIC), ('bilinear', T.InterpolationMode.BILINEAR)]:
        pil = T.Compose([T.Resize(48, interpolation=mode), T.CenterCrop(48)])
        theirs = pil_to_uint8([pil(pics[i].crop(b)) for i, b in crops])
        assert torch.equal(resample(pixels, params, 48, kind, budget=1 << 16), theirs), kind

def test_a_shuffled_subset_costs_no_forward_pass(tiny, awkward, tmp_path):
    enc = Encoder('tiny', scales=(1, 2), clip=tiny, device='cpu', cache_dir=tmp_path, batch_size=10)
    full = enc.encode(awkward, progress=False); n = enc.forward_passes
    assert n > 0
    for seed in range(3):
        idx = random.Random(seed).sample(range(len(awkward)), 4)
        assert torch.equal(enc.encode([awkward[i] for i in idx], progress=False), full[idx])
    fresh = Encoder('tiny', scales=(1, 2), clip=tiny, device='cpu', cache_dir=tmp_path)   # a new object, same cache
    assert torch.equal(fresh.encode(list(reversed(awkward)), progress=False), full.flip(0))
    assert enc.forward_passes == n and fresh.forward_passes == 0
    three = Encoder('tiny', scales=(1, 2, 3), clip=tiny, device='cpu', cache_dir=tmp_path, batch_size=1000)
    three.encode(awkward, progress=False)
    assert three.forward_passes == 1   # only scale 3 is computed, in one pass for all images

def _shards(enc): return enc.store().shards()

CORRUPTIONS = {
    'truncated': lambda p, other: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
    'overwritten': lambda p, other: p.write_bytes(os.urandom(len(p.read_bytes()))),
    'one_bit_flipped': lambda p, other: p.write_bytes((b := p.read_bytes())[:-5] + bytes([b[-5] ^ 1]) + b[-4:]),
    'valid_but_another_model': lambda p, other: p.write_bytes(other.read_bytes()),
    'valid_but_another_shard': lambda p, other: p.write_bytes(sorted(p.parent.glob('shard-*'))[-1].read_bytes()),
}

@pytest.mark.parametrize('how', CORRUPTIONS)
def test_a_bad_shard_is_set_aside_and_rebuilt(tiny, awkward, tmp_path, how):
    enc = Encoder('tiny', scales=(1, 2), clip=tiny, device='cpu', cache_dir=tmp_path, batch_size=10)
    clean = torch.cat([enc.encode(awkward[:4], progress=False), enc.encode(awkward[4:], progress=False)])
    other = FeatureStore(tmp_path/'features'/'v2'/'another-model').put({'x/1': torch.ones(32)})
    victim = _shards(enc)[0]; CORRUPTIONS[how](victim, other)
    err = io.StringIO()
    with contextlib.redirect_stderr(err): again = enc.encode(awkward, progress=False)
    assert torch.allclose(again, clean, atol=1e-5)
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and 'lgclip: warning:' in lines[0] and 'set aside' in lines[0], lines
    assert len(list((victim.parent/'.corrupt').iterdir())) == 1
    with contextlib.redirect_stderr(io.StringIO()): assert enc.encode(awkward, progress=False).shape == clean.shape
    assert verify_cache(tmp_path) == []

def test_verify_cache_reports_and_repairs(tiny, awkward, tmp_path):
    enc = Encoder('tiny', scales=(1,), clip=tiny, device='cpu', cache_dir=tmp_path)
    enc.encode(awkward, progress=False)
    (tmp_path/'features'/'0123456789abcdef.pt').write_bytes(b'old chunk')   # the format before issue 9
    shard = _shards(enc)[0]; shard.write_bytes(shard.read_bytes()[:100])
    found = verify_cache(tmp_path)
    assert sorted(p.name for p, _ in found) == sorted(['0123456789abcdef.pt', shard.name])
    with contextlib.redirect_stderr(io.StringIO()): verify_cache(tmp_path, repair=True)
    assert verify_cache(tmp_path) == [] and not shard.exists()

WRITER = textwrap.dedent('''
    import random, sys, torch
    import lgclip.encoding as E
    from pathlib import Path
    from lgclip.models import load_clip
    E.MAX_SHARDS = 2   # merge often, so the two processes merge while the other writes
    paths = sorted(Path(sys.argv[1]).glob('*.png')); clip = load_clip('tiny', device='cpu')
    enc = E.Encoder('tiny', scales=(1, 2), clip=clip, device='cpu', cache_dir=sys.argv[2], workers=0)
    for seed in range(5): enc.encode(random.Random(seed + int(sys.argv[3])).sample(paths, 5), chunk=1, progress=False)
    torch.save(enc.encode(paths, progress=False), sys.argv[4])
''')

def test_two_writers_on_one_cache_stay_safe(tiny, tmp_path):
    "Two processes encode overlapping subsets into one store at once, merging shards as they go."
    rng = np.random.default_rng(5); (tmp_path/'imgs').mkdir()
    for i in range(16):
        Image.fromarray(rng.integers(0, 256, (24, 30, 3), dtype=np.uint8)).save(tmp_path/'imgs'/f'{i}.png')
    (tmp_path/'w.py').write_text(WRITER)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    args = lambda k: [sys.executable, str(tmp_path/'w.py'), str(tmp_path/'imgs'), str(tmp_path/'cache'), str(k),
                      str(tmp_path/f'out{k}.pt')]
    procs = [subprocess.Popen(args(k), env=env, stderr=subprocess.PIPE, text=True) for k in (0, 100)]
    for p in procs: assert p.wait(timeout=300) == 0, p.stderr.read()[-3000:]
    a, b = torch.load(tmp_path/'out0.pt'), torch.load(tmp_path/'out100.pt')
    clean = Encoder('tiny', scales=(1, 2), clip=tiny, device='cpu', workers=0)
    clean = clean.embed(sorted((tmp_path/'imgs').glob('*.png')))
    assert torch.allclose(a, clean, atol=1e-5) and torch.allclose(b, clean, atol=1e-5)
    assert verify_cache(tmp_path/'cache') == []

@pytest.mark.parametrize('weights', ['heavy', [1, 'a'], [True, 1], {'a': 1}, [float('nan'), 1], 3, [1, 2, 3]])
def test_bad_scale_weights_are_named(weights):
    with pytest.raises(LGCLIPError, match='weights'): Encoder('tiny', scales=(1, 2), weights=weights)

def test_decompression_bomb_is_one_line(tmp_path, monkeypatch):
    Image.new('L', (64, 64)).save(tmp_path/'bomb.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)      # 4096 pixels: over twice the limit
    with pytest.raises(LGCLIPError, match='too large to decode safely'): decode_file(tmp_path/'bomb.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 3000)      # over the limit, under twice: a warning line
    err = io.StringIO()
    with contextlib.redirect_stderr(err): assert decode_file(tmp_path/'bomb.png').size == (64, 64)
    assert err.getvalue().count('\n') == 1 and 'over Pillow' in err.getvalue()

def test_a_bad_image_in_a_worker_is_one_line_on_the_command_line(tmp_path, cache):
    "A corrupt file among the test images: the worker's error comes back as one line, exit status 2."
    rng = np.random.default_rng(2)
    for c in ('circle', 'square'):
        (tmp_path/'data'/c).mkdir(parents=True)
        for i in range(12):
            Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(tmp_path/'data'/c/f'{i}.png')
    (tmp_path/'data'/'square'/'5.png').write_bytes(b'\x89PNG\r\n\x1a\n broken')
    r = lgclip_cli('run', '--quiet', '--dataset', tmp_path/'data', '--cache-dir', cache, '--out-dir', tmp_path/'out',
                   '--n-prototypes', 1, '--workers', 2)
    assert r.returncode == 2, r.stderr[-2000:]
    # the run's preflight opens every test image before the workers start, so the line comes from there
    assert r.stderr.strip().count('\n') == 0 and 'cannot be read' in r.stderr and '5.png' in r.stderr
    assert not (tmp_path/'out'/'result.json').exists()

def test_a_bad_image_in_a_worker_is_one_error(tiny, awkward, tmp_path):
    "Past the preflight (the API alone), a corrupt file decoded in a DataLoader worker comes back as one LGCLIPError."
    bad = tmp_path/'broken.png'; bad.write_bytes(b'\x89PNG\r\n\x1a\n broken')
    enc = Encoder('tiny', scales=(1,), clip=tiny, device='cpu', cache_dir=tmp_path, workers=2)
    with pytest.raises(LGCLIPError, match='cannot read image .*broken.png'):
        enc.encode([*awkward, bad], progress=False)

@pytest.mark.parametrize('value', ['-1', 'two'])
def test_bad_workers_setting_fails_fast(tmp_path, cache, value):
    r = lgclip_cli('run', '--quiet', '--workers', value, '--cache-dir', cache, '--out-dir', tmp_path/'out')
    assert r.returncode == 2 and 'workers' in r.stderr and not (tmp_path/'out').exists()
