"""The fault battery: every bad input a user can give ends in one line that names it, exit code 2 on the command
line or `LGCLIPError` from the API, no traceback, and nothing written. Most cases run `lgclip.cli.main` in this
process and must be refused before any model loads or any prompt is written (the `early` fixture makes a late
refusal fail the case); a few run the real console script."""
import json, math, os
from pathlib import Path
import pytest, torch
from PIL import Image
import lgclip.cli as cli
from lgclip.core import LGCLIPError
from conftest import lgclip_cli

@pytest.fixture(scope='module')
def t(tmp_path_factory) -> Path:
    "Bad files and folders of every kind, made once."
    t = tmp_path_factory.mktemp('bad')
    (t/'afile').write_text('a file, not a folder')
    (t/'notes.txt').write_text('these are not weights')
    (t/'noise.bin').write_bytes(os.urandom(4096))
    for d, files in {'gen_badjson': {'model_index.json': '{"_class_name": "StableDiffusionPipeline", "unet": ['},
                     'gen_empty': {}, 'llm_notok': {'config.json': '{"model_type": "llama"}'},
                     'llm_badjson': {'config.json': '{model_type: llama}'},
                     'clip_noweights': {'open_clip_config.json': json.dumps({'model_cfg': {'embed_dim': 8}})},
                     'clip_badjson': {'open_clip_config.json': '{"model_cfg": ', 'open_clip_model.safetensors': ''},
                     'pdir': {}}.items():
        (t/d).mkdir()
        for f, text in files.items(): (t/d/f).write_text(text)
    (t/'p_list.json').write_text('["a photo of a circle."]')
    (t/'p_nonstr.json').write_text(json.dumps({c: [1] for c in ('circle', 'square', 'star', 'triangle')}))
    (t/'p_empty.json').write_bytes(b'')
    for name, bad in (('imgs_bad', b'not a png at all'), ('imgs_zero', b''), ('imgs_text', b'hello\n')):
        for c, col in (('red', (220, 20, 20)), ('blue', (20, 20, 220))):
            (t/name/c).mkdir(parents=True)
            for i in range(2): Image.new('RGB', (40, 40), col).save(t/name/c/f'{i}.png')
        (t/name/'red'/'9.png').write_bytes(bad)
    return t

@pytest.fixture
def early(monkeypatch):
    "Make loading a model or writing prompts fail the case: a bad input must be refused before."
    import lgclip.models as m, lgclip.pipeline as p
    def late(*a, **k): raise AssertionError('refused too late: a model loaded or prompts were written first')
    for f in ('load_llm', 'load_generator', 'load_clip'): monkeypatch.setattr(m, f, late)
    monkeypatch.setattr(p.LGCLIP, 'write_prompts', late)

def _main(args, capsys) -> tuple[int, str]:
    try: rc = cli.main([str(a) for a in args])
    except SystemExit as e: rc = e.code   # argparse
    return rc, capsys.readouterr().err

def _clean(rc, err, msg, usage=False):
    assert rc == 2, (rc, err[-2000:])
    assert 'Traceback' not in err, err[-2000:]
    lines = [l for l in err.strip().splitlines() if not l.startswith('lgclip: warning:')]
    assert msg in lines[-1], (msg, err[-2000:])
    if usage: assert lines[0].startswith('usage:'), err[-2000:]   # argparse: its usage, then one error line
    else: assert len(lines) == 1, err[-2000:]

