"`lgclip air`, `lgclip adapt`, `lgclip reproduce air`: every row, bad values in one line, adapters cached."
import json, os
from pathlib import Path
import pytest
from conftest import lgclip_cli
from lgclip.cli import main as cli_main
import lgclip.lora as lora

QUICK = ['--quiet', '--preset', 'tiny-random', '--iterations', '1', '--epochs', '1', '--max-per-class', '3', '--llm', 'template']
ROWS = ['CLIP', 'LGCLIP', 'fused', 'GRIP-style', 'AiR']

def test_air_writes_every_row(tmp_path, cache, capsys):
    out = tmp_path/'out'
    assert cli_main(['air', *QUICK, '--cache-dir', cache, '--out-dir', out]) == 0
    res = json.loads((out/'air.json').read_text())
    want = [(p, c) for p in ('ul', 'ssl', 'trzsl') for c in ROWS]
    assert [(r['paradigm'], r['classifier']) for r in res['rows']] == want
    for r in res['rows']:
        assert 0 <= r['top1'] <= 1
        assert ('harmonic' in r) == (r['paradigm'] == 'trzsl')
    assert res['random_weights'] is True and 'meaningless' in res['note'] and res['learner'] == 'textual'
    assert res['n_pool'] == 12 and res['n_test'] == 8 and 'one split' in res['pool']   # shapes: 3 + 2 of each class
    printed = capsys.readouterr().out.splitlines()
    assert sum(tuple(l.split()[:2]) in want for l in printed) == 15
    assert printed[-1].startswith('RANDOM WEIGHTS')

BAD = [(['--paradigm', 'fewshot'], "unknown paradigm 'fewshot'"),
       (['--prompts', 'deep'], "unknown prompts kind 'deep'"),
       (['--prompts', 'visual', '--backbone', 'RN50'], "backbone 'RN50' has a ResNet one: use textual prompts"),
       (['--iterations', '0'], 'iterations must be a positive integer'),
       (['--lora-steps', '-1'], 'lora_steps must be an integer >= 0')]

@pytest.mark.parametrize('args,msg', BAD, ids=[m for _, m in BAD])
def test_air_bad_values_fail_in_one_line(tmp_path, cache, capsys, args, msg):
    "In-process `lgclip.cli.main`, the console script's function (a subprocess each would add seconds of imports)."
    out = tmp_path/'out'
    rc = cli_main(['air', '--quiet', '--cache-dir', cache, '--out-dir', out, *args]); r = capsys.readouterr()
    assert rc == 2 and msg in r.err, r.err[-2000:]
    assert len(r.err.strip().splitlines()) == 1 and r.out == '' and not out.exists()

def _adapt(images, cache, capsys) -> str:
    args = ['adapt', '--images', images, '--domain-prompt', 'a simple drawing', '--steps', '2', '--batch-size', '1',
            '--cache-dir', cache, '--quiet', '--generator', 'tiny-random']
    assert cli_main(args) == 0
    return capsys.readouterr().out.splitlines()[0]

@pytest.fixture
def images(tmp_path):
    "Target images drawn afresh for each test: a seed of their own gives an adapter key no earlier session cached."
    from lgclip.data import make_shapes
    return make_shapes(tmp_path/'targets', n_per_class=2, seed=int.from_bytes(os.urandom(4), 'little') % 2**31)/'test'

def test_adapt_twice_trains_once(images, cache, capsys):
    first, second = _adapt(images, cache, capsys), _adapt(images, cache, capsys)
    assert 'trained 2 steps' in first and 'nothing trained' in second
    key = first.split()[1].rstrip(':')
    assert second.split()[1].rstrip(':') == key and (cache/'adapters'/key/lora.WEIGHTS).is_file()

def test_adapt_cache_check_catches_a_cache_that_never_hits(images, cache, capsys, monkeypatch):
    "Broken on purpose: a cache lookup that always misses trains again, which the test above would catch."
    monkeypatch.setattr(lora, '_finished', lambda folder, key: None)
    first, second = _adapt(images, cache, capsys), _adapt(images, cache, capsys)
    assert 'trained 2 steps' in second

def test_adapter_renders_other_prototypes(images, cache, tmp_path, capsys):
    from lgclip.pipeline import LGCLIP
    from lgclip.data import SHAPES
    c = cache; key = _adapt(images, c, capsys).split()[1].rstrip(':')
    small = dict(cache_dir=str(c), n_prototypes=1, llm='template', prompts_per_class=1, preset='tiny-random')
    plain = LGCLIP(SHAPES, **small).fit(progress=False)
    adapted = LGCLIP(SHAPES, **small, adapter=key).fit(progress=False)
    assert plain.bank.root != adapted.bank.root and plain.bank.random_weights and adapted.bank.random_weights
    assert f'lora:{key}' in (adapted.bank.root/'bank.json').read_text()
    r = lgclip_cli('run', '--quiet', '--preset', 'tiny-random', '--cache-dir', c, '--out-dir', tmp_path/'o', '--adapter', '0123abcd')
    assert r.returncode == 2 and "adapter '0123abcd' is neither" in r.stderr and not (tmp_path/'o').exists()

def test_reproduce_air_writes_the_air_table(tmp_path, cache):
    runs, figs = tmp_path/'runs', tmp_path/'figures'
    r = lgclip_cli('reproduce', 'air', '--runs-dir', runs, '--cache-dir', cache, '--figures-dir', figs, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert '1 passed, 0 failed, 0 skipped' in r.stdout and 'report: 4 files' in r.stdout
    res = json.loads((runs/'air'/'shapes__tiny-random'/'air.json').read_text())
    assert len(res['rows']) == 15 and res['params']['air']['iterations'] == 1
    table = (figs/'air_table.md').read_text().splitlines()
    assert 'random weights, accuracy meaningless' in table[0]
    body = [l for l in table if l.startswith('| shapes')]
    assert [l.split(' | ')[3:5] for l in body] == [[p, c] for p in ('UL', 'SSL', 'TRZSL') for c in ROWS]
    assert all(len(x.split('.')[-1]) == 1 for l in body for x in l.strip('| ').split(' | ')[5:] if x)   # one decimal

@pytest.mark.parametrize('args,msg', [([], '--domain-prompt is needed'),
                                      (['--domain-prompt', 'a drawing', '--rank', '0'], 'rank must be a positive')])
def test_adapt_bad_values_fail_in_one_line(images, cache, capsys, args, msg):
    rc = cli_main(['adapt', '--images', images, '--cache-dir', cache, '--quiet', *args]); r = capsys.readouterr()
    assert rc == 2 and msg in r.err and len(r.err.strip().splitlines()) == 1 and r.out == '', r.err[-2000:]
