"AiR and GRIP from the API: the loss falls, killed runs resume without redoing work, bad inputs get one clear line."
import json, math
import numpy as np
import pytest, torch
from lgclip.core import LGCLIPError
from lgclip.data import ImageSet, image_folder, make_shapes
from lgclip.fusion import FusionClassifier, fuse_logits, select_pseudo_labels, load_pseudo_labels
from lgclip.models import load_clip
import lgclip.prompt_learning as plm
from lgclip.prompt_learning import TextualPrompts, VisualPrompts, TrainConfig, train_set, train_prompts
from lgclip.air import AiR, AiRConfig, compare, split_paradigm, k_schedule

QUICK = dict(iterations=2, epochs=3, warmup_epochs=1, batch_size=8, n_ctx=4)

@pytest.fixture(scope='module')
def world(tmp_path_factory):
    "A drawn training split (4 shapes x 10), a test split and drawn stand-ins for the prototypes, each its own seed."
    root = tmp_path_factory.mktemp('shapes')
    sets = {name: image_folder(make_shapes(root/name, n_per_class=n, seed=s)/'test', name=f'shapes-{name}')
            for name, n, s in (('train', 10, 1), ('test', 4, 2), ('protos', 3, 3))}
    return sets

@pytest.fixture(scope='module')
def clip(cache):
    return load_clip('tiny-random', device='cpu', cache_dir=cache)

def _air(world, cache, tmp_path, **kw):
    return AiR(world['train'].classnames, preset='tiny-random', prototypes=world['protos'], domain='simple drawing', cache_dir=str(cache),
               out_dir=str(tmp_path/'runs'), **{**QUICK, **kw})

def _labelled(world, n_classes=3):
    keep = [(x, y) for x, y in world['train'].items if y < n_classes][::2]
    return train_set(pseudo=([x for x, _ in keep], [y for _, y in keep], 1.0))

# GRIP's temperature of 100: a random-weight CLIP's own logit scale is open_clip's starting 14.3, too flat to fit in 8 epochs
LEARNERS = {'textual': lambda clip, names: TextualPrompts(clip, names, n_ctx=4, temperature=100),
            'textual-per-class': lambda clip, names: TextualPrompts(clip, names, n_ctx=4, per_class=True, temperature=100),
            'visual': lambda clip, names: VisualPrompts(clip, names, n_ctx=4, temperature=100)}

@pytest.mark.parametrize('kind', list(LEARNERS))
def test_training_lowers_the_loss(world, clip, kind):
    names = world['train'].classnames[:3]
    make = lambda: LEARNERS[kind](clip, names)
    cfg = dict(epochs=8, batch_size=4, warmup_epochs=2)
    res = train_prompts(make(), _labelled(world), TrainConfig(**cfg), progress=False)
    assert res.epochs_run == 8 and res.losses[-1] < 0.9 * res.losses[0], res.losses
    # the same check on a loop that cannot learn (learning rate 0): the loss stays put, so the check above would fail
    flat = train_prompts(make(), _labelled(world), TrainConfig(**{**cfg, 'lr': 0.0}), progress=False)
    assert not flat.losses[-1] < 0.9 * flat.losses[0]

def _kill_at(monkeypatch, n):
    "Make the n-th epoch from now raise KeyboardInterrupt, as a kill would; count the epochs that run."
    real, count = plm._epoch, {'n': 0}
    def epoch(*a, **k):
        count['n'] += 1
        if count['n'] == n: raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(plm, '_epoch', epoch)
    return count