RUN = [  # (id, extra arguments of `lgclip run`, what the message must say); {t} is the folder of bad files
    ('cache-dir is a file', ['--cache-dir', '{t}/afile'], "cache_dir '{t}/afile' is a file"),
    ('cache-dir under a file', ['--cache-dir', '{t}/afile/sub'], "cache_dir '{t}/afile/sub' lies under '{t}/afile'"),
    ('out-dir is a file', ['--out-dir', '{t}/afile'], "out_dir '{t}/afile' is a file"),
    ('out-dir under a file', ['--out-dir', '{t}/afile/run'], "out_dir '{t}/afile/run' lies under '{t}/afile'"),
    ('data-root is a file', ['--data-root', '{t}/afile'], "data_root '{t}/afile' is a file"),
    ('dataset is a file', ['--dataset', '{t}/afile'], "dataset '{t}/afile' is a file"),
    ('prompts-file is a folder', ['--prompts-file', '{t}/pdir'], "prompts_file '{t}/pdir' is a folder"),
    ('prompts-file missing', ['--prompts-file', '{t}/missing.json'], 'no such prompts file: {t}/missing.json'),
    ('prompts-file a list', ['--prompts-file', '{t}/p_list.json'], '{t}/p_list.json is not a CuPL prompt file'),
    ('prompts-file non-text prompts', ['--prompts-file', '{t}/p_nonstr.json'], '{t}/p_nonstr.json is not a CuPL prompt file'),
    ('prompts-file empty', ['--prompts-file', '{t}/p_empty.json'], '{t}/p_empty.json is not valid JSON'),
    ('seed beyond 64 bits', ['--seed', str(2**64)], 'seed must be an integer 0..4294967295, got 18446744073709551616'),
    ('seed beyond 32 bits', ['--seed', str(2**40)], 'got 1099511627776'),
    ('seed negative', ['--seed', '-1'], 'seed must be an integer 0..4294967295, got -1'),
    ('guidance nan', ['--guidance', 'nan'], 'guidance must be a finite number, got nan'),
    ('guidance inf', ['--guidance', 'inf'], 'guidance must be a finite number, got inf'),
    ('guidance negative', ['--guidance', '-1'], 'guidance must be >= 0, got -1.0'),
    ('steps 0', ['--steps', '0'], 'steps must be a positive integer, got 0'),
    ('image-size not a multiple of 8', ['--image-size', '30'], 'image size 30 is not a multiple of 8'),
    ('image-size 0', ['--image-size', '0'], 'image_size must be a positive integer, got 0'),
    ('k 0', ['--k', '0'], 'k must be a positive integer, got 0'),
    ('max-per-class 0', ['--max-per-class', '0'], 'max_per_class must be a positive integer, got 0'),
    ('batch-size 0', ['--batch-size', '0'], 'batch_size must be a positive integer, got 0'),
    ('encode-batch-size -1', ['--encode-batch-size', '-1'], 'encode_batch_size must be a positive integer, got -1'),
    ('more template prompts than templates', ['--llm', 'template', '--prompts-per-class', '9'], 'prompts_per_class=9'),
    ('scales not integers', ['--scales', '1,2.5'], "scales must be grid sizes like '1,2', got '1,2.5'"),
    ('device meta', ['--device', 'meta'], "device 'meta' cannot run lgclip"),
    ('device absent GPU', ['--device', 'cuda:7'], "device 'cuda:7' asked for"),
    ('dtype unknown', ['--dtype', 'fp8'], "unknown dtype 'fp8'"),
    ('pretrained a text file', ['--backbone', 'ViT-B-32', '--pretrained', '{t}/notes.txt'],
     "pretrained '{t}/notes.txt' is not a weights file"),
    ('pretrained random bytes', ['--backbone', 'ViT-B-32', '--pretrained', '{t}/noise.bin'],
     "pretrained '{t}/noise.bin' is not a weights file"),
    ('pretrained a folder', ['--backbone', 'ViT-B-32', '--pretrained', '{t}/pdir'], "pretrained '{t}/pdir' is a folder"),
    ('backbone folder without weights', ['--backbone', 'local-dir:{t}/clip_noweights'], 'has no weights file'),
    ('backbone config not JSON', ['--backbone', 'local-dir:{t}/clip_badjson'], 'open_clip_config.json is not valid JSON'),
    ('generator index not JSON', ['--generator', '{t}/gen_badjson'], '{t}/gen_badjson/model_index.json is not valid JSON'),
    ('generator folder empty', ['--generator', '{t}/gen_empty'], "generator folder '{t}/gen_empty' (--generator) cannot"),
    ('LLM without tokenizer', ['--llm', '{t}/llm_notok'], "LLM folder '{t}/llm_notok' (--llm) cannot be loaded: it has no tokenizer"),
    ('LLM config not JSON', ['--llm', '{t}/llm_badjson'], '{t}/llm_badjson/config.json is not valid JSON'),
    ('test image corrupt', ['--dataset', '{t}/imgs_bad', '--llm', 'template'], 'test image {t}/imgs_bad/red/9.png'),
    ('test image empty', ['--dataset', '{t}/imgs_zero', '--llm', 'template'], 'test image {t}/imgs_zero/red/9.png'),
    ('test image is text', ['--dataset', '{t}/imgs_text', '--llm', 'template'], 'test image {t}/imgs_text/red/9.png'),
]
ARGPARSE = [('seed not a number', ['--seed', 'abc'], "argument --seed: invalid int value: 'abc'"),
            ('guidance not a number', ['--guidance', 'lots'], "argument --guidance: invalid float value: 'lots'")]

