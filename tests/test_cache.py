"""Corrupt cache entries (prompts, tiny model folders, the drawn data set, saved banks) are found when read, set aside
with one warning and rebuilt, so the next run gives what a clean one gives; `lgclip cache check|clear`; leftovers of
killed writers are swept from every cache folder; shared folders keep the umask's permissions."""
import json, os, shutil
from pathlib import Path
import pytest, torch
import lgclip.cli as cli
from lgclip.core import LGCLIPError, tmp_name

RUN = ['run', '--quiet', '--preset', 'tiny-random', '--llm', 'template', '--n-prototypes', '1', '--max-per-class', '2']

def _run(args, capsys=None) -> tuple[int, str, str]:
    rc = cli.main([str(a) for a in args]); c = capsys.readouterr() if capsys else None
    return rc, c and c.out, c and c.err

@pytest.fixture(scope='module')
def ran(cache, tmp_path_factory) -> Path:
    "A cache after one small run (prompts, prototypes, features, the drawn set), with the session's tiny models copied in."
    from lgclip.models import tiny_clip, tiny_generator, tiny_llm
    for build in (tiny_clip, tiny_generator, tiny_llm): build(cache)
    root = tmp_path_factory.mktemp('ran')
    shutil.copytree(cache/'models', root/'cache'/'models', ignore=shutil.ignore_patterns('.*'))
    assert _run([*RUN, '--cache-dir', root/'cache', '--out-dir', root/'clean'])[0] == 0
    return root

@pytest.fixture
def private(ran, tmp_path) -> Path:
    "This test's own copy of that cache."
    shutil.copytree(ran/'cache', tmp_path/'cache')
    return tmp_path/'cache'

def _result(out:Path) -> dict:
    r = json.loads((out/'result.json').read_text())
    return {k: r[k] for k in ('metrics', 'error_stats', 'prompts', 'seeds', 'n_test')}