@pytest.mark.parametrize('kind', ['textual', 'visual'])
def test_killed_training_resumes_from_its_last_epoch(world, clip, tmp_path, monkeypatch, kind):
    names, data, cfg = world['train'].classnames[:3], _labelled(world), TrainConfig(epochs=6, batch_size=4)
    whole = LEARNERS[kind](clip, names); ref = train_prompts(whole, data, cfg, progress=False)
    count = _kill_at(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        train_prompts(LEARNERS[kind](clip, names), data, cfg, tmp_path/'c.pt', progress=False)
    count['n'] = -100   # no more kills; from here on it only counts
    again = LEARNERS[kind](clip, names)
    res = train_prompts(again, data, cfg, tmp_path/'c.pt', progress=False)
    assert (res.resumed_from, res.epochs_run, count['n'] + 100) == (3, 3, 3)
    params = lambda m: torch.cat([p.detach().flatten() for p in m.parameters()])
    assert torch.allclose(params(again), params(whole), atol=1e-5) and np.allclose(res.losses, ref.losses, atol=1e-5)

def test_resume_count_catches_a_loop_that_forgets_its_checkpoint(world, clip, tmp_path, monkeypatch):
    "Broken on purpose: without checkpoints the second call redoes every epoch, which the count above would catch."
    names, data, cfg = world['train'].classnames[:3], _labelled(world), TrainConfig(epochs=6, batch_size=4)
    monkeypatch.setattr(plm, '_save', lambda *a, **k: None)
    _kill_at(monkeypatch, 4)
    with pytest.raises(KeyboardInterrupt):
        train_prompts(TextualPrompts(clip, names, n_ctx=4), data, cfg, tmp_path/'c.pt', progress=False)
    monkeypatch.undo(); monkeypatch.setattr(plm, '_save', lambda *a, **k: None)
    res = train_prompts(TextualPrompts(clip, names, n_ctx=4), data, cfg, tmp_path/'c.pt', progress=False)
    assert (res.resumed_from, res.epochs_run) == (0, 6)

def test_killed_air_run_resumes_without_redoing_rounds(world, cache, tmp_path, monkeypatch):
    count = _kill_at(monkeypatch, 5)   # rounds of 3 epochs: dies in round 2's second epoch
    with pytest.raises(KeyboardInterrupt): _air(world, cache, tmp_path).fit(world['train'], progress=False)
    assert count['n'] == 5
    count['n'] = -100
    m = _air(world, cache, tmp_path).fit(world['train'], progress=False)
    assert count['n'] + 100 == 2
    assert [(r['resumed_from'], r['epochs_run']) for r in m.history] == [(3, 0), (1, 2)]
    whole = _air(world, cache, tmp_path/'whole').fit(world['train'], progress=False)
    assert torch.allclose(m.learner.ctx, whole.learner.ctx, atol=1e-5)
    count['n'] = -100
    _air(world, cache, tmp_path).fit(world['train'], progress=False)
    assert count['n'] == -100   # finished: nothing trained again

def test_damaged_pseudo_labels_are_set_aside_and_rebuilt(world, cache, tmp_path, capsys):
    m = _air(world, cache, tmp_path).fit(world['train'], progress=False)
    f = m.run_dir/'pseudo_02.json'; good = f.read_text()
    d = json.loads(good); d['labels'][0] = (d['labels'][0] + 1) % 4; f.write_text(json.dumps(d))
    again = _air(world, cache, tmp_path).fit(world['train'], progress=False)
    assert 'does not match its digest' in capsys.readouterr().err
    assert load_pseudo_labels(f).labels == json.loads(good)['labels'] and list((m.run_dir/'.corrupt').iterdir())
    assert [r['epochs_run'] for r in again.history] == [0, 0]   # rebuilt the same, so round 2's checkpoint still fits

def test_pool_too_small_for_the_schedule(world, cache, tmp_path):
    small = ImageSet('small', world['train'].classnames, world['train'].items[:7])
    with pytest.raises(LGCLIPError, match='has 7 images, too few for 4 classes over 2 iterations'):
        _air(world, cache, tmp_path).fit(small, progress=False)
    with pytest.raises(LGCLIPError, match='has 7 images, too few for k=2'):
        select_pseudo_labels(torch.full((7, 4), 0.25), k=2)
    with pytest.raises(LGCLIPError, match='has 30 images, too few for 4 classes over 10'): k_schedule(30, 4, 10)

def test_class_with_no_pseudo_label_is_named():
    probs = torch.tensor([[.7, .2, .1], [.6, .3, .1], [.1, .1, .8]])
    with pytest.raises(LGCLIPError, match="class 'square' got no pseudo-label"):
        select_pseudo_labels(probs, None, classnames=['circle', 'square', 'star'])
    # GRIP's own rule can also leave a class empty: every later image beats the last of its class, none falls through
    stream = torch.tensor([[.6, .4], [.7, .3], [.8, .2]])
    with pytest.raises(LGCLIPError, match="class 'star' got no pseudo-label"):
        select_pseudo_labels(stream, 1, 'grip', classnames=['circle', 'star'])

def test_visual_prompts_on_a_resnet_tower(world, cache, tmp_path):
    "A local open_clip folder with a ResNet image tower: visual prompts refuse it in one line, textual ones train."
    from open_clip.model import CLIP
    from safetensors.torch import save_file
    cfg = {'embed_dim': 32, 'vision_cfg': {'image_size': 64, 'layers': [1, 1, 1, 1], 'width': 16},
           'text_cfg': {'context_length': 32, 'vocab_size': 49408, 'width': 32, 'heads': 2, 'layers': 1}}
    d = tmp_path/'rn'; d.mkdir()
    (d/'open_clip_config.json').write_text(json.dumps({'model_cfg': cfg, 'preprocess_cfg': {}}))
    save_file(CLIP(**cfg).state_dict(), d/'open_clip_model.safetensors')
    msg = r"visual prompts need a ViT image tower, but backbone .* has a ResNet \(ModifiedResNet\)"
    with pytest.raises(LGCLIPError, match=msg):
        _air(world, cache, tmp_path, learner='visual', backbone=f'local-dir:{d}').fit(world['train'], progress=False)
    m = _air(world, cache, tmp_path, learner='textual', backbone=f'local-dir:{d}', iterations=1, epochs=1)
    m.fit(world['train'], progress=False)
    assert len(m.predict(world['test'])) == len(world['test'])

@pytest.mark.parametrize('value', ['semi', 'UL-ish', 3, None])
def test_bad_paradigm_is_named(world, value):
    with pytest.raises(LGCLIPError, match=f"unknown paradigm {value!r}"): AiR(world['train'].classnames, preset='tiny-random', paradigm=value)
    with pytest.raises(LGCLIPError, match=f"unknown paradigm {value!r}"): split_paradigm(world['train'], value)

@pytest.mark.parametrize('value', [1.5, -0.1, 'half', float('nan'), True, None])
def test_bad_alpha_is_named(world, value):
    with pytest.raises(LGCLIPError, match=f"got {value!r}"): AiR(world['train'].classnames, preset='tiny-random', alpha=value)
    with pytest.raises(LGCLIPError, match=f"got {value!r}"): fuse_logits(torch.zeros(1, 2), torch.zeros(1, 2), value)

def test_paradigm_inputs(world, cache, tmp_path):
    s = split_paradigm(world['train'], 'ssl')
    with pytest.raises(LGCLIPError, match='UL learns from unlabeled images only'):
        _air(world, cache, tmp_path).fit(s.unlabeled, s.labeled, progress=False)
    with pytest.raises(LGCLIPError, match="paradigm 'trzsl' needs labeled images"):
        _air(world, cache, tmp_path, paradigm='trzsl').fit(s.unlabeled, progress=False)
    with pytest.raises(LGCLIPError, match='cover every class'):
        _air(world, cache, tmp_path, paradigm='trzsl').fit(s.unlabeled, s.labeled, progress=False)
    with pytest.raises(LGCLIPError, match="unknown setting 'epoch'"): AiR(world['train'].classnames, preset='tiny-random', epoch=3)

def test_trzsl_learns_on_unseen_pseudo_labels_and_reports_seen_unseen(world, cache, tmp_path):
    s = split_paradigm(world['train'], 'trzsl', seed=1)
    m = _air(world, cache, tmp_path, paradigm='trzsl', learner='visual').fit(s.unlabeled, s.labeled, progress=False)
    assert m.seen == s.seen and m.unseen == s.unseen
    for r in m.history:   # pseudo-labels only among the unseen classes
        assert [c for c, n in enumerate(r['pseudo_per_class']) if n] == s.unseen
    ev = m.evaluate(world['test'])
    for row in ev.values():
        u, v = row['seen'], row['unseen']
        assert math.isclose(row['harmonic'], 2 * u * v / (u + v) if u + v else 0.0)

def test_bf16_rounds_on_cpu(world, cache, tmp_path):
    "The low-precision path (autocast, float32 loss and prompts) of the GPU's fp16 one, on the CPU."
    m = _air(world, cache, tmp_path, amp='bf16', learner='visual').fit(world['train'], progress=False)
    assert m.learner.prompts.dtype == torch.float32 and all(math.isfinite(v) for r in m.history for v in r['losses'])
    with pytest.raises(LGCLIPError, match="amp='fp16' needs a CUDA device"):
        _air(world, cache, tmp_path, amp='fp16').fit(world['train'], progress=False)

def test_compare_writes_both_styles_and_the_baselines(world, cache, tmp_path):
    r = compare(world['train'], world['test'], prototypes=world['protos'], domain='simple drawing', progress=False,
                out_dir=tmp_path/'res', cache_dir=str(cache), paradigm='ssl', preset='tiny-random', **QUICK)
    saved = json.loads((tmp_path/'res'/'result.json').read_text())
    assert list(saved['metrics']) == ['clip_text', 'lgclip', 'fused', 'grip', 'air'] and saved['random_weights'] is True
    assert saved['n_labeled'] == 8 and saved['n_unlabeled'] == 32 and 'RANDOM WEIGHTS' in saved['note']
    assert {len(v['rounds']) for v in saved['runs'].values()} == {2}

def test_air_renders_its_own_prototypes(world, cache, tmp_path):
    "Without `prototypes`, AiR fits its LGCLIP (template prompts, the tiny generator) and uses the rendered bank."
    m = AiR(world['train'].classnames, preset='tiny-random', domain='simple drawing', cache_dir=str(cache), out_dir=str(tmp_path),
            llm='template', n_prototypes=2, **{**QUICK, 'iterations': 1, 'epochs': 1})
    m.fit(world['train'], progress=False)
    assert m.lgclip.bank is not None and len(m.lgclip.bank.items) == 8
    assert m._syn[1] == m.lgclip.bank.labels(m.classnames) and m.history[0]['n_pseudo'] == 40

def test_fusion_classifier_ends_are_the_two_classifiers():
    from lgclip.classify import PrototypeClassifier
    t = PrototypeClassifier(torch.tensor([[1., 0, 3], [0.5, 1, 3]]), [0, 1], ['x', 'y'])
    p = PrototypeClassifier(torch.tensor([[1., 0, 0], [0, 1, 0]]), [0, 1], ['x', 'y'])
    x = torch.randn(6, 3)
    assert torch.allclose(FusionClassifier(t, p, 0).predict_proba(x), t.predict_proba(x), atol=1e-5)
    assert torch.allclose(FusionClassifier(t, p, 1).predict_proba(x), p.predict_proba(x), atol=1e-5)
