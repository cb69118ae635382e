"""Image generation: a GAN and a diffusion model, trained by this project on Fashion-MNIST.

Two ways to turn random numbers into a picture of a shirt, a sneaker or a bag (28x28, grey):

- a **GAN** (Goodfellow et al. 2014), here a class-conditional DCGAN: a *generator* maps 64
  random numbers and a class to an image in one forward pass; during training a
  *discriminator* learned to tell its images from real ones, and the generator learned to
  fool it. One pass, so it is instant; the random numbers form a smooth *latent space*
  that can be walked from one seed to another;
- a **diffusion model** (Ho et al. 2020): a UNet learned to predict the noise that was added
  to a real image, at 1000 noise levels. Generating starts from pure noise and removes a
  little of it at every step; the number of steps and the sampler (DDPM, stochastic, or
  DDIM, deterministic and good with few steps) are the visitor's choice. The same network
  *inpaints*: at every step the known pixels are put back, the model fills in the rest.

The story of a call: preprocess (check the class, clamp the seed and the step count, build
the inpainting mask), forward (the generator, or the denoising loop), postprocess (grids,
the denoising trajectory, a GIF), explain (the noise schedule, the discriminator's scores).

The package reads in that order: ``models`` (the networks, loading, what a call gives back),
``inputs`` (preprocess), ``gan`` and ``sampling`` (forward; ``guidance`` steers each denoising
step), ``pictures`` (postprocess), ``insides`` (explain); here, the card, the story for the page
and the endpoint. The forward steps are the demo's model work (``gan_images``, batched across
visitors, and ``denoise``: see ``core.engine``); the rest runs wherever the page does.
"""
from __future__ import annotations

from matplotlib.figure import Figure
from PIL import Image

from core.contract import (ChoiceField, DemoCard, Endpoint, FigureOutput, ImageOutput, JsonOutput, MarkdownOutput,
                           NumberField, choices)
from core.progress import ProgressCallback
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.image_generation.gan import (MAX_IMAGES, MAX_INTERPOLATION_FRAMES, GanImages, GanRequest, gan_images,
                                       generate_gan, interpolate_gan)
from demos.image_generation.guidance import DEFAULT_GUIDANCE, MAX_GUIDANCE
from demos.image_generation.inputs import MAX_SEED, as_fashion_mnist, class_index, latents_for, rectangle_mask
from demos.image_generation.insides import explain, notes, verdicts
from demos.image_generation.models import (CLASS_COUNT, CLASS_NAMES, IMAGE_SIDE, MODEL_DIR, MODEL_KINDS, NO_CLASS,
                                           Generation, build_noise_schedule, build_unet, load, load_diffusion,
                                           noise_schedule_config, pipeline_class)
from demos.image_generation.pictures import (details, grid, inpainting_examples, mask_preview, to_picture,
                                             trajectory_caption, trajectory_gif, trajectory_strip)
from demos.image_generation.sampling import (DEFAULT_STEPS, MAX_STEPS, SAMPLERS, denoise, generate_diffusion, inpaint,
                                            sample)

CARD = DemoCard(
    slug="image_generation",
    title="Image Generation",
    icon="👟",
    pitch="A GAN and a diffusion model we trained on Fashion-MNIST: watch noise become a sneaker, step by step.",
    tags=("GAN", "diffusion", "DDPM / DDIM", "inpainting", "latent space"),
    inputs=("none", "image"),  # an image to inpaint is optional
)


HOW_IT_WORKS = """
**A GAN: two networks in a contest.** The *generator* turns 64 random numbers (the latent
vector, fixed by the seed) and a class into an image through a linear layer and two
transposed convolutions. The *discriminator* reads an image and its class and says how real
it looks. They were trained in turns: the discriminator on real and generated images, the
generator to make the discriminator say "real". One forward pass makes an image, so it is
instant. Nearby latent vectors give similar images: walking from one seed's vector to
another's morphs one garment into another. The discriminator's score is shown under each
image; a well-trained GAN keeps it near 0.5, where the discriminator cannot tell.

**A diffusion model: learn to remove noise.** Training takes a real image x_0, adds Gaussian
noise of a random strength t (1 to 1000) to get x_t, and teaches a UNet to predict the
noise. Generating starts from pure noise and repeats: predict the noise, remove some of it,
go to a lower level. From the predicted noise the model can also say what it thinks the
clean image is (the *predicted x_0*, bottom row of the trajectory): blurry at first, sharp
at the end.

**DDPM or DDIM.** DDPM (Ho et al. 2020) adds fresh noise at each step and was trained to
walk all 1000 levels: with few steps its images stay noisy. DDIM (Song et al. 2021) takes
deterministic jumps between the same levels, so 20-50 steps give clean images, and the same
seed always gives the same image.

**Class and guidance.** The class enters the UNet as a learned embedding. During training the
class was hidden 10% of the time, so the network also knows "any garment". *Classifier-free
guidance* pushes each step away from the class-free prediction, towards the class:
stronger guidance gives more typical, less varied images; 1 turns it off. Guided predictions
overshoot, most at high noise, so each step clips the predicted x_0 to the pixel range and
works out the noise again from the clipped image.

**Inpainting.** The same model fills a hole: at every step the pixels you keep are replaced by
the known image, noised to the current level, so the generated part must agree with them.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(model: str, class_name: str, seed: int, count: int, steps: int, sampler: str, guidance: float,
              progress: ProgressCallback | None = None) -> tuple[Image.Image, dict, Figure, Image.Image | None, str,
                                                                   str]:
    if model == "GAN":
        generation = generate_gan(class_name, seed, count)
    else:
        generation = generate_diffusion(class_name, seed, count, steps, sampler, guidance, progress=progress)
    # the page's insides: the trajectory strip (diffusion), How it works with its figure, the notes beside them
    strip = trajectory_strip(generation.trajectory)[0] if generation.trajectory is not None else None
    return grid(generation.images), details(generation), explain(generation), strip, notes(generation), HOW_IT_WORKS


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        ChoiceField("model", "Model", choices(MODEL_KINDS), "Diffusion"),
        ChoiceField("class_name", "Class", choices(CLASS_NAMES), "Sneaker"),
        NumberField("seed", "Seed", 0, MAX_SEED, 0, integer=True),
        NumberField("count", "Number of images", 1, MAX_IMAGES, MAX_IMAGES, integer=True),
        NumberField("steps", "Diffusion steps", 1, MAX_STEPS, DEFAULT_STEPS, integer=True),
        ChoiceField("sampler", "Diffusion sampler", choices(SAMPLERS), "DDIM"),
        NumberField("guidance", "Guidance (1 = off)", 1.0, MAX_GUIDANCE, DEFAULT_GUIDANCE, step=0.5),
    ),
    outputs=(ImageOutput("Generated images"), JsonOutput("Details")),
    insides=(FigureOutput("Diffusion: the noise schedule and the sampler's steps on it; GAN: the discriminator's "
                          "verdict on each image"),
             ImageOutput("The denoising trajectory of the first image (diffusion): x_t on top, the model's guess "
                         "of the clean image below, step by step"),
             MarkdownOutput("Notes"),
             MarkdownOutput("How it works")),
),)
