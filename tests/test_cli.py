"The `lgclip run` command end to end, and each bad input's clear error with nothing half-written."
import json, os, time
from pathlib import Path
import pytest
from PIL import Image
from conftest import lgclip_cli

def test_run_tiny_end_to_end(tmp_path, cache):
    out = tmp_path/'out'
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', out, '--max-per-class', 3)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ['bank.pt', 'grid.png', 'prompts.json', 'result.json']
    res = json.loads((out/'result.json').read_text())
    assert res['random_weights'] is False and res['toy_models'] is True and 'toy world' in res['note']
    assert set(res['metrics']) == {'lgclip', 'clip_text', 'fused'} and res['n_classes'] == 10 and res['n_test'] == 30
    assert res['dataset'] == 'world' and 'RANDOM WEIGHTS' not in r.stdout and 'toy models trained on drawn shapes' in r.stdout
    assert 'LGCLIP (prototypes)' in r.stdout and 'CLIP text zero-shot' in r.stdout and 'fused (alpha 0.6)' in r.stdout
    assert Image.open(out/'grid.png').size[1] == 10 * 64
    # a second run re-uses prompts, prototypes and features: no image is rendered again
    bank = Path(res['artifacts']['prototypes']); before = {p: p.stat().st_mtime_ns for p in bank.rglob('*.png')}
    r2 = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', tmp_path/'out2', '--max-per-class', 3)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in bank.rglob('*.png')} == before
    res2 = json.loads((tmp_path/'out2'/'result.json').read_text())
    assert res2['metrics'] == res['metrics']

def test_run_random_weights_says_so(tmp_path, cache):
    "The random-weight builders still run the whole method, and the run says its numbers are meaningless."
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', tmp_path/'o', '--max-per-class', 2, '--dataset', 'shapes',
                   '--llm', 'tiny-random', '--generator', 'tiny-random', '--backbone', 'tiny-random', '--steps', 2)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path/'o'/'result.json').read_text())
    assert res['random_weights'] is True and 'meaningless' in res['note'] and res['n_classes'] == 4
    assert 'RANDOM WEIGHTS' in r.stdout and 'toy models' not in r.stdout

BAD = [(['--dataset', 'nope'], "unknown dataset 'nope'"),
       (['--backbone', 'ViT-Q-1'], "unknown backbone 'ViT-Q-1'"),
       (['--generator', 'no-such-generator'], "unknown generator 'no-such-generator'"),
       (['--preset', 'huge'], "unknown preset 'huge'"),
       (['--n-prototypes', '0'], 'n_prototypes must be a positive integer, got 0'),
       (['--prompts-per-class', '-2'], 'prompts_per_class must be a positive integer, got -2'),
       (['--scales', '1,a'], "'1,a'"),
       (['--scales', '0'], "'0'"),
       (['--mode', 'median'], "unknown mode 'median'"),
       (['--device', 'gpu7'], "'gpu7'")]

@pytest.mark.parametrize('args,msg', BAD, ids=[a[1] for a, _ in BAD])
def test_bad_input_fails_clearly(tmp_path, cache, args, msg):
    out = tmp_path/'out'
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', out, *args)
    assert r.returncode == 2 and msg in r.stderr, r.stderr[-3000:]
    assert 'Traceback' not in r.stderr and not out.exists()

def test_paper_preset_offline_fails_fast(tmp_path):
    t = time.time()
    r = lgclip_cli('run', '--preset', 'paper', '--out-dir', tmp_path/'o')
    assert r.returncode == 2 and "LLM 'Qwen/Qwen2.5-1.5B-Instruct' is not on this machine" in r.stderr and '--llm DIR' in r.stderr
    r = lgclip_cli('run', '--preset', 'paper', '--llm', 'template', '--out-dir', tmp_path/'o')
    assert r.returncode == 2 and '--generator DIR' in r.stderr
    r = lgclip_cli('run', '--preset', 'paper', '--llm', 'template', '--generator', 'tiny', '--out-dir', tmp_path/'o')
    assert r.returncode == 2 and '--backbone ViT-B-32 --pretrained PATH' in r.stderr
    assert time.time() - t < 60 and not (tmp_path/'o').exists()

def test_prompt_file_with_unknown_classes(tmp_path, cache):
    f = tmp_path/'cupl.json'; f.write_text(json.dumps({'circle': ['a circle.'], 'cat': ['a cat.']}))
    r = lgclip_cli('run', '--quiet', '--preset', 'tiny-random', '--cache-dir', cache, '--out-dir', tmp_path/'o', '--prompts-file', f)
    assert r.returncode == 2 and "has no prompts for: 'square'" in r.stderr and not (tmp_path/'o').exists()

