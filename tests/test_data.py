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

@pytest.mark.parametrize('name', [n for n in DATASETS if n not in ('shapes', 'world', 'world-shifted')])   # drawn, not read
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
    want = dict(cifar10=10, cifar100=100, caltech101=101, pets=37, flowers102=102, food101=101, dtd=47, eurosat=10, shapes=4, world=10, **{'world-shifted': 10},
                resisc45=45, fgvc_aircraft=100, mnist=10)
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

# GRIP's data sets: each loader against a tiny fake copy laid out as the real one unpacks

def _resisc(root, per_class=5):
    for c in DATASETS['resisc45'].classnames:
        d = root/'NWPU-RESISC45'/c.replace(' ', '_')
        for i in range(1, per_class + 1): _img(d/f'{d.name}_{i:03d}.jpg', size=(4, 4))

def test_resisc45_layout_split_and_labels(tmp_path):
    _resisc(tmp_path)
    parts = {s: get_dataset('resisc45', root=tmp_path, split=s) for s in ('train', 'val', 'test')}
    assert {s: len(v) for s, v in parts.items()} == {'train': 135, 'val': 45, 'test': 45}   # 3/1/1 of 5 per class
    assert len(set().union(*({p for p, _ in v.items} for v in parts.values()))) == 225   # disjoint, all used
    s = parts['train']
    assert all(Path(p).parent.name.replace('_', ' ') == s.classnames[y] for p, y in s.items)
    name = {Path(p).parent.name: s.classnames[y] for p, y in s.items}
    assert name['sea_ice'] == 'sea ice' and name['railway_station'] == 'railway station' and s.labels[0] == 0
    assert Path(parts['test'].items[0][0]).name == 'airplane_005.jpg' and s[0][0].mode == 'RGB'
    assert dataset_info('resisc45').domain == 'satellite photo'

def test_resisc45_split_lists(tmp_path):
    _resisc(tmp_path)
    (tmp_path/'resisc45-val.txt').write_text('airplane_001.jpg\nwetland_002.jpg\n')
    val = get_dataset('resisc45', root=tmp_path, split='val')
    assert sorted(Path(p).name for p, _ in val.items) == ['airplane_001.jpg', 'wetland_002.jpg']
    assert len(get_dataset('resisc45', root=tmp_path, split='test')) == 45   # no list for test: our 60/20/20 split

def test_resisc45_missing_or_wrong(tmp_path):
    for dl in (False, True):   # there is nothing to download it with: the message says where to get it
        with pytest.raises(LGCLIPError, match=r"resisc45.*cannot fetch.*45/airplane/airplane_001.jpg.*--data-root"):
            get_dataset('resisc45', root=tmp_path, download=dl)
    _resisc(tmp_path, 1); (tmp_path/'NWPU-RESISC45'/'wetland').rename(tmp_path/'NWPU-RESISC45'/'wetlands')
    with pytest.raises(LGCLIPError, match=r"45 class folders: missing \['wetland'\], unexpected \['wetlands'\]"):
        get_dataset('resisc45', root=tmp_path)
    with pytest.raises(LGCLIPError, match="unknown split 'trainval' for resisc45"):
        get_dataset('resisc45', root=tmp_path, split='trainval')

def test_fgvc_aircraft_variants_and_splits(tmp_path):
    data = tmp_path/'fgvc-aircraft-2013b'/'data'; names = DATASETS['fgvc_aircraft'].classnames
    (data/'images').mkdir(parents=True); (data/'variants.txt').write_text(''.join(n + '\n' for n in names))
    want = {'train': ['707-320', 'F/A-18'], 'val': ['Yak-42'], 'test': ['A380', 'BAE 146-200']}
    for k, (split, picks) in enumerate(want.items()):
        lines = []
        for j, v in enumerate(picks):
            iid = f'{k}{j:06d}'; _img(data/'images'/f'{iid}.jpg', size=(6, 4)); lines.append(f'{iid} {v}\n')
        (data/f'images_variant_{split}.txt').write_text(''.join(lines))
    parts = {s: get_dataset('fgvc_aircraft', root=tmp_path, split=s) for s in ('train', 'val', 'test')}
    assert {s: [v.classnames[y] for y in v.labels] for s, v in parts.items()} == want
    assert parts['test'].labels.tolist() == [names.index('A380'), names.index('BAE 146-200')]
    assert parts['val'][0][0].mode == 'RGB' and parts['val'][0][0].size == (6, 4)
    assert dataset_info('fgvc_aircraft').domain == 'aircraft photo'
    with pytest.raises(LGCLIPError, match="unknown split 'trainval'"):
        get_dataset('fgvc_aircraft', root=tmp_path, split='trainval')

def _idx(path, arr):
    "An IDX file (MNIST's format): big-endian magic (type 0x08 = uint8, number of dims), the dims, the bytes."
    import struct
    arr = np.asarray(arr, dtype=np.uint8); path.parent.mkdir(parents=True, exist_ok=True)
    head = struct.pack('>I', 0x0800 | arr.ndim) + b''.join(struct.pack('>I', d) for d in arr.shape)
    path.write_bytes(head + arr.tobytes())

def test_mnist_idx_files(tmp_path):
    raw, rng = tmp_path/'MNIST'/'raw', np.random.default_rng(0)
    for prefix, n in (('train', 5), ('t10k', 3)):
        _idx(raw/f'{prefix}-images-idx3-ubyte', rng.integers(0, 256, (n, 28, 28)))
        _idx(raw/f'{prefix}-labels-idx1-ubyte', np.arange(n) % 10)
    train, test = get_dataset('mnist', root=tmp_path, split='train'), get_dataset('mnist', root=tmp_path)
    assert len(train) == 5 and len(test) == 3 and train.labels.tolist() == [0, 1, 2, 3, 4]
    img, y = train[3]
    assert img.mode == 'RGB' and img.size == (28, 28) and train.classnames[y] == '3'
    pixels = np.fromfile(raw/'train-images-idx3-ubyte', dtype=np.uint8, offset=16).reshape(5, 28, 28)
    assert (np.asarray(img)[..., 0] == pixels[3]).all()
    assert dataset_info('mnist').domain == 'handwritten digit'

def test_grip_sets_have_an_unlabeled_pool():
    assert all('train' in DATASETS[n].splits and DATASETS[n].domain for n in ('resisc45', 'fgvc_aircraft', 'mnist'))
