"Synthesis: class names that must not steer paths, claims shared by processes, corrupt banks rebuilt, kills resumed."
import contextlib, io, json, os, re, signal, socket, subprocess, sys, threading, time
from pathlib import Path
import pytest, torch
from PIL import Image
from lgclip.core import LGCLIPError
from lgclip.models import load_generator
import lgclip.synthesis as S
from lgclip.synthesis import Synthesizer, slug, verify_cache, read_manifest
from conftest import lgclip_cli

@pytest.fixture(scope='module')
def gen():
    return load_generator('tiny-random', 'cpu')

PROMPTS = {'circle': ['a drawing of a circle.'], 'square': ['a drawing of a square.', 'a square, plain background.']}

def _syn(gen, cache, **kw):
    return Synthesizer(gen, steps=2, guidance=3.0, size=32, cache_dir=cache, **{'batch_size': 2, **kw})

def _files(root: Path) -> dict:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}

NASTY = ['..', '/', 'a/../../b', 'x' * 300, '猫', '犬', '.', 'CON', ' spaced out ']

def test_class_names_never_leave_their_bank(gen, tmp_path):
    prompts = {c: [f'a drawing of {c}.'] for c in NASTY}
    bank = _syn(gen, tmp_path)(prompts, n=1, progress=False)
    assert bank.made == len(NASTY)
    inside = [p.resolve() for p in bank.paths()]
    assert all(bank.root.resolve() in p.parents for p in inside) and len({p.parent for p in inside}) == len(NASTY)
    assert sorted(p.name for p in (tmp_path/'prototypes').iterdir()) == [bank.root.name]   # nothing beside the bank
    lines = (bank.root/slug('..')/'manifest.jsonl').read_text().splitlines()
    assert {json.loads(l)['classname'] for l in lines} == {'..'}
    other = _syn(gen, tmp_path)({'..': ['another prompt.']}, n=1, progress=False)   # a second bank with a '..' class
    assert other.root != bank.root and bank.paths()[0].read_bytes() != other.paths()[0].read_bytes()
    assert _syn(gen, tmp_path)(prompts, n=1, progress=False).made == 0 and verify_cache(tmp_path) == []

def test_image_size_is_checked_before_any_work(tmp_path, cache):
    with pytest.raises(LGCLIPError, match='image size 30 is not a multiple of 8'): Synthesizer(size=30)
    t = time.perf_counter()
    r = lgclip_cli('run', '--quiet', '--image-size', '30', '--cache-dir', cache, '--out-dir', tmp_path/'out')
    assert r.returncode == 2 and 'image size 30 is not a multiple of 8' in r.stderr and 'use 24 or 32' in r.stderr
    assert r.stderr.strip().count('\n') == 0 and not (tmp_path/'out').exists()

def _clean(gen, tmp_path):
    bank = _syn(gen, tmp_path/'clean')(PROMPTS, n=3, progress=False)
    return bank, _files(bank.root)

def _png(root, k): return sorted(root.glob('*/*.png'))[k]

BREAK = {   # how to damage a finished bank -> images the rebuild renders again
    'png_random_bytes': (lambda r: _png(r, 1).write_bytes(os.urandom(300)), 1),
    'png_another_valid_image': (lambda r: _png(r, 1).write_bytes(_png(r, 4).read_bytes()), 1),
    'png_truncated': (lambda r: _png(r, 2).write_bytes(_png(r, 2).read_bytes()[:40]), 1),
    'png_deleted': (lambda r: _png(r, 0).unlink(), 1),
    'manifest_truncated': (lambda r: (m := sorted(r.glob('*/manifest.jsonl'))[0]).write_text(m.read_text()[:30]), 0),
    'manifest_random_bytes': (lambda r: sorted(r.glob('*/manifest.jsonl'))[1].write_bytes(os.urandom(99)), 0),
    'bank_json_random_bytes': (lambda r: (r/'bank.json').write_bytes(os.urandom(64)), 0),
    'bank_json_of_another_request': (lambda r: (r/'bank.json').write_text(json.dumps({'n': 99})), 0),
    'record_truncated': (lambda r: (p := sorted((r/'batches').glob('*.json'))[1]).write_text(p.read_text()[:20]), 0),
}

@pytest.mark.parametrize('how', BREAK)
def test_a_damaged_bank_is_detected_set_aside_and_rebuilt(gen, tmp_path, how):
    bank, clean = _clean(gen, tmp_path)
    damage, rerendered = BREAK[how]; damage(bank.root)
    if how != 'record_truncated': assert verify_cache(tmp_path/'clean') != []   # the check sees it too
    err = io.StringIO()
    with contextlib.redirect_stderr(err): again = _syn(gen, tmp_path/'clean')(PROMPTS, n=3, progress=False)
    lines = err.getvalue().strip().splitlines()
    assert 1 <= len(lines) <= 2 and all(l.startswith('lgclip: warning:') for l in lines), lines
    assert again.made == rerendered
    assert {k: v for k, v in _files(bank.root).items() if '.corrupt' not in k.parts} == clean   # the same bytes again
    assert verify_cache(tmp_path/'clean') == []