def test_prompt_file_is_checked(tmp_path, cache):
    "CuPL-style file: classes in another case, an extra class, refused prompts ('.', '', another class) filled from templates."
    f = tmp_path/'cupl.json'
    f.write_text(json.dumps({'Circle': ['a red circle on white paper.', '.'], 'SQUARE': ['a blue square, centered.', ''],
                             'star': ['a star next to a circle.'], 'triangle': ['a green triangle drawn in ink.'],
                             'background': ['clutter everywhere']}))
    r = lgclip_cli('run', '--quiet', '--preset', 'tiny-random', '--cache-dir', cache, '--out-dir', tmp_path/'o', '--prompts-file', f, '--max-per-class', '1')
    assert r.returncode == 0, r.stderr[-3000:]
    assert "1 classes not in the dataset left out: 'background'" in r.stderr and 'filled from templates' in r.stderr
    res = json.loads((tmp_path/'o'/'result.json').read_text())
    assert res['prompts'] == {'rejected': 3, 'filled_from_templates': 2 + 2 + 3 + 2}  # 3 per class
    prompts = json.loads((tmp_path/'o'/'prompts.json').read_text())
    assert prompts['circle'][0] == 'a red circle on white paper.' and 'a star next to a circle.' not in prompts['star']
    assert 'Loading' not in r.stderr and 'Writing model shards' not in r.stderr   # --quiet silences the libraries' bars

def test_prompt_file_not_utf8(tmp_path, cache):
    f = tmp_path/'p.json'; f.write_bytes('{"circle": ["un cercle évidé"]}'.encode('latin-1'))
    r = lgclip_cli('run', '--quiet', '--preset', 'tiny-random', '--cache-dir', cache, '--out-dir', tmp_path/'o', '--prompts-file', f)
    assert r.returncode == 2 and 'is not UTF-8 text' in r.stderr and 'Traceback' not in r.stderr

def _folder(root, corrupt=False, empty=False):
    for c, col in (('red', (220, 20, 20)), ('blue', (20, 20, 220))):
        (root/c).mkdir(parents=True)
        if empty: continue
        for i in range(2): Image.new('RGB', (40, 40), col).save(root/c/f'{i}.png')
    if corrupt: (root/'red'/'9.png').write_bytes(b'not a png at all')
    return root

def test_image_folder_run_and_bad_folders(tmp_path, cache):
    ok = _folder(tmp_path/'ok')
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', tmp_path/'o1', '--dataset', ok, '--llm', 'template')
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((tmp_path/'o1'/'result.json').read_text())['n_classes'] == 2
    bad = _folder(tmp_path/'bad', corrupt=True)
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', tmp_path/'o2', '--dataset', bad, '--llm', 'template')
    assert r.returncode == 2 and '9.png' in r.stderr and not (tmp_path/'o2'/'result.json').exists()
    empty = _folder(tmp_path/'empty', empty=True)
    r = lgclip_cli('run', '--quiet', '--cache-dir', cache, '--out-dir', tmp_path/'o3', '--dataset', empty)
    assert r.returncode == 2 and 'no images' in r.stderr and not (tmp_path/'o3').exists()
    for leftover in cache.rglob('*.tmp'): raise AssertionError(f'half-written file left: {leftover}')

def test_unexpected_error_is_one_line_with_the_traceback_on_request(tmp_path, monkeypatch, capsys):
    "A bug ends in one line and exit code 1; `--debug` anywhere, or LGCLIP_DEBUG=1, adds the traceback; Ctrl-C is 130."
    import lgclip.cli as cli, lgclip.pipeline as p
    def bug(*a, **k): raise ZeroDivisionError('division by zero')
    monkeypatch.setattr(p, 'check_models', bug)
    args = ['run', '--quiet', '--out-dir', str(tmp_path/'o')]
    assert cli.main(args) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('lgclip: error: unexpected ZeroDivisionError: division by zero')
    assert '--debug' in lines[0] and 'LGCLIP_DEBUG=1' in lines[0]
    for extra, env in ((['--debug'], None), ([], '1')):
        if env: monkeypatch.setenv('LGCLIP_DEBUG', env)
        assert cli.main([*args[:2], *extra, *args[2:]]) == 1
        err = capsys.readouterr().err
        assert 'Traceback (most recent call last)' in err and 'in bug' in err
        assert err.strip().splitlines()[-1] == lines[0]
    monkeypatch.delenv('LGCLIP_DEBUG')
    def stop(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(p, 'check_models', stop)
    assert cli.main(args) == 130 and 'run the same command again to resume' in capsys.readouterr().err
    assert not (tmp_path/'o').exists()

def test_cache_dir_holds_the_drawn_data(tmp_path, cache):
    "With --cache-dir and no --data-root, the drawn data set goes into that cache, where `lgclip cache check` sees it."
    import shutil
    from lgclip.models import tiny_clip, tiny_generator, tiny_llm
    for build in (tiny_clip, tiny_generator, tiny_llm): build(cache)
    shutil.copytree(cache/'models', tmp_path/'c'/'models', ignore=shutil.ignore_patterns('.*'))
    r = lgclip_cli('run', '--quiet', '--preset', 'tiny-random', '--llm', 'template', '--n-prototypes', '1', '--max-per-class', '1',
                   '--cache-dir', tmp_path/'c', '--out-dir', tmp_path/'o')
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path/'c'/'data'/'shapes'/'shapes.json').is_file()
    r = lgclip_cli('cache', 'check', '--cache-dir', tmp_path/'c')
    assert r.returncode == 0 and r.stdout.splitlines()[-1].startswith('summary: no bad entries'), r.stdout + r.stderr
