"Bad inputs and offline behaviour of lgclip.data (CPU, no network, seconds)."
import numpy as np, pytest
from pathlib import Path
from PIL import Image
from lgclip.core import LGCLIPError
from lgclip.data import (DATASETS, SHAPES, ImageSet, dataset_info, get_dataset, image_folder, load_image, make_shapes)

def _img(path, colour='gray', size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True); Image.new('RGB', size, colour).save(path); return path

def test_unknown_dataset():
    with pytest.raises(LGCLIPError, match="unknown dataset 'imagenet9'.*cifar10.*shapes.*image folder"): dataset_info('imagenet9')
    with pytest.raises(LGCLIPError, match='unknown dataset'): get_dataset('no/such/folder')

def test_corrupt_and_missing_image(tmp_path):
    (tmp_path/'x.png').write_bytes(b'\x89PNG garbage bytes')
    with pytest.raises(LGCLIPError, match='x.png'): load_image(tmp_path/'x.png')
    with pytest.raises(LGCLIPError, match='not found.*y.jpg'): load_image(tmp_path/'y.jpg')
    good = _img(tmp_path/'a'/'ok.png'); (tmp_path/'a'/'zz.png').write_bytes(b'junk')
    s = image_folder(tmp_path)  # a set with a corrupt file fails on that file, when it is read
    assert s[0][0].mode == 'RGB'
    with pytest.raises(LGCLIPError, match='zz.png'): s[1]

def test_truncated_image(tmp_path):
    p = _img(tmp_path/'t.jpg', 'red', (64, 64)); p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(LGCLIPError, match='t.jpg'): load_image(p)

def test_folder_errors(tmp_path):
    with pytest.raises(LGCLIPError, match='does not exist'): image_folder(tmp_path/'missing')
    with pytest.raises(LGCLIPError, match='no class folders'): image_folder(tmp_path)
    (tmp_path/'cat').mkdir(); (tmp_path/'cat'/'notes.txt').write_text('hi')
    with pytest.raises(LGCLIPError, match=r'no images in .*cat'): image_folder(tmp_path)
    with pytest.raises(LGCLIPError, match='no images in'): get_dataset(str(tmp_path))
    _img(tmp_path/'cat'/'1.PNG')
    with pytest.raises(LGCLIPError, match='2 class names given for 1'): image_folder(tmp_path, ['a', 'b'])

def test_image_folder_order_and_names(tmp_path):
    for c in ['b_dog', 'a_cat']:
        for i in [10, 2, 1]: _img(tmp_path/c/f'{i}.jpg')
    s = get_dataset(tmp_path, max_per_class=2)
    assert s.classnames == ['a cat', 'b dog'] and s.labels.tolist() == [0, 0, 1, 1]
    assert [Path(p).name for p, _ in s.items] == ['1.jpg', '2.jpg'] * 2

def test_imageset_checks():
    with pytest.raises(LGCLIPError, match='label 2'): ImageSet('x', ['a', 'b'], [(Image.new('RGB', (2, 2)), 2)])
    with pytest.raises(LGCLIPError, match='duplicate'): ImageSet('x', ['a', 'A'], [])
    s = ImageSet('x', ['a'], [(0, 0)], source=lambda i: Image.new('L', (2, 2)))
    assert s[0][0].mode == 'RGB' and s.labels.dtype == np.int64

@pytest.mark.parametrize('name', [n for n in DATASETS if n != 'shapes'])
def test_registry_without_data(tmp_path, name):
    with pytest.raises(LGCLIPError, match=rf"{name}.*{tmp_path}.*download=True.*--data-root"): get_dataset(name, root=tmp_path)

def test_unknown_split(tmp_path):
    with pytest.raises(LGCLIPError, match="unknown split 'dev'"): get_dataset('cifar10', root=tmp_path, split='dev')
    with pytest.raises(LGCLIPError, match="unknown split 'train' for shapes"): get_dataset('shapes', root=tmp_path, split='train')

def _bytes(p): return {str(f.relative_to(p)): f.read_bytes() for f in sorted(p.rglob('*.png'))}

