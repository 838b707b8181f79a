"Shared test set-up: no network, one throw-away lgclip cache for the session, the repo root."
import os, shutil, subprocess, sys, tempfile
from pathlib import Path
import pytest

os.environ['HF_HUB_OFFLINE'] = '1'   # tests never reach a model hub
_MADE = None   # the cache this session made, removed when it ends (a cache given in $LGCLIP_CACHE is kept)
if 'LGCLIP_CACHE' not in os.environ: _MADE = os.environ['LGCLIP_CACHE'] = tempfile.mkdtemp(prefix='lgclip-test-cache-')
ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='session')
def cache() -> Path:
    "The session's lgclip cache (tiny models are built there once)."
    return Path(os.environ['LGCLIP_CACHE'])

def lgclip_cli(*args, cwd=None, timeout=600):
    "Run the installed `lgclip` console script; return the CompletedProcess."
    exe = Path(sys.executable).with_name('lgclip')
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=os.environ.copy())

def pytest_addoption(parser):
    parser.addoption('--slow', action='store_true', default=False, help='also run tests marked slow (retraining, browsers)')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long tests (minutes); skipped unless --slow or LGCLIP_SLOW=1')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--slow') or os.environ.get('LGCLIP_SLOW') == '1': return
    skip = pytest.mark.skip(reason='slow: run with --slow or LGCLIP_SLOW=1')
    for it in items:
        if 'slow' in it.keywords: it.add_marker(skip)

def pytest_sessionfinish(session, exitstatus):
    if _MADE: shutil.rmtree(_MADE, ignore_errors=True)
