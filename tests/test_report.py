"The report on hand-made result files: rows, values, files, byte-identical re-runs (CPU, no network, seconds)."
import pytest
from pathlib import Path
from PIL import Image
from lgclip.core import LGCLIPError, save_json
from lgclip.report import (PAPER, load_results, main_table, error_table, preset_title, result_tables, to_markdown, write_report)

def _result(dataset, backbone, lg, clip, pe=1, ie=2, both=1, n=4, preset='paper', random=False, **params):
    es = dict(n_classes=n, n_prompts=5*n, n_images=16*n, prompt_errors=pe, image_errors=ie, classes_with_prompt_errors=pe,
              classes_with_image_errors=ie, erroneous_classes=pe+ie-both, prompt_error_ratio=pe/n, image_error_ratio=ie/n,
              erroneous_class_ratio=(pe+ie-both)/n)
    return dict(lgclip_version='0.1.0', preset=preset, random_weights=random, note='', dataset=dataset, backbone=backbone,
                params=dict(dataset=dataset, backbone=backbone, pretrained='openai', scales=[1, 2], mode='mean', seed=0,
                            out_dir=f'/somewhere/{dataset}', **params),
                n_classes=n, n_test=100, metrics=dict(lgclip=dict(top1=lg, top5=.99, mean_per_class_recall=lg),
                clip_text=dict(top1=clip, top5=.98, mean_per_class_recall=clip)), error_stats=es,
                seconds=dict(total=12.0), artifacts=dict(grid='grid.png'))

@pytest.fixture
def runs(tmp_path):
    root = tmp_path/'runs'/'paper'
    for d, b, lg, cl, col in [('dtd', 'RN50', .45, .42, 'red'), ('dtd', 'ViT-B-32', .50, .44, 'red'), ('pets', 'RN50', .86, .85, 'blue')]:
        save_json(_result(d, b, lg, cl), root/f'{d}__{b}'/'result.json')
        Image.new('RGB', (48, 24), col).save(root/f'{d}__{b}'/'grid.png')
    return tmp_path/'runs'

def test_load_results(runs):
    df = load_results(runs)
    assert list(df['run']) == ['paper/dtd__RN50', 'paper/dtd__ViT-B-32', 'paper/pets__RN50']
    assert list(df['config']) == ['', '', '']   # out_dir differs between runs but is not a configuration
    assert df['delta'].round(3).tolist() == [0.03, 0.06, 0.01]
    assert df['erroneous_classes'].tolist() == [2, 2, 2]
    with pytest.raises(LGCLIPError, match='no result.json found'): load_results(runs/'empty')

def test_config_label_names_the_varying_parameter(tmp_path):
    for s in ('1', '1,2'): save_json(_result('shapes', 'tiny', .5, .25, preset='tiny', random=True) | {'params': {'scales': s}}, tmp_path/s/'result.json')
    df = load_results(tmp_path)
    assert list(df['model']) == ['tiny scales=1', 'tiny scales=1,2']
    assert preset_title(df) == 'tiny preset — random weights, accuracy meaningless'

def test_tables(runs):
    df = load_results(runs)
    mt = main_table(df)
    assert list(mt.index) == [('dtd', 'RN50'), ('dtd', 'ViT-B-32'), ('pets', 'RN50')]
    assert mt.loc[('dtd', 'ViT-B-32')].tolist() == [44.0, 50.0, 6.0, '—']
    assert not PAPER and 'paper column is empty' in mt.attrs['title'] and mt.attrs['title'].startswith('Top-1') and 'paper preset' in mt.attrs['title']
    et = error_table(df)
    assert et.loc[('pets', 'RN50'), 'prompt errors'] == 1 and et.loc[('pets', 'RN50'), 'erroneous class %'] == 50.0
    md = to_markdown(mt)
    assert '| dtd | ViT-B-32 | 44.0 | 50.0 | 6.0 | — |' in md and md.startswith('**Top-1 accuracy')

def test_result_tables():
    m, e = result_tables(_result('dtd', 'RN50', .45, .42, preset='tiny', random=True))
    assert m.loc['LGCLIP', 'top1'] == 45.0 and m.loc['CLIP zero-shot', 'top1'] == 42.0
    assert 'random weights' in m.attrs['title'] and e['n_classes'][0] == 4

def test_write_report_is_deterministic(runs, tmp_path):
    out = tmp_path/'figures'
    paths = write_report(runs, out)
    names = sorted(p.name for p in paths)
    assert names == sorted(['main_table.md', 'main_table.csv', 'main_table.tex', 'error_table.md', 'error_table.csv', 'error_table.tex',
                            'results.csv', 'report.md'] + [f'{f}.{e}' for f in ('accuracy', 'error_stats', 'prototypes') for e in ('png', 'pdf')])
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert '\\caption{Top-1 accuracy' in (out/'main_table.tex').read_text() and 'paper preset' in (out/'error_table.tex').read_text()
    first = {p.name: p.read_bytes() for p in paths}
    assert first == {p.name: p.read_bytes() for p in write_report(runs, out)}
    assert b'CreationDate' not in first['accuracy.pdf'] and b'Software' not in first['accuracy.png']

def test_import_keeps_the_backend():
    "Importing the report (or the CLI, which imports it) and drawing leaves the session's matplotlib backend and pyplot alone."
    import subprocess, sys, os
    code = ("import matplotlib, matplotlib.pyplot as plt; before = matplotlib.get_backend()\n"
            "import lgclip.cli, lgclip.report, lgclip.reproduce, pandas as pd\n"
            "from lgclip.report import new_figure, save_figure\n"
            "fig = new_figure(); fig.subplots().plot([0, 1])\n"
            "assert matplotlib.get_backend() == before, (before, matplotlib.get_backend())\n"
            "assert plt.get_fignums() == [], plt.get_fignums()\n"
            "print(before)")
    for backend in ('module://matplotlib_inline.backend_inline', 'svg'):
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=os.environ | {'MPLBACKEND': backend})
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.strip() == backend

def test_figures_are_returned_and_shown(runs, tmp_path):
    "Every figure function returns a figure that renders as PNG by itself, and saves only when given a path."
    from lgclip.report import plot_error_stats, plot_accuracy_heatmap, prototype_grid_figure
    df = load_results(runs)
    figs = [plot_error_stats(df), plot_accuracy_heatmap(df), prototype_grid_figure(runs)]
    assert all(f._repr_png_().startswith(b'\x89PNG') for f in figs)
    assert list(tmp_path.glob('*.png')) == []
    plot_error_stats(df, tmp_path/'e')
    assert sorted(p.name for p in tmp_path.glob('e.*')) == ['e.pdf', 'e.png']
