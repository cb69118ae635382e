"""Image Generation as a visitor uses it: a class, a seed, a model; grids, trajectories, inpainting."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import image_captions
from core.validation import InputError
from demos import image_generation as demo

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def test_the_gan_makes_the_requested_number_of_images_in_range_and_a_seed_repeats():
    first = demo.generate_gan("Sneaker", 7, 4)
    assert first.images.shape == (4, 1, 28, 28)
    assert first.images.min() >= -1 and first.images.max() <= 1 and first.images.std() > 0.1
    assert torch.equal(first.images, demo.generate_gan("Sneaker", 7, 4).images)
    assert not torch.equal(first.images, demo.generate_gan("Sneaker", 8, 4).images)
    assert not torch.equal(first.images, demo.generate_gan("Trouser", 7, 4).images)  # the class steers it
    assert len(first.scores) == 4 and all(0 <= score <= 1 for score in first.scores)


def test_the_gan_gives_visitors_batched_together_the_images_each_gets_alone():
    """The model work takes every visitor's latents in one pass: the same images and scores as one by one."""
    requests = [demo.GanRequest(demo.latents_for(seed, count), label)
                for seed, count, label in ((0, 16, 7), (1, 4, 2), (5, 1, 0), (9, 9, 8), (0, 16, 3))]
    together = demo.gan_images(requests)
    assert [len(made.images) for made in together] == [16, 4, 1, 9, 16]
    for request, batched in zip(requests, together):
        [alone] = demo.gan_images([request])
        assert torch.allclose(batched.images, alone.images, atol=1e-5)
        assert batched.scores == pytest.approx(alone.scores, abs=1e-5) and batched.device == alone.device
        assert batched.images.untyped_storage().nbytes() == batched.images.numel() * 4  # not the whole batch's memory


def test_the_insides_draw_the_noise_schedule_without_the_model():
    """In Ray mode the model runs elsewhere: the figure reads the schedule from the shipped folder."""
    from core.models import MODELS

    generation = demo.generate_diffusion("Bag", 0, 1, 3, "DDIM", 1.0)
    assert dict(demo.noise_schedule_config()) == dict(demo.load().diffusion.scheduler.config)
    MODELS.evict("image_generation")
    assert len(demo.explain(generation).axes) == 1 and not MODELS.is_loaded("image_generation")


def test_the_latent_walk_starts_and_ends_at_the_two_seeds_images():
    walk = demo.interpolate_gan("Bag", 1, 2, 5)
    assert walk.images.shape == (5, 1, 28, 28)
    assert torch.allclose(walk.images[0], demo.generate_gan("Bag", 1, 1).images[0], atol=1e-5)
    assert torch.allclose(walk.images[-1], demo.generate_gan("Bag", 2, 1).images[0], atol=1e-5)


@pytest.mark.parametrize("sampler", demo.SAMPLERS)
def test_diffusion_takes_the_requested_steps_and_a_seed_repeats(sampler):
    reported = []
    result = demo.generate_diffusion("Trouser", 3, 2, 4, sampler, 2.0, progress=reported.append)
    assert result.images.shape == (2, 1, 28, 28)
    assert result.images.min() >= -1 and result.images.max() <= 1
    assert [(step.done, step.total) for step in reported] == [(1, 4), (2, 4), (3, 4), (4, 4)]  # the progress bar
    assert reported[-1].note == "Denoising: step 4 of 4" and reported[-1].fraction == 1.0
    assert [frame.step for frame in result.trajectory.frames] == [1, 2, 3, 4]
    timesteps = [frame.timestep for frame in result.trajectory.frames]
    assert timesteps == sorted(timesteps, reverse=True) and timesteps[0] >= 700  # from noise towards clean
    again = demo.generate_diffusion("Trouser", 3, 2, 4, sampler, 2.0)
    assert torch.equal(result.images, again.images)