def test_corrupt_entries_are_rebuilt_and_the_run_is_as_clean(ran, private, tmp_path, capsys):
    "After one run: a prompts file of junk, a truncated tiny-CLIP weight file, a changed test image; the next run warns once per entry and gives the same result."
    prompts = next(p for p in (private/'prompts').glob('*.json') if not p.name.endswith('.meta.json'))
    prompts.write_bytes(os.urandom(100))
    weights = private/'models'/'tiny-clip-v1'/'open_clip_model.safetensors'; good = weights.read_bytes()
    weights.write_bytes(good[:len(good) // 2])
    png = private/'data'/'shapes'/'test'/'star'/'0.png'; png.write_bytes(png.read_bytes()[:-40])
    rc, _, err = _run([*RUN, '--cache-dir', private, '--out-dir', tmp_path/'again'], capsys)
    assert rc == 0, err
    warned = [l for l in err.splitlines() if 'was corrupt' in l]
    assert len(warned) == 3 and all(l.startswith('lgclip: warning: ') for l in warned), err
    assert {n for n in ('prompts', 'tiny-clip-v1', 'shapes') if any(n in l for l in warned)} == {'prompts', 'tiny-clip-v1', 'shapes'}
    assert weights.read_bytes() == good                                   # rebuilt to the same bytes
    assert _result(tmp_path/'again') == _result(ran/'clean')
    assert len(list((private/'prompts'/'.corrupt').iterdir())) == 2       # the entry's two files, kept for a post-mortem

def test_corrupt_prompt_sidecar_and_old_entries(tmp_path, capsys):
    from lgclip.prompts import write_prompts, TemplateWriter, verify_cache
    w = TemplateWriter()
    ps = write_prompts(['cat', 'dog'], w, n=2, cache_dir=tmp_path)
    meta = ps.path.with_suffix('.meta.json')
    meta.write_text('{"rejected": {}, "filled": {}')                      # truncated JSON
    assert [why for _, why in verify_cache(tmp_path)] == [f'{meta.name} is unreadable (JSONDecodeError)']
    again = write_prompts(['cat', 'dog'], w, n=2, cache_dir=tmp_path)
    assert again.prompts == ps.prompts and verify_cache(tmp_path) == [] and 'was corrupt' in capsys.readouterr().err
    m = json.loads(meta.read_text()); del m['digest']; meta.write_text(json.dumps(m))   # an entry of an older lgclip
    assert 'records no digest' in verify_cache(tmp_path)[0][1]
    assert write_prompts(['cat', 'dog'], w, n=2, cache_dir=tmp_path).prompts == ps.prompts and verify_cache(tmp_path) == []

def test_model_folder_of_an_older_lgclip_is_rebuilt(private, capsys):
    from lgclip.models import tiny_llm, verify_cache, _MARK
    mark = private/'models'/'tiny-llm-v1'/_MARK
    rec = json.loads(mark.read_text()); files = rec.pop('files'); mark.write_text(json.dumps(rec))
    assert [why for _, why in verify_cache(private)] == [f'{_MARK} records no file digests (built by an older lgclip)']
    tiny_llm(private)
    assert json.loads(mark.read_text())['files'] == files and verify_cache(private) == []
    assert 'tiny-llm-v1 was corrupt' in capsys.readouterr().err

def test_saved_bank_checked_when_loaded(private, tmp_path):
    from lgclip.pipeline import LGCLIP
    from lgclip.data import SHAPES
    m = LGCLIP(SHAPES, cache_dir=str(private), domain='simple drawing', llm='template', n_prototypes=1).fit(progress=False)
    bank = m.save(tmp_path/'bank.pt')
    assert torch.allclose(LGCLIP.load(bank).classifier.features, m.classifier.features)
    s = torch.load(bank, weights_only=True); s['labels'] = s['labels'].flip(0); torch.save(s, tmp_path/'swapped.pt')
    with pytest.raises(LGCLIPError, match='does not match the digest recorded when it was saved'): LGCLIP.load(tmp_path/'swapped.pt')

def test_cache_check_repair_and_clear(private, tmp_path, capsys):
    rc, out, _ = _run(['cache', 'check', '--cache-dir', private], capsys)
    assert rc == 0 and out.splitlines()[-1].startswith('summary: no bad entries')
    assert {l.split()[0] for l in out.splitlines()[2:7]} == {'prompts', 'models', 'data', 'prototypes', 'features'}
    (private/'data'/'shapes'/'test'/'circle'/'1.png').unlink()
    rc, out, _ = _run(['cache', 'check', '--cache-dir', private], capsys)
    assert rc == 1 and f"bad: {private/'data'/'shapes'}: test/circle/1.png is missing" in out.splitlines()
    rc, out, err = _run(['cache', 'check', '--repair', '--cache-dir', private], capsys)
    assert rc == 0 and 'summary: 1 bad entries set aside; the next run rebuilds them' in out and not (private/'data'/'shapes').exists()
    rc, out, _ = _run(['cache', 'check', '--cache-dir', private], capsys)
    assert rc == 0 and 'set aside before: 1 entries' in out
    rc, out, _ = _run(['cache', 'clear', '--kind', 'corrupt', '--cache-dir', private], capsys)
    assert rc == 0 and not list(private.rglob('.corrupt'))
    (private/'data'/'cifar-10-batches-py').mkdir(parents=True)               # a data set downloaded into the cache
    rc, out, _ = _run(['cache', 'clear', '--cache-dir', private], capsys)
    assert rc == 0 and out.splitlines()[-1].startswith('summary: ') and 'downloaded data sets in data/ are kept' in out
    assert sorted(p.name for p in private.rglob('*') if p.is_file()) == [] and (private/'data'/'cifar-10-batches-py').is_dir()

def test_leftovers_of_killed_writers_are_swept(private, tmp_path, capsys):
    "A writer killed mid-write leaves `.NAME.PID.HOST.tmp`; the next run removes those of dead writers from every cache folder it uses."
    (tmp_path/'o').mkdir()
    dead = lambda p: p.with_name(tmp_name(p).name.replace(f'.{os.getpid()}.', '.999999999.'))
    bank = next((private/'prototypes').iterdir()); cls = next(d for d in bank.iterdir() if d.is_dir())
    left = [dead(private/'prompts'/'x.json'), dead(private/'models'/'tiny-clip-v1'), dead(private/'data'/'shapes'),
            dead(private/'features'/'f.pt'), dead(cls/'0000.png'), dead(tmp_path/'o'/'result.json')]
    for p in left: p.mkdir() if 'tiny' in p.name or 'shapes' in p.name else p.write_bytes(b'half')
    live = tmp_name(private/'prompts'/'y.json'); live.write_bytes(b'mine')       # this process is alive: kept
    rc, _, err = _run([*RUN, '--cache-dir', private, '--out-dir', tmp_path/'o'], capsys)
    assert rc == 0, err
    assert [p for p in left if p.exists()] == [] and live.exists()

def test_shared_folders_keep_the_umask(tmp_path):
    "Folders built whole and renamed into place (models, drawn sets) and the files in them get the umask's permissions."
    from lgclip.models import _materialize
    from lgclip.data import make_shapes
    old = os.umask(0o002)
    try:
        m = _materialize('toy', lambda d: (d/'w.bin').write_bytes(b'1'), tmp_path)
        s = make_shapes(tmp_path/'data', n_per_class=1, size=8)
    finally: os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in (m, m/'w.bin', s, s/'shapes.json')}
    assert modes == {'toy': '0o775', 'w.bin': '0o664', 'shapes': '0o775', 'shapes.json': '0o664'}

@pytest.mark.slow
def test_two_runs_on_one_fresh_cache(tmp_path):
    "Two `lgclip run` started together on an empty cache both succeed with identical results (models, prompts, data shared)."
    import subprocess, sys
    exe = Path(sys.executable).with_name('lgclip'); env = {**os.environ, 'LGCLIP_CACHE': str(tmp_path/'c')}
    ps = [subprocess.Popen([str(exe), *RUN, '--out-dir', str(tmp_path/f'o{i}')], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    outs = [p.communicate(timeout=900) for p in ps]
    assert [p.returncode for p in ps] == [0, 0], [o[1][-2000:] for o in outs]
    assert _result(tmp_path/'o0') == _result(tmp_path/'o1')
    assert not any('was corrupt' in o[1] for o in outs)
