"`import lgclip` as a user's code would: LGCLIP from class names, bad class lists, resuming and sharding synthesis."
import json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from PIL import Image
from lgclip.core import LGCLIPError
from lgclip.pipeline import LGCLIP, Config
from lgclip.synthesis import Synthesizer, read_manifest

@pytest.mark.parametrize('names,msg', [([], 'empty'), (['cat', ' '], 'blank'), (['cat', 'Cat'], "duplicate class name 'Cat'"),
                                       ('cat', 'not the string')])
def test_bad_class_lists(names, msg):
    with pytest.raises(LGCLIPError, match=msg): LGCLIP(names)

def test_fit_predict_save_load(tmp_path, cache):
    m = LGCLIP(['circle', 'square'], cache_dir=str(cache), n_prototypes=2).fit(progress=False)
    Image.new('RGB', (30, 30), 'red').save(tmp_path/'x.png')
    imgs = [Image.new('RGB', (30, 30), 'red'), torch.rand(3, 30, 30), tmp_path/'x.png']
    pred = m.predict(imgs)
    assert len(pred) == 3 and set(pred) <= {'circle', 'square'}
    p = m.predict_proba(imgs); assert p.shape == (3, 2) and torch.allclose(p.sum(1), torch.ones(3))
    back = LGCLIP.load(m.save(tmp_path/'bank.pt'), cache_dir=str(cache))
    assert torch.equal(back.predict_proba(imgs), p) and back.predict(imgs) == pred
    with pytest.raises(LGCLIPError, match='not found'): m.predict([tmp_path/'missing.png'])

PROMPTS = {'circle': ['a drawing of a circle.'], 'square': ['a drawing of a square.', 'a square, plain background.']}

def _syn(cache, **kw): return Synthesizer('tiny-random', steps=2, guidance=3.0, size=32, cache_dir=cache, **{'batch_size': 2, **kw})

def test_interrupted_synthesis_resumes_with_at_most_one_batch(tmp_path, cache, monkeypatch):
    calls = {'n': 0}; real = Synthesizer.render
    def flaky(self, batch):
        calls['n'] += 1
        if calls['n'] == 3: raise KeyboardInterrupt   # stopped while rendering the third batch
        return real(self, batch)
    monkeypatch.setattr(Synthesizer, 'render', flaky)
    with pytest.raises(KeyboardInterrupt): _syn(tmp_path)(PROMPTS, n=5, progress=False)
    monkeypatch.setattr(Synthesizer, 'render', real)
    root = _syn(tmp_path).bank_dir(PROMPTS, 5, 0)
    assert len(list(root.rglob('*.png'))) == 4 and not list(root.rglob('*.tmp')) and not (root/'bank.json').exists()
    bank = _syn(tmp_path)(PROMPTS, n=5, progress=False)
    assert bank.made == 6 and (root/'bank.json').is_file() and len(read_manifest(root)) == 10

def test_sharded_synthesis_equals_single_process(tmp_path):
    one = _syn(tmp_path/'one')(PROMPTS, n=3, progress=False)
    for rank in (0, 1): _syn(tmp_path/'two')(PROMPTS, n=3, rank=rank, world_size=2, progress=False)
    two = _syn(tmp_path/'two').bank_dir(PROMPTS, 3, 0)
    files = lambda r: {p.relative_to(r): p.read_bytes() for p in sorted(r.rglob('*')) if p.is_file()}
    assert files(one.root) == files(two)

def test_accelerate_launch_two_processes(tmp_path):
    "`accelerate launch` with two CPU processes writes the same bank, each image once."
    env = {**os.environ, 'LGCLIP_CACHE': str(tmp_path/'c2')}
    bin = Path(sys.executable).parent
    cmd = [str(bin/'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', str(bin/'lgclip'), 'synthesize', '--quiet', '--preset', 'tiny-random', '--device', 'cpu']
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'process 0/2 made 8 images' in r.stdout and 'process 1/2 made 8 images' in r.stdout
    single = subprocess.run([str(bin/'lgclip'), 'synthesize', '--quiet', '--preset', 'tiny-random', '--device', 'cpu'], capture_output=True, text=True,
                            env={**os.environ, 'LGCLIP_CACHE': str(tmp_path/'c1')}, timeout=600)
    assert 'process 0/1 made 16 images' in single.stdout, single.stderr[-3000:]
    files = lambda r: {p.relative_to(r): p.read_bytes() for p in sorted(r.rglob('*')) if p.is_file()}
    assert files(tmp_path/'c2'/'prototypes') == files(tmp_path/'c1'/'prototypes')

def test_reduced_precision_path_on_cpu(cache):
    "The GPU path casts inputs to the tower's dtype and returns float32; bf16 on the CPU exercises the same code."
    import torch.nn.functional as F
    from lgclip.encoding import Encoder
    from lgclip.synthesis import Synthesizer
    imgs = [Image.new('RGB', (64, 64), 'red'), torch.rand(3, 50, 50)]
    e32 = Encoder('tiny-random', scales=(1, 2), device='cpu', dtype='fp32', cache_dir=cache).embed(imgs)
    low = Encoder('tiny-random', scales=(1, 2), device='cpu', dtype='bf16', cache_dir=cache)
    assert low.model().model.visual.conv1.weight.dtype == torch.bfloat16
    out = low.embed(imgs)
    assert out.dtype == torch.float32 and F.cosine_similarity(out, e32).min() > 0.97
    syn = Synthesizer('tiny-random', steps=2, guidance=3.0, size=32, device='cpu', dtype='bf16', cache_dir=cache)
    assert syn.ident['dtype'] == 'torch.bfloat16' and syn.ident != Synthesizer('tiny-random', steps=2, guidance=3.0, size=32, device='cpu', cache_dir=cache).ident
    assert syn._pipe().unet.dtype == torch.bfloat16
    bank = syn({'circle': ['a drawing of a circle.']}, n=2, progress=False)
    assert bank.made == 2 and all(Image.open(p).size == (32, 32) for p in bank.paths())
    from lgclip.models import load_llm
    from lgclip.prompts import LLMWriter
    llm = load_llm('tiny-random', 'cpu', 'bf16', cache)
    assert llm.model.dtype == torch.bfloat16
    w = LLMWriter(llm, max_tries=1, max_new_tokens=6, progress=False)
    w(['circle'], 2); assert len(w.rejected['circle']) == 2