def test_a_claim_of_a_killed_process_is_taken_over(gen, tmp_path):
    dead = subprocess.Popen([sys.executable, '-c', 'pass']); dead.wait()
    root = _syn(gen, tmp_path).bank_dir(PROMPTS, 3, 0); locks = tmp_path/'locks'/'synthesis'/root.name
    locks.mkdir(parents=True)
    for name in ('000000', f'proc-{socket.gethostname()}-{dead.pid}'):
        (locks/f'{name}.claim').write_text(json.dumps({'pid': dead.pid, 'host': socket.gethostname(), 'time': 0}))
    err = io.StringIO()
    with contextlib.redirect_stderr(err): bank = _syn(gen, tmp_path)(PROMPTS, n=3, progress=False)
    assert bank.made == 6 and 'taking it over' in err.getvalue() and not locks.exists()

def test_a_live_claim_is_waited_for_then_taken_over_when_its_process_dies(gen, tmp_path, monkeypatch):
    monkeypatch.setattr(S, 'POLL', 0.05)
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    root = _syn(gen, tmp_path).bank_dir(PROMPTS, 3, 0); locks = tmp_path/'locks'/'synthesis'/root.name
    locks.mkdir(parents=True)
    (locks/'000001.claim').write_text(json.dumps({'pid': sleeper.pid, 'host': socket.gethostname(), 'time': 0}))
    seen, t = [], []; real = Synthesizer.render
    def spy(self, batch):
        out = real(self, batch); seen.append(batch[0].file)
        if len(seen) == 2:   # the unclaimed batches are done: the claimed one's process dies 0.5 s into the wait
            t.append(time.perf_counter()); threading.Timer(0.5, lambda: (sleeper.kill(), sleeper.wait())).start()
        return out
    monkeypatch.setattr(Synthesizer, 'render', spy)
    with contextlib.redirect_stderr(io.StringIO()): bank = _syn(gen, tmp_path)(PROMPTS, n=3, progress=False)
    assert len(seen) == 3 and time.perf_counter() - t[0] >= 0.45   # it waited for the live claim
    assert bank.made == 6 and seen[-1] == bank.items[2].file   # batch 1 rendered last, once

def test_processes_on_one_bank_share_the_cores(gen, tmp_path, monkeypatch):
    "With another live process registered on the bank, each batch renders with half the torch threads."
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    try:
        root = _syn(gen, tmp_path).bank_dir(PROMPTS, 3, 0); locks = tmp_path/'locks'/'synthesis'/root.name
        locks.mkdir(parents=True)
        (locks/f'proc-{socket.gethostname()}-{sleeper.pid}.claim').write_text(
            json.dumps({'pid': sleeper.pid, 'host': socket.gethostname(), 'time': 0}))
        threads = []; real = Synthesizer.render
        def spy(self, batch): threads.append(torch.get_num_threads()); return real(self, batch)
        monkeypatch.setattr(Synthesizer, 'render', spy)
        before = torch.get_num_threads(); torch.set_num_threads(2)
        _syn(gen, tmp_path, device='cpu')(PROMPTS, n=3, progress=False)
        assert threads == [1, 1, 1] and torch.get_num_threads() == 2
        torch.set_num_threads(before)
    finally: sleeper.kill(); sleeper.wait()

def test_a_writer_error_stops_the_run_and_releases_its_claims(gen, tmp_path, monkeypatch):
    def full(*a, **k): raise OSError(28, 'No space left on device')
    monkeypatch.setattr(S, 'save_json', full)
    with pytest.raises(OSError, match='No space left'): _syn(gen, tmp_path)(PROMPTS, n=3, progress=False)
    assert not (tmp_path/'locks'/'synthesis').exists() or not list((tmp_path/'locks'/'synthesis').rglob('*.claim'))

def _fresh_cache(folder:Path, cache:Path) -> dict:
    "An empty cache at `folder` that shares the session's tiny models (so no process builds them again)."
    from lgclip.models import tiny_llm, tiny_generator
    tiny_llm(cache); tiny_generator(cache); folder.mkdir(parents=True); (folder/'models').symlink_to(cache/'models')
    return {**os.environ, 'LGCLIP_CACHE': str(folder), 'OMP_NUM_THREADS': '1'}

def test_two_processes_on_one_cache_render_each_image_once(tmp_path, cache):
    "Two `lgclip synthesize` started together on one cache: 16 images in all, each rendered once, a complete bank."
    env = _fresh_cache(tmp_path/'two', cache)
    cmd = [str(Path(sys.executable).with_name('lgclip')), 'synthesize', '--quiet', '--preset', 'tiny-random', '--device', 'cpu',
           '--batch-size', '1']
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    made = [int(re.search(r'made (\d+) images', o[0]).group(1)) for o in outs]
    assert sum(made) == 16, made
    banks = list((tmp_path/'two'/'prototypes').iterdir())
    assert len(banks) == 1 and len(read_manifest(banks[0])) == 16 and verify_cache(tmp_path/'two') == []

@pytest.mark.slow
def test_a_killed_synthesis_resumes_to_the_same_files(tmp_path, cache):
    "kill -9 while images are being written; the re-run takes over the dead process's claims and writes the same bytes."
    env = _fresh_cache(tmp_path/'killed', cache)
    exe = Path(sys.executable).with_name('lgclip')
    cmd = [str(exe), 'synthesize', '--quiet', '--device', 'cpu', '--batch-size', '1', '--n-prototypes', '6']
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    pngs = lambda: len(list((tmp_path/'killed').glob('prototypes/*/*/*.png')))
    while time.time() < deadline and p.poll() is None and pngs() < 3:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    whole = subprocess.run(cmd, env=_fresh_cache(tmp_path/'whole', cache), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0
    assert _files(tmp_path/'killed'/'prototypes') == _files(tmp_path/'whole'/'prototypes')
