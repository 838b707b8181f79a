"LoRA adaptation of the generator (lgclip.lora): learning, kill and resume, the cache, corruption and bad inputs (CPU)."
import os, subprocess, sys, textwrap
from dataclasses import replace
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from lgclip.core import LGCLIPError, file_digest
from lgclip.data import make_shapes, image_folder
from lgclip.models import load_generator
import lgclip.lora as lora
from lgclip.lora import LoraSettings, adapt_generator, adapted_generator, read_adapter, denoising_eval, WEIGHTS
from conftest import ROOT

# 16 pixels is the tiny generator's own size; batch 2 and a few steps keep every test at seconds on a CPU
FAST = LoraSettings(prompt='a simple drawing', rank=8, lr=3e-3, steps=6, batch_size=2, resolution=16,
                    checkpoint_every=2)

@pytest.fixture(scope='module')
def gen(cache): return load_generator('tiny-random', device='cpu')

@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    return image_folder(make_shapes(tmp_path_factory.mktemp('shapes'), n_per_class=2, size=32)/'test', name='shapes')

def _counting():
    steps = []
    return steps, lambda i, loss: steps.append(i)

def test_training_lowers_the_loss(gen, shapes, tmp_path):
    s = replace(FAST, steps=24, checkpoint_every=100)
    adapted = adapt_generator(gen, shapes, s, tmp_path, progress=False)
    before, after = (denoising_eval(g, shapes, 'a simple drawing', 16) for g in (gen, adapted))
    assert after < 0.95 * before, (before, after)
    assert np.mean(adapted.extra.losses[-6:]) < np.mean(adapted.extra.losses[:6])
    # the control: the same run with a learning rate too small to move the LoRA leaves the loss where it was,
    # so the drop above is learning, not an artefact of how the loss is measured
    still = adapt_generator(gen, shapes, replace(s, lr=1e-12), tmp_path, progress=False)
    assert abs(denoising_eval(still, shapes, 'a simple drawing', 16) - before) < 1e-4 * before

def test_resume_after_a_kill(gen, shapes, tmp_path, cache):
    "A real SIGKILL at step 5 of 6 (checkpoints every 2): the next call runs steps 5 and 6 only, as a whole run would."
    script = textwrap.dedent(f"""
        import os, signal
        from lgclip.data import image_folder
        from lgclip.models import load_generator
        from lgclip.lora import LoraSettings, adapt_generator
        def kill(step, loss):
            if step == 5: os.kill(os.getpid(), signal.SIGKILL)
        s = LoraSettings(**{FAST.ident!r}, checkpoint_every=2)
        images = image_folder({str(Path(shapes.items[0][0]).parents[1])!r})
        gen = load_generator('tiny-random', device='cpu')
        adapt_generator(gen, images, s, {str(tmp_path)!r}, progress=False, callback=kill)
        """)
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == -9, r.stderr[-2000:]
    folder = next((tmp_path/'adapters').iterdir())
    assert [p.name for p in folder.iterdir() if not p.name.startswith('.')] == ['checkpoint.pt']
    steps, cb = _counting()
    resumed = adapt_generator(gen, shapes, FAST, tmp_path, progress=False, callback=cb)
    assert steps == [5, 6] and resumed.extra.steps_run == 2
    assert not (folder/'checkpoint.pt').exists() and (folder/WEIGHTS).is_file()
    whole = adapt_generator(gen, shapes, FAST, tmp_path/'other', progress=False)
    np.testing.assert_allclose(resumed.extra.losses, whole.extra.losses, rtol=1e-5)

def test_cache_hit_costs_no_training_step(gen, shapes, tmp_path, monkeypatch):
    first = adapt_generator(gen, shapes, FAST, tmp_path, progress=False)
    assert first.extra.steps_run == 6
    calls = []
    monkeypatch.setattr(lora, '_train', lambda *a, **k: calls.append(1) or pytest.fail('trained on a cache hit'))
    steps, cb = _counting()
    files = [x for x, _ in shapes.items][::-1]   # the same images in another order, as a list of paths
    again = adapt_generator(gen, files, FAST, tmp_path, progress=False, callback=cb)
    assert again.extra.steps_run == 0 and steps == [] and calls == [] and again.name == first.name
    # the breakage: without the finished marker the cache has no adapter, and training is asked for
    (tmp_path/'adapters'/first.extra.key/'adapter.json').unlink()
    with pytest.raises(pytest.fail.Exception, match='trained on a cache hit'):
        adapt_generator(gen, files, FAST, tmp_path, progress=False)

def test_other_settings_or_images_are_other_adapters(gen, shapes, tmp_path):
    a = adapt_generator(gen, shapes, replace(FAST, steps=2), tmp_path, progress=False)
    b = adapt_generator(gen, shapes, replace(FAST, steps=2, rank=4), tmp_path, progress=False)
    c = adapt_generator(gen, [x for x, _ in shapes.items][:4], replace(FAST, steps=2), tmp_path, progress=False)
    d = adapt_generator(gen, shapes, replace(FAST, steps=2, checkpoint_every=1), tmp_path, progress=False)
    assert len({a.name, b.name, c.name}) == 3 and d.name == a.name and d.extra.steps_run == 0

