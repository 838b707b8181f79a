"Notebooks saved through Jupyter's contents manager with the repo's .jupyter config stay byte-identical to the committed ones."
import copy, json, os, shutil, subprocess, sys
from pathlib import Path
import nbformat, pytest
from traitlets.config.loader import PyFileConfigLoader
from jupyter_server.services.contents.filemanager import FileContentsManager
from conftest import ROOT

CONFIG = ROOT/'.jupyter'/'jupyter_server_config.py'
NBS = sorted(p.relative_to(ROOT/'nbs') for p in (ROOT/'nbs').rglob('*.ipynb')
             if not any(q.startswith(('_', '.')) for q in p.relative_to(ROOT/'nbs').parts))

def _project(tmp_path) -> Path:
    "A copy of the repo's settings.ini and notebooks."
    shutil.copy(ROOT/'settings.ini', tmp_path/'settings.ini')
    shutil.copytree(ROOT/'nbs', tmp_path/'nbs', ignore=shutil.ignore_patterns('.*', '_*'))
    return tmp_path

def _as_jupyterlab_saves_it(model:dict) -> dict:
    "The model after a session in JupyterLab: kernel metadata, outputs, counts, widget state, UI cell metadata."
    m = copy.deepcopy(model); nb = m['content']
    nb['metadata']['kernelspec'] = {'display_name': 'Python 3 (ipykernel)', 'language': 'python', 'name': 'python3'}
    nb['metadata']['language_info'] = {'name': 'python', 'version': '3.11.7', 'mimetype': 'text/x-python'}
    nb['metadata']['widgets'] = {'application/vnd.jupyter.widget-state+json': {'state': {'abc': {'model_name': 'FloatProgressModel'}},
                                                                               'version_major': 2, 'version_minor': 0}}
    for i, cell in enumerate(nb['cells']):
        cell['metadata']['scrolled'] = True
        if cell['cell_type'] != 'code': continue
        cell['execution_count'] = i + 1
        cell['outputs'] = [nbformat.v4.new_output('stream', name='stdout', text='hello\n'),
                           nbformat.v4.new_output('display_data', {'application/vnd.jupyter.widget-view+json':
                                                                   {'model_id': 'abc', 'version_major': 2, 'version_minor': 0},
                                                                   'text/plain': 'prompts: 0/9'}),
                           nbformat.v4.new_output('execute_result', {'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>'},
                                                  execution_count=i + 1)]
    return m

def _manager(root, config=True):
    cfg = PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config() if config else None
    return FileContentsManager(root_dir=str(root), **({'config': cfg} if cfg else {}))

def test_notebooks_found():
    assert len(NBS) >= 10 and Path('experiments/lgclip_run.ipynb') in NBS

@pytest.mark.parametrize('nb', NBS, ids=[str(p) for p in NBS])
def test_saved_notebook_is_the_committed_one(tmp_path, nb):
    root = _project(tmp_path); path = f'nbs/{nb.as_posix()}'
    committed = (root/path).read_bytes(); cm = _manager(root)
    model = cm.get(path)
    cm.save(_as_jupyterlab_saves_it(model), path)
    assert (root/path).read_bytes() == committed

def test_without_the_config_the_file_changes(tmp_path):
    "The check can fail: saved without the hook, the outputs, language_info and widget state land in the file."
    root = _project(tmp_path); path = 'nbs/07_evaluate.ipynb'; committed = (root/path).read_bytes()
    cm = _manager(root, config=False)
    cm.save(_as_jupyterlab_saves_it(cm.get(path)), path)
    text = (root/path).read_text()
    assert (root/path).read_bytes() != committed and 'language_info' in text and 'widget-state' in text and 'hello' in text

def test_notebooks_outside_nbs_keep_their_outputs(tmp_path):
    root = _project(tmp_path); cm = _manager(root)
    model = _as_jupyterlab_saves_it(cm.get('nbs/07_evaluate.ipynb'))
    for path in ('scratch.ipynb', 'nbs/_runs/run1.ipynb'):
        (root/path).parent.mkdir(parents=True, exist_ok=True)
        cm.save(model, path)
        assert 'hello' in (root/path).read_text() and 'language_info' in json.loads((root/path).read_text())['metadata']

@pytest.mark.slow
@pytest.mark.skipif(os.environ.get('LGCLIP_BROWSER') != '1' or not Path('/usr/bin/chromium').is_file(),
                    reason='opt-in (LGCLIP_BROWSER=1): needs playwright and /usr/bin/chromium')
def test_jupyterlab_in_a_browser(tmp_path):
    "A real JupyterLab in headless Chromium: run all cells of the report, save; figures shown, file unchanged."
    pytest.importorskip('playwright')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'lab_check.py'), 'nbs/11_report.ipynb', '--shots', str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['images'] >= 4 and not res['changed_on_disk'] and res['tracebacks'] == 0

@pytest.mark.parametrize('nb', NBS, ids=[str(p) for p in NBS])
def test_committed_notebook_has_no_outputs(nb):
    "The project's decision (nbs/index.ipynb, 'Why the notebooks carry no outputs'): no outputs, counts or widget state."
    d = json.loads((ROOT/'nbs'/nb).read_text(encoding='utf-8'))
    code = [c for c in d['cells'] if c['cell_type'] == 'code']
    assert [i for i, c in enumerate(code) if c.get('outputs') or c.get('execution_count')] == []
    assert 'widgets' not in d['metadata'] and 'language_info' not in d['metadata']