@pytest.mark.parametrize('args,msg', [c[1:] for c in RUN], ids=[c[0] for c in RUN])
def test_run_refuses(t, cache, args, msg, capsys, early):
    out, sub = t/'out', lambda s: s.replace('{t}', str(t))
    before = (t/'afile').read_text()
    rc, err = _main(['run', '--quiet', '--cache-dir', cache, '--out-dir', out, *map(sub, args)], capsys)
    _clean(rc, err, sub(msg))
    assert not out.exists() and (t/'afile').read_text() == before and not (t/'afile').is_dir()

@pytest.mark.parametrize('args,msg', [c[1:] for c in ARGPARSE], ids=[c[0] for c in ARGPARSE])
def test_run_refuses_unparsable(t, cache, args, msg, capsys):
    rc, err = _main(['run', '--quiet', '--cache-dir', cache, '--out-dir', t/'out', *args], capsys)
    _clean(rc, err, msg, usage=True)
    assert not (t/'out').exists()

GRIDS = [  # (id, grid file text, message); a valid grid is preset/datasets/backbones as below
    ('variants a list', 'variants = ["s1", "s2"]', "'variants' must be a table of named tables of settings, got ['s1', 's2']"),
    ('variant not a table', '[variants]\ns1 = 3', "variant 's1' must be a table of settings, got 3"),
    ('datasets a number', None, "'datasets' must be a list of names, got 3"),
    ('backbone a number', None, 'a backbone must be a name or a table'),
    ('params unknown setting', '[params]\ncolour = "red"', "unknown setting 'colour'"),
    ('params bad value', '[params]\nn_prototypes = 0', 'n_prototypes must be a positive integer, got 0'),
    ('params wrong type', '[params]\nn_prototypes = "four"', "n_prototypes must be a positive integer, got 'four'"),
    ('params not a table', 'params = 3', "'params' must be a table of settings, got 3"),
    ('params set an axis', '[params]\ndataset = "cifar10"', "'params' may not set 'dataset'"),
    ('variant unknown setting', '[variants]\ns1 = { colr = 1 }', "unknown setting 'colr'"),
    ('variant guidance nan', '[variants]\ns1 = { guidance = nan }', 'guidance must be a finite number, got nan'),
    ('preset unknown', None, "unknown preset 'huge'"),
    ('name with a path', None, "grid name '../escape'"),
    ('datasets empty', None, "lacks 'datasets'"),
]
_GRID = {'datasets a number': 'preset = "tiny"\ndatasets = 3\nbackbones = ["tiny"]\n',
         'backbone a number': 'preset = "tiny"\ndatasets = ["shapes"]\nbackbones = [1]\n',
         'preset unknown': 'preset = "huge"\ndatasets = ["shapes"]\nbackbones = ["tiny"]\n',
         'name with a path': 'name = "../escape"\npreset = "tiny"\ndatasets = ["shapes"]\nbackbones = ["tiny"]\n',
         'datasets empty': 'preset = "tiny"\ndatasets = []\nbackbones = ["tiny"]\n'}

@pytest.mark.parametrize('text,msg', [c[1:] for c in GRIDS], ids=[c[0] for c in GRIDS])
def test_reproduce_refuses_grid(tmp_path, cache, text, msg, capsys, request):
    f = tmp_path/'g.toml'
    f.write_text(_GRID.get(request.node.callspec.id) or 'preset = "tiny"\ndatasets = ["shapes"]\nbackbones = ["tiny"]\n' + text)
    rc, err = _main(['reproduce', f, '--runs-dir', tmp_path/'runs', '--cache-dir', cache, '--no-report'], capsys)
    _clean(rc, err, msg)
    assert not (tmp_path/'runs').exists() and not (tmp_path/'escape').exists()   # refused before any run file

def test_reproduce_refuses_non_utf8_grid(tmp_path, cache, capsys):
    f = tmp_path/'g.toml'; f.write_bytes('preset = "tiny"\ndatasets = ["caf\xe9"]\nbackbones = ["tiny"]\n'.encode('latin-1'))
    rc, err = _main(['reproduce', f, '--runs-dir', tmp_path/'runs', '--cache-dir', cache], capsys)
    _clean(rc, err, f"grid '{f}' is not UTF-8 text")
    assert not (tmp_path/'runs').exists()