def test_ddim_with_few_steps_is_deterministic_but_ddpm_adds_noise_at_each_step():
    ddim = [demo.generate_diffusion("Bag", seed, 1, 3, "DDIM", 1.0).images for seed in (0, 0)]
    ddpm = [demo.generate_diffusion("Bag", 0, 1, 3, "DDPM", 1.0).images, ddim[0]]
    assert torch.equal(*ddim)
    assert not torch.equal(*ddpm)  # same start, different sampler, different image


@pytest.fixture(scope="module")
def judge():
    """The evaluation classifier shipped beside the models: images -> predicted class indices."""
    import sys

    sys.path.insert(0, "scripts")
    from train_fashion_classifier import load_classifier, predict

    classifier = load_classifier()
    return lambda images: predict(classifier, images)[0]


@pytest.mark.parametrize("class_name", ["Sneaker", "Trouser"])
def test_stronger_guidance_draws_the_requested_class_more_clearly(class_name, judge):
    """The judge names most guided DDIM samples correctly; before the sampler recomputed its
    noise from the clipped image, guidance 3 drew texture instead."""
    images = demo.generate_diffusion(class_name, 123, 16, 25, "DDIM", 3.0).images
    assert (judge(images) == demo.class_index(class_name)).sum() >= 12


def test_out_of_range_settings_are_clamped_with_a_note():
    result = demo.generate_diffusion("Dress", -5, 40, 0, "DDIM", 20.0)
    assert result.seed == 0 and len(result.images) == demo.MAX_IMAGES
    assert result.settings == {"steps": 1, "sampler": "DDIM", "guidance": demo.MAX_GUIDANCE}
    assert len(result.notes) == 4 and "instead of -5" in result.notes[0]
    with pytest.raises(InputError, match="Unknown class"):
        demo.generate_gan("Hat", 0, 1)


def test_inpainting_keeps_the_known_pixels_and_fills_the_hole():
    picture = demo.as_fashion_mnist(demo.inpainting_examples()["Real test image: Sneaker"]())
    fill = demo.rectangle_mask(8, 0, 20, 14)
    result = demo.inpaint(picture, fill, "Sneaker", 0, 3)
    kept = torch.from_numpy(~fill)
    assert torch.equal(result.images[0, 0][kept], picture[0, 0][kept])
    assert not torch.equal(result.images[0, 0][~kept], picture[0, 0][~kept])


def test_inpainting_refuses_an_empty_mask_and_notes_a_full_one():
    picture = torch.zeros(1, 1, 28, 28)
    with pytest.raises(InputError, match="mask is empty"):
        demo.inpaint(picture, np.zeros((28, 28), bool), "Bag", 0, 2)
    result = demo.inpaint(picture, np.ones((28, 28), bool), "Bag", 0, 2)
    assert "plain generation" in result.notes[0]


def test_a_light_background_photo_is_inverted_to_fashion_mnist_style():
    photo = Image.new("RGB", (90, 60), "white")
    photo.paste((20, 20, 20), (30, 15, 60, 45))
    pixels = demo.as_fashion_mnist(photo)
    assert pixels.shape == (1, 1, 28, 28)
    assert pixels[0, 0, 0, 0] == -1 and pixels[0, 0, 14, 14] > 0.8  # dark border, bright object


def test_a_pipeline_saved_to_a_folder_loads_back_and_samples_the_same(tmp_path):
    from diffusers import UNet2DModel

    tiny = UNet2DModel(sample_size=28, in_channels=1, out_channels=1, layers_per_block=1,
                       block_out_channels=(8, 8, 8), norm_num_groups=4, num_class_embeds=demo.CLASS_COUNT + 1,
                       down_block_types=("DownBlock2D",) * 3, up_block_types=("UpBlock2D",) * 3)
    demo.pipeline_class()(unet=tiny.eval(), scheduler=demo.build_noise_schedule()).save_pretrained(tmp_path)
    loaded = demo.load_diffusion(tmp_path)
    labels = torch.tensor([2, 5])
    before = demo.sample(demo.pipeline_class()(unet=tiny, scheduler=demo.build_noise_schedule()),
                         labels, 0, 3, "DDIM", 1.5)
    after = demo.sample(loaded, labels, 0, 3, "DDIM", 1.5)
    assert torch.allclose(before.images, after.images, atol=1e-5)
    assert (tmp_path / "model_index.json").exists()


