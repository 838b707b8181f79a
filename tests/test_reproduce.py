"Grid files, the papermill batch (failures kept, resume) and `lgclip reproduce` (CPU, no network; ~40 s: each run starts a kernel)."
import json, pytest
from pathlib import Path
from lgclip.core import LGCLIPError
from lgclip.reproduce import expand_grid, list_grids, load_grid, main, reproduce, template_params

@pytest.fixture(scope='module')
def cache(tmp_path_factory): return tmp_path_factory.mktemp('cache')   # shared, so tiny models and prototypes are made once

def test_shipped_grids():
    assert list_grids() == ['air', 'air-paper', 'air-world', 'paper', 'tiny']
    paper = expand_grid(load_grid('paper'))
    assert len(paper) == 30 and {r['pretrained'] for r in paper} == {'openai'}
    assert paper[0]['run_id'] == 'caltech101__RN50' and paper[0]['n_prototypes'] == 16 and paper[0]['preset'] == 'paper'
    assert [r['run_id'] for r in expand_grid(load_grid('tiny'))] == ['world__tiny__s1', 'world__tiny__s12', 'world-shifted__tiny__s1', 'world-shifted__tiny__s12']

def test_grid_errors(tmp_path):
    with pytest.raises(LGCLIPError, match="unknown grid 'nope': give one of air, air-paper, air-world, paper, tiny"): load_grid('nope')
    with pytest.raises(LGCLIPError, match='unknown grid'): load_grid(tmp_path/'missing.toml')
    (tmp_path/'bad.toml').write_text('name = "bad"\npreset = "tiny"\ndatasets = ["shapes"]\n')
    with pytest.raises(LGCLIPError, match="lacks 'backbones'"): load_grid(tmp_path/'bad.toml')
    (tmp_path/'typo.toml').write_text('preset = "tiny"\ndatasets = ["shapes"]\nbackbone = ["tiny"]\n')
    with pytest.raises(LGCLIPError, match=r"unknown keys \['backbone'\]"): load_grid(tmp_path/'typo.toml')
    (tmp_path/'junk.toml').write_text('preset = \n')
    with pytest.raises(LGCLIPError, match='not valid TOML'): load_grid(tmp_path/'junk.toml')
    with pytest.raises(LGCLIPError, match='a backbone must be'): expand_grid(dict(preset='tiny', datasets=['a'], backbones=[{'pretrained': 'x'}]))
    with pytest.raises(LGCLIPError, match=r"unknown run ids \['x'\]"): reproduce('tiny', tmp_path, only=['x'])
    with pytest.raises(LGCLIPError, match="no Jupyter kernel named 'no-such-kernel'"): reproduce('tiny', tmp_path, kernel='no-such-kernel')

def test_template_parameters():
    assert {'dataset', 'backbone', 'pretrained', 'n_prototypes', 'scales', 'out_dir', 'cache_dir', 'settings'} <= set(template_params())

def test_bad_run_fails_alone(tmp_path, cache, capsys):
    (tmp_path/'mixed.toml').write_text('preset = "tiny"\ndatasets = ["nope", "shapes"]\nbackbones = ["tiny"]\n[params]\nscales = "1"\nmax_per_class = 2\n')
    code = main([str(tmp_path/'mixed.toml'), '--runs-dir', str(tmp_path/'runs'), '--cache-dir', str(cache), '--figures-dir', str(tmp_path/'fig')])
    assert code == 1
    out = capsys.readouterr().out
    assert '1 passed, 1 failed, 0 skipped' in out.splitlines()
    fails = [l for l in out.splitlines() if l.startswith('failed ')]   # one line per failed run, with its reason
    assert fails == [l for l in fails if l.startswith("failed nope__tiny: LGCLIPError: unknown dataset 'nope'")] and len(fails) == 1
    assert fails[0].endswith(f"(details: {tmp_path/'runs'/'mixed'/'nope__tiny.error.json'})")
    err = json.loads((tmp_path/'runs'/'mixed'/'nope__tiny.error.json').read_text())
    assert err['ename'] == 'LGCLIPError' and "'nope'" in err['evalue'] and 'nope' in err['traceback']
    assert (tmp_path/'runs'/'mixed'/'nope__tiny.ipynb').is_file()                     # the failing notebook is kept
    res = json.loads((tmp_path/'runs'/'mixed'/'shapes__tiny'/'result.json').read_text())
    assert res['n_test'] == 2 * res['n_classes'] and res['params']['scales'] == [1]   # `max_per_class` reached the run via `settings`
    summary = json.loads((tmp_path/'runs'/'mixed'/'summary.json').read_text())
    assert summary['failed'] == ['nope__tiny'] and summary['line'] == '1 passed, 1 failed, 0 skipped'
    assert (tmp_path/'fig'/'main_table.md').is_file()                                # the report covers the runs that passed