@pytest.mark.parametrize('flag,value,msg', [('--runs-dir', 'afile', "runs_dir '{t}/afile' is a file"),
                                            ('--runs-dir', 'afile/runs', "runs_dir '{t}/afile/runs' lies under"),
                                            ('--cache-dir', 'afile', "cache_dir '{t}/afile' is a file"),
                                            ('--figures-dir', 'afile', "figures_dir '{t}/afile' is a file")])
def test_reproduce_refuses_paths(t, cache, flag, value, msg, capsys):
    args = {'--runs-dir': t/'runs', '--cache-dir': cache, '--figures-dir': t/'figs'} | {flag: t/value}
    rc, err = _main(['reproduce', 'tiny', *[x for kv in args.items() for x in kv]], capsys)
    _clean(rc, err, msg.replace('{t}', str(t)))
    assert not (t/'runs').exists() and (t/'afile').is_file()

@pytest.mark.parametrize('env,msg', [({'RANK': 'abc', 'WORLD_SIZE': '2'}, "RANK='abc' in the environment is not an integer"),
                                     ({'RANK': '0', 'WORLD_SIZE': '0'}, 'WORLD_SIZE=0 in the environment'),
                                     ({'RANK': '2', 'WORLD_SIZE': '2'}, 'RANK=2 is outside 0..1'),
                                     ({'RANK': '0', 'WORLD_SIZE': '2', 'LOCAL_RANK': 'x'}, "LOCAL_RANK='x'")])
def test_synthesize_refuses_launcher_environment(t, cache, env, msg, capsys, monkeypatch, early):
    for k, v in env.items(): monkeypatch.setenv(k, v)
    rc, err = _main(['synthesize', '--quiet', '--cache-dir', cache], capsys)
    _clean(rc, err, msg)

@pytest.mark.parametrize('args,msg,usage', [(['cache', 'clear', '--kind', 'nope'], "invalid choice: 'nope'", True),
                                            (['cache', 'check', '--cache-dir', '{t}/afile'], "cache_dir '{t}/afile' is a file", False)])
def test_cache_command_refuses(t, args, msg, usage, capsys):
    rc, err = _main([a.replace('{t}', str(t)) for a in args], capsys)
    _clean(rc, err, msg.replace('{t}', str(t)), usage=usage)

# -- the console script itself, in a subprocess: environment variables and a model file that is not one

@pytest.mark.parametrize('env,args,msg', [
    ({'LGCLIP_CACHE': '{t}/afile'}, ['run'], "$LGCLIP_CACHE '{t}/afile' is a file"),
    ({'LGCLIP_CACHE': '{t}/afile/c'}, ['run'], "$LGCLIP_CACHE '{t}/afile/c' lies under '{t}/afile'"),
    ({'RANK': 'one', 'WORLD_SIZE': '2'}, ['synthesize'], "RANK='one' in the environment is not an integer"),
    ({}, ['run', '--backbone', 'ViT-B-32', '--pretrained', '{t}/noise.bin'], "pretrained '{t}/noise.bin' is not a weights file")])
def test_console_script_refuses(t, cache, env, args, msg, monkeypatch):
    sub = lambda s: s.replace('{t}', str(t))
    for k, v in env.items(): monkeypatch.setenv(k, sub(v))
    if 'LGCLIP_CACHE' not in env: args = [*args, '--cache-dir', str(cache)]
    r = lgclip_cli(*map(sub, args), '--quiet', '--out-dir', t/'out', timeout=120)
    _clean(r.returncode, r.stderr, sub(msg))
    assert not (t/'out').exists()

# -- the API: LGCLIPError, naming the value

@pytest.fixture(scope='module')
def fitted(cache, tmp_path_factory):
    from lgclip.pipeline import LGCLIP
    m = LGCLIP(['circle', 'square'], cache_dir=str(cache), llm='template', n_prototypes=1, prompts_per_class=1)
    m.fit(progress=False)
    return m, m.save(tmp_path_factory.mktemp('bank')/'bank.pt')