def test_make_shapes_deterministic_idempotent(tmp_path):
    a, b = make_shapes(tmp_path/'a', 3, 32, seed=5), make_shapes(tmp_path/'b', 3, 32, seed=5)
    assert _bytes(a) == _bytes(b) and len(_bytes(a)) == 12
    assert _bytes(make_shapes(tmp_path/'c', 3, 32, seed=6)) != _bytes(a)
    stamps = {f: f.stat().st_mtime_ns for f in a.rglob('*.png')}
    assert make_shapes(tmp_path/'a', 3, 32, seed=5) == a
    assert {f: f.stat().st_mtime_ns for f in a.rglob('*.png')} == stamps
    make_shapes(tmp_path/'a', 2, 32, seed=5)  # other parameters replace the set whole
    assert len(_bytes(a)) == 8 and sorted(p.name for p in (tmp_path/'a').iterdir()) == ['shapes']
    with pytest.raises(LGCLIPError, match='size'): make_shapes(tmp_path, size=0)

def test_shapes_via_get_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv('LGCLIP_CACHE', str(tmp_path/'cache'))
    s = get_dataset('shapes')
    assert (tmp_path/'cache'/'data'/'shapes'/'test'/'star').is_dir()
    assert len(s) == 6*len(SHAPES) and s.classnames == DATASETS['shapes'].classnames == SHAPES
    assert all(Path(p).parent.name == s.classnames[y] for p, y in s.items)
    img, y = s[0]
    assert img.mode == 'RGB' and img.size == (64, 64) and y == 0
    assert dataset_info('shapes').domain == 'simple drawing'

def test_class_list_lengths():
    want = dict(cifar10=10, cifar100=100, caltech101=101, pets=37, flowers102=102, food101=101, dtd=47, eurosat=10, shapes=4)
    assert {k: len(v.classnames) for k, v in DATASETS.items()} == want
    assert all(isinstance(v.domain, str) and callable(v.loader) for v in DATASETS.values())

EUROSAT = ['AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture', 'PermanentCrop', 'Residential', 'River', 'SeaLake']

def test_eurosat_layout_labels_and_split(tmp_path):
    for c in EUROSAT:
        for i in range(1, 6): _img(tmp_path/'eurosat'/'2750'/c/f'{c}_{i}.jpg')
    test, train = get_dataset('eurosat', root=tmp_path), get_dataset('eurosat', root=tmp_path, split='train')
    assert len(test) == 10 and len(train) == 40
    name = {Path(p).parent.name: test.classnames[y] for p, y in test.items}
    assert name['SeaLake'] == 'lake or sea' and name['HerbaceousVegetation'] == 'brushland or shrubland' and name['AnnualCrop'] == 'annual crop land'
    assert not {p for p, _ in test.items} & {p for p, _ in train.items}

CALTECH = ('Faces Faces_easy Leopards Motorbikes accordion airplanes anchor ant barrel bass beaver binocular bonsai brain brontosaurus '
           'buddha butterfly camera cannon car_side ceiling_fan cellphone chair chandelier cougar_body cougar_face crab crayfish crocodile '
           'crocodile_head cup dalmatian dollar_bill dolphin dragonfly electric_guitar elephant emu euphonium ewer ferry flamingo '
           'flamingo_head garfield gerenuk gramophone grand_piano hawksbill headphone hedgehog helicopter ibis inline_skate joshua_tree '
           'kangaroo ketch lamp laptop llama lobster lotus mandolin mayfly menorah metronome minaret nautilus octopus okapi pagoda panda '
           'pigeon pizza platypus pyramid revolver rhino rooster saxophone schooner scissors scorpion sea_horse snoopy soccer_ball stapler '
           'starfish stegosaurus stop_sign strawberry sunflower tick trilobite umbrella watch water_lilly wheelchair wild_cat windsor_chair '
           'wrench yin_yang').split()

def test_caltech101_labels_drop_background(tmp_path):
    cat = tmp_path/'caltech101'/'101_ObjectCategories'
    for c in CALTECH + ['BACKGROUND_Google']: _img(cat/c/'image_0001.jpg', size=(2, 2))
    s = get_dataset('caltech101', root=tmp_path, split='train')
    assert len(CALTECH) == 101 and len(s) == 101
    name = {Path(p).parent.name: s.classnames[y] for p, y in s.items}
    assert name['Faces'] == 'off-center face' and name['car_side'] == 'side of a car' and name['yin_yang'] == 'yin and yang symbol'
    assert name['crocodile_head'] == 'head of a crocodile' and 'BACKGROUND_Google' not in name
    assert s[5][0].mode == 'RGB'
