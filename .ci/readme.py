#!/usr/bin/env python
"""Keep README.md in step with nbs/index.ipynb (no Quarto): markdown cells as they are, lesson code as Python blocks.
Usage: python .ci/readme.py          write README.md
       python .ci/readme.py --check  exit 1 when README.md differs from what index.ipynb gives"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]

def render(nb_path: Path) -> str:
    "README text from the index notebook: skip export/hide cells, keep markdown, fence other code."
    parts = []
    for cell in json.loads(nb_path.read_text(encoding='utf-8'))['cells']:
        src = ''.join(cell['source']).strip()
        if not src: continue
        if cell['cell_type'] == 'markdown': parts.append(src)
        elif not any(src.startswith(f) for f in ('#| default_exp', '#| export', '#| hide')):
            code = '\n'.join(l for l in src.splitlines() if not l.startswith(('test_eq', 'from fastcore.test')))
            parts.append(f'```python\n{code}\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(root/'nbs'/'index.ipynb'), root/'README.md'
    if '--check' in sys.argv:
        if readme.read_text(encoding='utf-8') != text: sys.exit('README.md is out of step with nbs/index.ipynb: run python .ci/readme.py')
    else: readme.write_text(text, encoding='utf-8')