def _bank(path, **change):
    "A copy of a saved bank with some of its entries changed."
    s = torch.load(path, weights_only=True) | change
    p = Path(path).with_name(f'changed-{len(list(Path(path).parent.iterdir()))}.pt'); torch.save(s, p)
    return p

def _api_cases():
    from lgclip.pipeline import LGCLIP, Config, run
    from lgclip.prompts import write_prompts
    names = ['circle', 'square']
    class Writer:   # a user's own prompt writer that returns something else than asked
        def __init__(self, out): self.out, self.ident = out, {'writer': 'mine', 'out': repr(out)}
        def __call__(self, classnames, n, seed=0): return self.out
    return [
        ('settings beside a config, unknown', lambda t, f: LGCLIP(names, Config(), colour=1), "unknown setting 'colour'"),
        ('config of the wrong type', lambda t, f: LGCLIP(names, 'tiny'), "config must be an lgclip Config, got str 'tiny'"),
        ('preset beside a config', lambda t, f: LGCLIP(names, Config(), preset='paper'), "preset='paper' given beside a config"),
        ('preset unknown', lambda t, f: LGCLIP(names, preset='huge'), "unknown preset 'huge'"),
        ('seed beyond 64 bits', lambda t, f: LGCLIP(names, seed=2**64), 'seed must be an integer 0..4294967295'),
        ('seed a string', lambda t, f: LGCLIP(names, seed='0'), "seed must be an integer, got '0'"),
        ('guidance nan', lambda t, f: LGCLIP(names, guidance=math.nan), 'guidance must be a finite number, got nan'),
        ('guidance a string', lambda t, f: LGCLIP(names, guidance='high'), "guidance must be a finite number, got 'high'"),
        ('scale weights a string', lambda t, f: LGCLIP(names, scale_weights='ab'),
         "scale_weights must be one non-negative number per scale, not all zero, got 'ab'"),
        ('scale weights too few', lambda t, f: LGCLIP(names, scales=(1, 2), scale_weights=(1,)),
         'scale_weights (1,) do not fit scales (1, 2)'),
        ('scale weights nan', lambda t, f: LGCLIP(names, scale_weights=(math.nan, 1)), 'got (nan, 1)'),
        ('scale weights all zero', lambda t, f: LGCLIP(names, scale_weights=(0, 0)), 'got (0, 0)'),
        ('n_prototypes a float', lambda t, f: LGCLIP(names, n_prototypes=2.5), 'n_prototypes must be a positive integer, got 2.5'),
        ('max_tries 0', lambda t, f: LGCLIP(names, max_tries=0), 'max_tries must be a positive integer, got 0'),
        ('download not a bool', lambda t, f: LGCLIP(names, download='yes'), "download must be True or False, got 'yes'"),
        ('fill unknown', lambda t, f: LGCLIP(names, fill='maybe'), "fill must be 'template' or 'error', got 'maybe'"),
        ('backbone not a string', lambda t, f: LGCLIP(names, backbone=3), 'backbone must be a non-empty string, got 3'),
        ('device meta', lambda t, f: LGCLIP(names, device='meta'), "device 'meta' cannot run lgclip"),
        ('cache_dir a file', lambda t, f: LGCLIP(names, cache_dir=str(t/'afile')), "cache_dir '{t}/afile' is a file"),
        ('run: settings unknown', lambda t, f: run(Config(), colour=1), "unknown setting 'colour'"),
        ('load: a text file', lambda t, f: LGCLIP.load(t/'notes.txt'), '{t}/notes.txt is not a prototype bank'),
        ('load: random bytes', lambda t, f: LGCLIP.load(t/'noise.bin'), '{t}/noise.bin is not a prototype bank'),
        ('load: a folder', lambda t, f: LGCLIP.load(t), "prototype bank '{t}' is a folder"),
        ('load: a torch file of something else', lambda t, f: LGCLIP.load(_torch_file(t, {'x': 1})), 'is not a prototype bank'),
        ('load: truncated', lambda t, f: LGCLIP.load(_truncated(t, f[1])), 'is not a prototype bank'),
        ('load: features changed', lambda t, f: LGCLIP.load(_bank(f[1], features=torch.zeros(2, 32))),
         'does not match the digest recorded when it was saved'),
        ('load: unknown saved settings', lambda t, f: LGCLIP.load(_with_setting(f[1], colour='red')),
         "saved with settings this lgclip does not know: ['colour']"),
        ('load: unknown override', lambda t, f: LGCLIP.load(f[1], colour='red'), "unknown setting 'colour'"),
        ('load: no LGCLIP settings', lambda t, f: LGCLIP.load(_plain_bank(t)), 'has no LGCLIP settings'),
        ('predict nothing', lambda t, f: f[0].predict([]), 'no images given'),
        ('predict a number', lambda t, f: f[0].predict(3), 'images must be a PIL image, a (3, H, W) tensor, a path, or a list'),
        ('predict None', lambda t, f: f[0].predict(None), 'got NoneType None'),
        ('predict a list with a number', lambda t, f: f[0].predict([Image.new('RGB', (8, 8)), 3]), 'image #1 is int 3'),
        ('predict a 2-channel tensor', lambda t, f: f[0].predict(torch.zeros(2, 8, 8)), '(2, 8, 8)'),
        ('save onto a folder', lambda t, f: f[0].save(t/'pdir'), "bank '{t}/pdir' is a folder"),
        ('save under a file', lambda t, f: f[0].save(t/'afile'/'bank.pt'), "'{t}/afile' is a file"),
        ('prompts: a writer returns empty prompts, fill=error',
         lambda t, f: write_prompts(['cat'], Writer({'cat': ['', '  ']}), n=1, fill='error'), "0/1 acceptable prompts for 'cat'"),
        ('prompts: a writer returns no dict', lambda t, f: write_prompts(['cat'], Writer(['a cat.']), n=1),
         "the prompt writer returned list, not {class: [prompts]}"),
        ('prompts: a writer leaves a class out', lambda t, f: write_prompts(['cat', 'dog'], Writer({'cat': ['a cat photo.']}), n=1),
         "the prompt writer returned no prompts for 'dog'"),
    ]

