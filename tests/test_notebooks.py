"Every notebook's lesson cells, run as `nbdev_test` runs them (cells flagged gpu/net/slow are skipped)."
import subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT

NBS = sorted(p for p in (ROOT/'nbs').rglob('*.ipynb') if not any(part.startswith(('_', '.')) for part in p.relative_to(ROOT/'nbs').parts))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT/'nbs')) for p in NBS])
def test_notebook(nb):
    exe = Path(sys.executable).with_name('nbdev_test')
    r = subprocess.run([str(exe), '--path', str(nb)], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]

def test_notebooks_found():
    assert len(NBS) >= 10
