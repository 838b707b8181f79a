"""Jupyter server settings for working on lgclip: a notebook of `nbs/` is saved in the committed form.

Start JupyterLab from the repository root with this folder on Jupyter's config path:

    JUPYTER_CONFIG_PATH=$PWD/.jupyter jupyter lab

JupyterLab adds `language_info` and its own kernel name when it opens a notebook, and saves outputs, execution
counts and widget state with it. The pre-save hook below removes them before the file is written, then applies
`nbdev_clean` with the project's settings.ini, so a notebook opened, run and saved is byte-identical to the committed
one unless its source changed: `git status` stays clean. Outputs stay on screen; only the file is clean.
Notebooks outside the nbdev notebook folder, or under a folder whose name starts with `_` or `.` (run outputs),
are saved untouched."""
import configparser
from pathlib import Path

def _nbdev_settings(nb:Path):
    "The settings.ini section of the nbdev project whose notebook folder holds `nb`, or None."
    for d in nb.parents:
        ini = d/'settings.ini'
        if not ini.is_file(): continue
        cfg = configparser.ConfigParser(interpolation=None); cfg.read(ini, encoding='utf-8')
        s = cfg['DEFAULT']
        if 'lib_name' not in s: return None
        nbs = (d/s.get('nbs_path', 'nbs')).resolve()
        if not nb.is_relative_to(nbs) or any(p.startswith(('_', '.')) for p in nb.relative_to(nbs).parts[:-1]): return None
        return s
    return None

def clean_on_save(model, path, contents_manager, **kwargs):
    "Pre-save hook: a source notebook loses outputs, execution counts and widget state, then gets `nbdev_clean`'s form."
    if model.get('type') != 'notebook' or (model.get('content') or {}).get('nbformat') != 4: return
    s = _nbdev_settings((Path(contents_manager.root_dir)/path.strip('/')).resolve())
    if s is None: return
    from nbdev.clean import clean_nb
    nb = model['content']
    for cell in nb['cells']:
        if cell['cell_type'] == 'code': cell['outputs'], cell['execution_count'] = [], None
    nb['metadata'].pop('widgets', None)
    clean_nb(nb, s.getboolean('clear_all', False), s.get('allowed_metadata_keys', '').split(),
             s.get('allowed_cell_metadata_keys', '').split(), s.getboolean('clean_ids', True))

c = get_config()  # noqa: F821 (given by Jupyter's config loader)
c.FileContentsManager.pre_save_hook = clean_on_save