def _torch_file(t, obj): p = t/'other.pt'; torch.save(obj, p); return p
def _truncated(t, bank): p = t/'truncated.pt'; p.write_bytes(Path(bank).read_bytes()[:300]); return p
def _with_setting(bank, **kw):
    "The bank as a newer lgclip with one more setting would save it."
    from lgclip.classify import load_bank
    clf, meta = load_bank(bank); meta['config'] |= kw
    return clf.save(Path(bank).with_name('newer.pt'), meta)
def _plain_bank(t):
    from lgclip.classify import PrototypeClassifier
    return PrototypeClassifier(torch.eye(2), [0, 1], ['a', 'b']).save(t/'plain.pt')

API = _api_cases()

@pytest.mark.parametrize('call,msg', [c[1:] for c in API], ids=[c[0] for c in API])
def test_api_refuses(t, fitted, call, msg, capsys):
    with pytest.raises(LGCLIPError) as e: call(t, fitted)
    assert msg.replace('{t}', str(t)) in str(e.value), str(e.value)
    assert 'Traceback' not in capsys.readouterr().err and '\n' not in str(e.value)
    assert not (t/'pdir'/'bank.pt').exists() and (t/'afile').is_file()

def test_battery_size():
    "The battery covers every class of failure of issue 10 §4; this counts it for the report."
    n = len(RUN) + len(ARGPARSE) + len(GRIDS) + 1 + 4 + 4 + 2 + 4 + len(API)
    assert n >= 100, n

def test_every_setting_is_checked():
    "Each setting of Config refuses a value of no sensible type, by name: none passes unchecked to fail later."
    import dataclasses, re
    from lgclip.pipeline import Config
    for f in dataclasses.fields(Config):
        with pytest.raises(LGCLIPError) as e: dataclasses.replace(Config.from_preset('tiny'), **{f.name: object()}).check()
        assert re.search(rf"\b{f.name} must|unknown {f.name}\b|{f.name}=", str(e.value)), (f.name, str(e.value))

def test_settings_beside_a_config_apply(cache):
    "`LGCLIP(names, Config(), n_prototypes=9)` kept 4: settings given beside a config now apply on top of it."
    from lgclip.pipeline import LGCLIP, Config, make_config
    cfg = Config.from_preset('tiny', scales='1')
    m = LGCLIP(['cat', 'dog'], cfg, n_prototypes=9, seed=None)
    assert (m.config.n_prototypes, m.config.scales, m.config.seed, cfg.n_prototypes) == (9, (1,), 0, 8)
    assert make_config(None, preset='paper', llm='template').generator == 'sd15'