def test_tiny_grid_end_to_end_and_resume(tmp_path, cache, capsys):
    runs = tmp_path/'runs'
    s = reproduce('tiny', runs, only=['world__tiny__s1'], cache_dir=cache, progress=False)   # a batch killed after its first run
    assert (s['passed'], s['failed'], s['line']) == (['world__tiny__s1'], [], '1 passed, 0 failed, 0 skipped')
    nb = runs/'tiny'/'world__tiny__s1.ipynb'; t0 = nb.stat().st_mtime_ns
    code = main(['tiny', '--runs-dir', str(runs), '--cache-dir', str(cache), '--figures-dir', str(tmp_path/'fig'),
                 '--only', 'world__tiny__s1', 'world__tiny__s12'])   # the shifted runs are left out here: CI time
    assert code == 0 and nb.stat().st_mtime_ns == t0                                 # the finished run was skipped
    assert '2 passed, 0 failed, 1 skipped' in capsys.readouterr().out
    r2 = json.loads((runs/'tiny'/'world__tiny__s12'/'result.json').read_text())
    assert r2['preset'] == 'tiny' and r2['toy_models'] and not r2['random_weights'] and r2['params']['scales'] == [1, 2]
    assert r2['seconds']['synthesis'] < 0.5                                         # prototypes came from the shared cache
    assert (tmp_path/'fig'/'report.md').is_file() and (tmp_path/'fig'/'prototypes.png').is_file()
    assert 'tiny scales=1,2' in (tmp_path/'fig'/'main_table.md').read_text()

def test_grid_types_and_settings_checked_before_any_run(tmp_path):
    "One dataset may be written as a string; a bad setting in any run stops the batch before a file is written."
    (tmp_path/'one.toml').write_text('preset = "tiny"\ndatasets = "shapes"\nbackbones = "tiny"\n')
    assert [r['run_id'] for r in expand_grid(load_grid(tmp_path/'one.toml'))] == ['shapes__tiny']
    (tmp_path/'bad.toml').write_text('preset = "tiny"\ndatasets = ["shapes"]\nbackbones = ["tiny"]\n'
                                     '[variants]\nok = {}\nzero = { n_prototypes = 0 }\n')
    with pytest.raises(LGCLIPError, match="run 'shapes__tiny__zero': n_prototypes must be a positive integer, got 0"):
        reproduce(tmp_path/'bad.toml', tmp_path/'runs', progress=False)
    assert not (tmp_path/'runs').exists()

def test_run_config_leaves_no_temporary_folder(tmp_path):
    "`out_dir=None` (the template's smoke test) writes to a temporary folder that is gone when the process ends."
    import subprocess, sys
    code = "from lgclip.reproduce import run_config; import os; c = run_config('tiny'); print(c.out_dir, os.path.isdir(c.out_dir))"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env={**__import__('os').environ, 'TMPDIR': str(tmp_path)})
    out, made = r.stdout.split()
    assert r.returncode == 0 and made == 'True' and Path(out).parent == tmp_path and not Path(out).exists()