def test_the_shipped_files_fit_the_size_limit():
    files = [path for path in demo.MODEL_DIR.rglob("*") if path.is_file()]
    assert any(path.name == "diffusion_pytorch_model.safetensors" for path in files)
    assert all(path.stat().st_size <= 25 * 2**20 for path in files)


def test_the_trajectory_gif_animates_the_grid():
    result = demo.generate_diffusion("Coat", 0, 4, 5, "DDIM", 2.0)
    with Image.open(__import__("io").BytesIO(demo.trajectory_gif(result.trajectory))) as gif:
        assert gif.format == "GIF" and gif.n_frames == 6  # 5 steps and the result


@pytest.mark.skipif(not FASHION_MNIST.exists(), reason="apt-get install -y dataset-fashion-mnist")
def test_the_evaluation_classifier_recognises_real_test_images(judge):
    from fashion_mnist import as_tensors  # scripts/, on the path once the judge is loaded

    images, labels = as_tensors("test")
    assert (judge(images) == labels).float().mean() >= 0.88


def test_page_generates_a_diffusion_grid_with_its_trajectory(gallery):
    app = gallery.switch_page("views/image_generation.py").run()
    assert not app.exception
    captions = image_captions(app)
    assert any("Sneaker, Diffusion (DDIM, 25 steps" in caption for caption in captions)
    assert any("predicted" in caption.lower() or "guess of the clean image" in caption for caption in captions)
    labels = [button.label for button in app.get("download_button")]
    assert "Download PNG" in labels and "Download GIF" in labels


def test_page_shows_the_discriminator_score_for_gan_images_and_walks_latent_space(gallery):
    app = gallery.switch_page("views/image_generation.py").run()
    app.segmented_control(key="generation_model").set_value("GAN").run()
    assert not app.exception
    assert any(caption.startswith("P(real)") for caption in image_captions(app))
    app.segmented_control(key="generation_task").set_value("Latent walk (GAN)").run()
    assert not app.exception
    assert any("through latent space" in caption for caption in image_captions(app))


def test_page_inpaints_a_real_example(gallery):
    app = gallery.switch_page("views/image_generation.py").run()
    app.segmented_control(key="generation_task").set_value("Inpaint (diffusion)").run()
    app.select_slider(key="generation_steps").set_value(5).run()
    assert not app.exception
    assert any("Filled in as T-shirt/top" in caption for caption in image_captions(app))


def test_gradio_endpoint_returns_a_grid_and_details(gradio_client):
    image_path, details, *insides = gradio_client.predict("GAN", "Bag", 7, 4, 25, "DDIM", 2.0,
                                                          api_name="/image_generation")
    with Image.open(image_path) as image:
        assert image.size == (2 * 112 + 2, 2 * 112 + 2)  # a 2x2 grid of 28x28 images shown at 4x
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["model"] == "GAN" and len(details["discriminator P(real)"]) == 4
    _, details, *insides = gradio_client.predict("Diffusion", "Sneaker", 1, 1, 2, "DDPM", 1.0,
                                                 api_name="/image_generation")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["steps"] == 2 and details["sampler"] == "DDPM"
    figure, strip, notes, how = insides
    with Image.open(figure) as shown, Image.open(strip) as trajectory:
        assert shown.format == trajectory.format == "PNG"
        assert trajectory.size == (3 * 84 + 2 * 2, 2 * 84 + 2)  # 2 steps and the result, x_t above x_0, at 3x
    assert "step 1 (t=" in notes and "DDPM or DDIM" in how