@pytest.mark.parametrize('damage', ['weights', 'meta'])
def test_corrupt_adapter_is_set_aside_and_rebuilt(gen, shapes, tmp_path, capfd, damage):
    first = adapt_generator(gen, shapes, FAST, tmp_path, progress=False).extra
    f = first.path if damage == 'weights' else first.path.parent/'adapter.json'
    raw = bytearray(f.read_bytes()); raw[len(raw) // 2] ^= 0xFF; f.write_bytes(bytes(raw))
    if damage == 'weights':
        with pytest.raises(LGCLIPError, match='damaged'): read_adapter(first.path.parent)
    capfd.readouterr()
    again = adapt_generator(gen, shapes, FAST, tmp_path, progress=False)
    err = [l for l in capfd.readouterr().err.splitlines() if 'lgclip: warning' in l]
    assert len(err) == 1 and 'corrupt' in err[0] and 'set aside' in err[0]
    assert again.extra.steps_run == 6 and len(list((tmp_path/'adapters'/'.corrupt').iterdir())) == 1
    np.testing.assert_allclose(again.extra.losses, first.losses, rtol=1e-5)

def test_corrupt_checkpoint_restarts(gen, shapes, tmp_path, capfd):
    class Stop(Exception): pass
    def stop(step, loss):
        if step == 3: raise Stop()
    with pytest.raises(Stop): adapt_generator(gen, shapes, FAST, tmp_path, progress=False, callback=stop)
    ckpt = next((tmp_path/'adapters').iterdir())/'checkpoint.pt'
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    steps, cb = _counting()
    out = adapt_generator(gen, shapes, FAST, tmp_path, progress=False, callback=cb)
    assert steps[0] == 1 and out.extra.steps_run == 6 and 'unreadable checkpoint' in capfd.readouterr().err

def test_the_adapter_is_a_diffusers_lora(gen, shapes, tmp_path):
    "The file loads with diffusers' own `load_lora_weights` and gives the adapted UNet's output; the base is unchanged."
    adapted = adapt_generator(gen, shapes, FAST, tmp_path, progress=False)
    fresh = load_generator('tiny-random', device='cpu').model
    fresh.load_lora_weights(str(adapted.extra.path.parent))
    x, e = torch.randn(1, 4, 8, 8), torch.randn(1, 7, 32)
    with torch.no_grad():
        ours, theirs, base = (u(x, 300, e).sample for u in (adapted.model.unet, fresh.unet, gen.model.unet))
    torch.testing.assert_close(ours, theirs)
    assert (ours - base).abs().max() > 1e-4 and not hasattr(gen.model.unet, 'peft_config')
    again = adapted_generator(gen, adapted.extra.path.parent)   # an adapter folder on its own
    assert again.name == adapted.name
    bare = adapted_generator(gen, adapted.extra.path)   # a bare LoRA file: named by its digest
    assert bare.name == f'tiny-random+lora:{file_digest(adapted.extra.path)}'
    with pytest.raises(LGCLIPError, match='already adapted'):
        adapt_generator(adapted, shapes, FAST, tmp_path, progress=False)

def test_synthesizer_caches_adapted_prototypes_apart(gen, shapes, tmp_path):
    from lgclip.synthesis import Synthesizer
    adapted = adapt_generator(gen, shapes, FAST, tmp_path, progress=False)
    kw = dict(steps=1, guidance=1.0, size=16, batch_size=2, cache_dir=tmp_path)
    prompts = {'circle': ['a simple drawing of a circle.']}
    plain, ours = (Synthesizer(g, **kw)(prompts, n=1, progress=False) for g in (gen, adapted))
    assert plain.root != ours.root and plain.made == ours.made == 1
    assert np.asarray(Image.open(plain.paths()[0])).tolist() != np.asarray(Image.open(ours.paths()[0])).tolist()

def test_fp16_path_with_gradient_scaler(shapes, tmp_path):
    "The CUDA default (fp16 UNet, fp16 autocast, GradScaler), run on the CPU: finite losses and a loadable adapter."
    g16 = load_generator('tiny-random', device='cpu', dtype='fp16')
    out = adapt_generator(g16, shapes, replace(FAST, steps=2), tmp_path, progress=False)
    assert out.extra.meta['dtype'] == 'torch.float16' and out.model.unet.dtype == torch.float16
    assert all(np.isfinite(out.extra.losses))

def test_diverging_training_stops_with_a_clear_error(gen, shapes, tmp_path):
    with pytest.raises(LGCLIPError, match='diverged.*lower lr'):
        adapt_generator(gen, shapes, replace(FAST, lr=1e30, steps=4, max_grad_norm=1e30), tmp_path, progress=False)
    assert not list((tmp_path/'adapters').glob(f'*/{WEIGHTS}'))

@pytest.mark.parametrize('settings, message', [
    (replace(FAST, rank=0), 'rank must be a positive integer, got 0'),
    (replace(FAST, lr=float('nan')), 'lr must be a finite number > 0, got nan'),
    (replace(FAST, lr=-1e-4), 'lr must be a finite number > 0'),
    (replace(FAST, alpha=0), 'alpha must be a finite number > 0'),
    (replace(FAST, steps=0), 'steps must be a positive integer'),
    (replace(FAST, batch_size=1.5), 'batch_size must be a positive integer'),
    (replace(FAST, warmup_steps=-1), 'warmup_steps must be an integer >= 0'),
    (replace(FAST, target_modules='to_q'), 'target_modules must be a non-empty list'),
    (replace(FAST, prompt=''), 'prompt must be a non-blank string'),
])
def test_bad_settings(settings, message, tmp_path, monkeypatch):
    monkeypatch.setattr(lora, 'load_generator', lambda *a, **k: pytest.fail('loaded a model before the settings check'))
    with pytest.raises(LGCLIPError, match=message):
        adapt_generator('tiny-random', [Image.new('RGB', (8, 8))], settings, tmp_path)

def test_bad_images_and_pipelines(gen, shapes, tmp_path):
    empty = tmp_path/'empty'; (empty/'cat').mkdir(parents=True); (empty/'cat'/'notes.txt').write_text('no images')
    cases = [([], 'no target images given'), (empty, 'no images in'), (tmp_path/'missing', 'does not exist'),
             ([tmp_path/'nope.png'], 'target image not found'), ([3], 'must be a path or a PIL image'),
             (42, 'must be an ImageSet, a folder or a list')]
    for images, message in cases:
        with pytest.raises(LGCLIPError, match=message): adapt_generator(gen, images, FAST, tmp_path)
    files = [x for x, _ in shapes.items]
    with pytest.raises(LGCLIPError, match='no domain prompt'):
        adapt_generator(gen, files, replace(FAST, prompt=None), tmp_path)
    with pytest.raises(LGCLIPError, match='3 captions given for 8'):
        adapt_generator(gen, files, FAST, tmp_path, captions=['a'] * 3)
    with pytest.raises(LGCLIPError, match='resolution 18 does not fit'):
        adapt_generator(gen, files, replace(FAST, resolution=18), tmp_path)
    with pytest.raises(LGCLIPError, match="target_modules \\['to_nothing'\\]"):
        adapt_generator(gen, files, replace(FAST, target_modules=('to_nothing',)), tmp_path)
    assert not list((tmp_path/'adapters').glob(f'*/{WEIGHTS}'))

def _tiny_sdxl(folder):
    "A random-weight SDXL-shaped pipeline (two text encoders, pooled text and size conditioning) saved to `folder`."
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel, AutoencoderKL, EulerDiscreteScheduler
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer
    from lgclip.models import _byte_alphabet
    torch.manual_seed(0)
    chars = _byte_alphabet(); vocab = ['<|startoftext|>', '<|endoftext|>', *chars, *[c + '</w>' for c in chars]]
    tok = CLIPTokenizer(vocab={v: i for i, v in enumerate(vocab)}, merges=[], model_max_length=32)
    cfg = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=32, projection_dim=32, bos_token_id=0,
                         eos_token_id=1, pad_token_id=1)
    unet = UNet2DConditionModel(sample_size=8, layers_per_block=1, block_out_channels=(32, 64), norm_num_groups=8,
                                down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D'),
                                up_block_types=('CrossAttnUpBlock2D', 'UpBlock2D'), cross_attention_dim=64,
                                attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type='text_time',
                                addition_time_embed_dim=8, projection_class_embeddings_input_dim=8 * 6 + 32)
    vae = AutoencoderKL(down_block_types=('DownEncoderBlock2D',) * 2, up_block_types=('UpDecoderBlock2D',) * 2,
                        block_out_channels=(16, 32), latent_channels=4, norm_num_groups=8, sample_size=32)
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule='scaled_linear', steps_offset=1)
    StableDiffusionXLPipeline(vae=vae, text_encoder=CLIPTextModel(cfg), text_encoder_2=CLIPTextModelWithProjection(cfg),
                              tokenizer=tok, tokenizer_2=tok, unet=unet, scheduler=sched).save_pretrained(folder)
    return folder

def test_sdxl_shaped_pipeline(gen, shapes, tmp_path):
    "SDXL's UNet also takes pooled text embeddings and size ids: the same call adapts it, and the result renders."
    xl = load_generator(str(_tiny_sdxl(tmp_path/'tiny-sdxl')), device='cpu')
    assert type(xl.model).__name__ == 'StableDiffusionXLPipeline'
    out = adapt_generator(xl, shapes, replace(FAST, steps=2), tmp_path, progress=False)
    assert out.extra.steps_run == 2 and all(np.isfinite(out.extra.losses)) and '+lora:' in out.name
    img = out.model(prompt=['a simple drawing of a star'], num_inference_steps=2, height=16, width=16,
                    guidance_scale=2.0)
    assert img.images[0].size == (16, 16)
    tiny = adapt_generator(gen, shapes, replace(FAST, steps=2), tmp_path, progress=False).extra
    with pytest.raises(LGCLIPError, match='was trained on generator .*tiny-sd'): adapted_generator(xl, tiny.path.parent)
