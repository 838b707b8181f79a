"The toy world's models show the method working: floors on the world's test split that a broken pipeline misses."
import json
import numpy as np
import pytest
import torch
from lgclip import LGCLIP, Config
from lgclip.classify import PrototypeClassifier, TextClassifier, TEMPLATES
from lgclip.data import get_dataset, WORLD
from lgclip.evaluate import topk_accuracy
from lgclip.models import toy_model, TOY_RECORD, TOY_KINDS

# Floors, set from the measurement written in the closing note of the change that set them: on the plain test
# split (20 images per class here, 200 in all) the shipped toy models gave LGCLIP LG_MEASURED and CLIP text
# CLIP_MEASURED top-1; a floor sits 0.1 below each, far above chance (0.1) and far above what the broken pipelines
# below reach.
LG_MEASURED, CLIP_MEASURED = 0.890, 0.975   # tiny preset, seed 0, the toy generator retrained (3,000 UNet steps) on 2026-12-02 (fourth session)
LG_FLOOR, CLIP_FLOOR = LG_MEASURED - 0.1, CLIP_MEASURED - 0.1

@pytest.fixture(scope='module')
def world(cache):
    "The tiny preset fitted on the world's classes, its test images embedded, and CLIP's text classifier."
    ds = get_dataset('world', root=cache/'data', max_per_class=20)
    clf = LGCLIP.for_dataset(ds, Config.from_preset('tiny', cache_dir=str(cache))).fit(progress=False)
    feats = clf.encoder.encode([x for x, _ in ds.items], progress=False)
    feats1 = clf.encoder.encode([x for x, _ in ds.items], progress=False, scale=1)
    text = TextClassifier(clf.encoder.model(), ds.classnames, ['a simple drawing of a {}.', *TEMPLATES])
    return ds, clf, feats, feats1, text

def lgclip_top1(clf:PrototypeClassifier, feats, ds) -> float: return topk_accuracy(clf.logits(feats), ds.labels.tolist())

def test_floors(world):
    ds, clf, feats, feats1, text = world
    assert clf.toy_models() and not clf.random_weights()
    lg, ct = lgclip_top1(clf.classifier, feats, ds), topk_accuracy(text.logits(feats1), ds.labels.tolist())
    print(f'LGCLIP top-1 {lg:.3f}, CLIP text top-1 {ct:.3f}')
    assert lg >= LG_FLOOR and ct >= CLIP_FLOOR, (lg, ct)

def test_shuffled_prototype_labels_fall_to_chance(world):
    ds, clf, feats, _, _ = world
    c = clf.classifier
    labels = np.random.default_rng(0).permutation(c.labels.numpy())
    broken = PrototypeClassifier(c.features, labels.tolist(), c.classnames, c.mode, c.k)
    acc = lgclip_top1(broken, feats, ds)
    assert acc < LG_FLOOR and acc < 0.35, acc   # the floor check above would catch it

def test_unnormalised_prototypes_are_caught(world):
    """Class means left unnormalised, where each class's prototype features have their own norm (as raw tower outputs of
    brighter or darker renderings do), miss the floor: the classes with the longest means win."""
    ds, clf, feats, _, _ = world
    c = clf.classifier
    per_class = torch.from_numpy(np.random.default_rng(1).uniform(0.2, 5, len(c.classnames))).float()
    raw = c.features * per_class[c.labels][:, None]
    broken = PrototypeClassifier.__new__(PrototypeClassifier); broken.__dict__.update(c.__dict__)
    broken.means = torch.stack([raw[c.labels == k].mean(0) for k in range(len(c.classnames))])   # no F.normalize
    acc = lgclip_top1(broken, feats, ds)
    assert acc < LG_FLOOR, acc

def test_toy_records_match_the_files():
    for k in TOY_KINDS:
        rec = json.loads((toy_model(k)/TOY_RECORD).read_text())
        assert rec['kind'] == k and rec['measured'] and rec['seed'] == 0

def test_shipped_vocabulary_is_the_worlds():
    """The shipped CLIP and generator read the world's text with a tokenizer cut to the merges it uses: loaded as open_clip
    and diffusers load them, each text gets open_clip's full-vocabulary ids (mapped back), and the folders stay small."""
    import open_clip
    from transformers import CLIPTokenizer
    from lgclip.train import world_merges, world_texts, pruning_mismatches, kept_ids, clip_tokenizer
    merges, texts = world_merges(), world_texts()
    clip_tok = open_clip.get_tokenizer(f"local-dir:{toy_model('clip')}").tokenizer
    gen_tok = CLIPTokenizer.from_pretrained(str(toy_model('generator')/'tokenizer'))
    assert len(clip_tok) == len(kept_ids(merges)) < 3000
    for tok in (clip_tok, gen_tok):
        assert tok.get_vocab() == clip_tok.get_vocab()
        assert pruning_mismatches(tok, merges, texts) == []
    broken = [m for m in merges if ''.join(m) != 'heart</w>']   # a tokenizer cut one merge too far: caught
    assert pruning_mismatches(clip_tokenizer(32, broken), broken, texts)
    size = sum(f.stat().st_size for k in TOY_KINDS for f in toy_model(k).rglob('*') if f.is_file())
    assert size < 8e6, f'{size/1e6:.1f} MB'

@pytest.mark.slow
def test_retraining_from_scratch_meets_the_targets(tmp_path):
    from lgclip.train import train_world
    m = train_world(tmp_path, progress=False)
    assert m['clip']['top1_plain'] >= 0.90 and m['clip']['top1_shifted'] < m['clip']['top1_plain'] - 0.2
    assert m['llm']['first_round_pass_world'] >= 0.70
    assert m['generator']['own_class'] >= 0.80

@pytest.mark.parametrize('args,msg', [(['world', 'train'], 'one of the arguments --install --out is required'),
                                      (['world', 'train', '--out', 'x', '--only', 'vae'], "unknown toy model 'vae'"),
                                      (['world', 'train', '--out', 'x', '--threads', '0'], '--threads must be a positive integer'),
                                      (['world', 'train', '--out', 'x', '--recipes', '{bad'], '--recipes is not JSON'),
                                      (['world', 'train', '--out', 'x', '--recipes', '{"vae": {}}'],
                                       '--recipes must map clip, llm or generator')])
def test_world_train_bad_input(tmp_path, args, msg):
    from conftest import lgclip_cli
    r = lgclip_cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'x').exists()

def test_a_damaged_toy_model_is_named_not_loaded(tmp_path, monkeypatch):
    "A shipped toy file changed on disk (here: the LLM's weights truncated) is refused in one line naming it."
    import shutil
    import lgclip.models as M
    from lgclip.core import LGCLIPError
    shutil.copytree(toy_model('llm'), tmp_path/'llm')
    monkeypatch.setattr(M, 'weights_dir', lambda: tmp_path)
    assert M.toy_model('llm') == tmp_path/'llm'
    w = tmp_path/'llm'/'model.safetensors'; w.write_bytes(w.read_bytes()[:100])
    with pytest.raises(LGCLIPError, match=r"the toy llm in .* is damaged: model.safetensors .*lgclip world train --install"):
        M.load_llm('tiny')
    shutil.rmtree(tmp_path/'llm')
    with pytest.raises(LGCLIPError, match="the toy llm is not in this install"): M.toy_model('llm')