def test_the_endpoint_shows_the_pages_insides_for_its_sample_call():
    """The defaults: what the page's trajectory, notes and How it works show, in the declared kinds."""
    from matplotlib.figure import Figure

    endpoint = demo.ENDPOINTS[0]
    reported = []
    results = endpoint.run(progress=reported.append, **{field.name: field.default for field in endpoint.inputs})
    assert all(result is not None and kind.accepts(result) for kind, result in zip(endpoint.results, results))
    _, details, figure, strip, notes, how = results
    page = demo.generate_diffusion("Sneaker", 0, 16, 25, "DDIM", 2.0)
    page_strip, shown = demo.trajectory_strip(page.trajectory)
    assert np.array_equal(np.asarray(strip), np.asarray(page_strip))  # DDIM: the same seed, the same images
    assert demo.trajectory_caption(shown) in notes and isinstance(figure, Figure) and how == demo.HOW_IT_WORKS
    assert details["steps"] == 25 and len(reported) == 25 and reported[-1].fraction == 1.0


def test_for_the_gan_the_endpoint_shows_the_discriminators_verdict_and_no_trajectory():
    endpoint = demo.ENDPOINTS[0]
    values = {field.name: field.default for field in endpoint.inputs} | {"model": "GAN", "count": 4}
    _, details, figure, strip, notes, _ = endpoint.run(**values)
    assert strip is None and figure is not None
    verdicts = demo.verdicts(demo.generate_gan("Sneaker", 0, 4))
    assert len(verdicts) == 4 and all(verdict in notes for verdict in verdicts)


@pytest.mark.parametrize("field, value, message", [("count", 2.5, "expected a whole number"),
                                                   ("model", "diffusion", "is not one of Diffusion, GAN"),
                                                   ("sampler", "ddim", "is not one of DDIM, DDPM")])
def test_the_endpoint_refuses_what_its_fields_do_not_offer(field, value, message):
    endpoint = demo.ENDPOINTS[0]
    with pytest.raises(InputError, match=message):
        endpoint.run(**{item.name: item.default for item in endpoint.inputs} | {field: value})


@pytest.mark.skipif(not FASHION_MNIST.exists(), reason="apt-get install -y dataset-fashion-mnist")
def test_diffusion_training_goes_on_from_the_shipped_pipeline_when_no_checkpoint_is_left(tmp_path):
    """runs/ is not in a fresh clone: --warm-start carries the shipped UNet and its step count on."""
    import subprocess
    import sys

    from safetensors.torch import load_file

    shipped = demo.MODEL_DIR / "diffusion"
    subprocess.run([sys.executable, "scripts/train_diffusion.py", "--minutes", "0", "--warm-start", str(shipped),
                    "--work-dir", str(tmp_path / "run"), "--export", str(tmp_path / "export")],
                   check=True, capture_output=True, timeout=300)
    exported, record = (json.loads((folder / "training.json").read_text()) for folder in (tmp_path / "export", shipped))
    assert (exported["epochs"], exported["steps"]) == (record["epochs"], record["steps"])
    assert exported["warm_started_at_step"] == record["steps"]
    weights, shipped_weights = (load_file(folder / "unet" / "diffusion_pytorch_model.safetensors")
                                for folder in (tmp_path / "export", shipped))
    assert all(torch.equal(weights[name], tensor.to(weights[name].dtype)) for name, tensor in shipped_weights.items())


def test_a_request_over_the_work_budget_is_refused_before_any_sampling():
    with pytest.raises(InputError, match="more than one request may ask"):
        demo.generate_diffusion("Sneaker", 0, count=16, steps=1000, scheduler="DDPM", guidance=2.0)
    one_ddpm_image = demo.generate_diffusion("Sneaker", 0, count=1, steps=2, scheduler="DDPM",
                                                         guidance=2.0)
    assert len(one_ddpm_image.images) == 1
