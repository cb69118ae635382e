"""Image Generation page: widgets only; the work is in demos.image_generation."""
from __future__ import annotations

import streamlit as st

from demos import image_generation as demo
from ui import streamlit_kit as kit

kit.page_header(demo.CARD)
task = st.segmented_control("What to do", ["Generate", "Latent walk (GAN)", "Inpaint (diffusion)"],
                            default="Generate", key="generation_task") or "Generate"
controls, results = st.columns([1, 2], gap="large")


def diffusion_controls() -> tuple[int, str, float]:
    sampler = st.segmented_control("Sampler", demo.SAMPLERS, default="DDIM", key="generation_sampler") or "DDIM"
    steps = st.select_slider("Denoising steps", [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
                             value=demo.DEFAULT_STEPS, key="generation_steps",
                             help="DDIM makes clean images in 20-50 steps; DDPM needs hundreds. "
                                  "Hundreds of steps take a while on a CPU: change any setting to cancel.")
    guidance = st.slider("Guidance (1 = off)", 1.0, demo.MAX_GUIDANCE, demo.DEFAULT_GUIDANCE, 0.5,
                         key="generation_guidance",
                         help="Classifier-free guidance: higher = more typical of the class, less varied.")
    return steps, sampler, guidance


def progress_bar():
    """A progress bar and the callback the demo reports each denoising step to."""
    bar = st.progress(0.0, text="Denoising…")
    return bar, lambda progress: bar.progress(progress.fraction, text=progress.note)


def show_notes(generation: demo.Generation) -> None:
    for note in generation.notes:
        kit.notice(note)


def show_trajectory(generation: demo.Generation, file_stem: str) -> None:
    strip, frames = demo.trajectory_strip(generation.trajectory)
    st.image(strip, caption="Top: x_t, the noisy image at each shown step. Bottom: the model's guess of the "
                            "clean image x_0 at that step. Last column: the result.", width="stretch")
    st.caption(demo.trajectory_caption(frames))
    animation = demo.trajectory_gif(generation.trajectory)
    st.image(animation, caption="The denoising, animated", width=320)
    kit.download_gif(animation, f"{file_stem}_denoising.gif")


def how_it_works(generation: demo.Generation) -> None:
    with st.expander("How it works", expanded=False):
        st.markdown(demo.HOW_IT_WORKS)
        st.pyplot(demo.explain(generation))


def generate_page() -> None:
    with controls:
        model = st.segmented_control("Model", demo.MODEL_KINDS, default="Diffusion", key="generation_model")
        class_name = st.selectbox("Class", demo.CLASS_NAMES, index=demo.CLASS_NAMES.index("Sneaker"),
                                  key="generation_class")
        seed = st.number_input("Seed", 0, demo.MAX_SEED, 0, key="generation_seed")
        count = st.select_slider("Images", [1, 4, 9, 16], value=9, key="generation_count")
        if model == "GAN":
            settings = None
        else:
            settings = diffusion_controls()
    with results:
        with kit.user_errors():
            if model == "GAN":
                generation = demo.generate_gan(class_name, seed, count)
            else:
                bar, progress = progress_bar()
                generation = demo.generate_diffusion(class_name, seed, count, *settings, progress=progress)
                bar.empty()
        show_notes(generation)
        picture = demo.grid(generation.images)
        title = f"{count} × {class_name}, {model}" + (
            f" ({settings[1]}, {settings[0]} steps, guidance {settings[2]:g})" if settings else "")
        st.image(picture, caption=f"{title}, seed {seed}", width=min(picture.width, 480))
        kit.ran_on(generation.device, generation.seconds)
        kit.download_image(picture, f"{class_name.split('/')[0].lower()}_{model.lower()}_seed{seed}.png")
        if model == "GAN":
            st.write("**The discriminator's verdict**: its probability that each image is real")
            st.image([demo.to_picture(image, 3) for image in generation.images],
                     caption=demo.verdicts(generation), width=84)
        else:
            st.subheader("The denoising trajectory")
            show_trajectory(generation, f"{class_name.split('/')[0].lower()}_seed{seed}")
    how_it_works(generation)


def latent_walk_page() -> None:
    with controls:
        class_name = st.selectbox("Class", demo.CLASS_NAMES, index=demo.CLASS_NAMES.index("Ankle boot"),
                                  key="walk_class")
        seed_a = st.number_input("Seed A (start)", 0, demo.MAX_SEED, 1, key="walk_seed_a")
        seed_b = st.number_input("Seed B (end)", 0, demo.MAX_SEED, 2, key="walk_seed_b")
        frames = st.slider("Frames", 2, demo.MAX_INTERPOLATION_FRAMES, 8, key="walk_frames")
    with results:
        with kit.user_errors():
            generation = demo.interpolate_gan(class_name, seed_a, seed_b, frames)
        show_notes(generation)
        row = demo.grid(generation.images, columns=len(generation.images), scale=3)
        st.image(row, caption=f"{class_name}: from seed {seed_a} to seed {seed_b} through latent space, "
                              f"{len(generation.images)} steps", width="stretch")
        st.caption("Under each image: the discriminator's probability that it is real")
        st.image([demo.to_picture(image, 3) for image in generation.images],
                 caption=[f"{score:.2f}" for score in generation.scores], width=64)
        kit.ran_on(generation.device, generation.seconds)
        kit.download_image(row, f"latent_walk_{seed_a}_to_{seed_b}.png")
    how_it_works(generation)


def inpaint_page() -> None:
    with controls:
        picture = kit.image_input("inpaint_picture", "Picture to repair", examples=demo.inpainting_examples(),
                                  camera=False)
        class_name = st.selectbox("Fill it in as", demo.CLASS_NAMES, key="inpaint_class")
        left, right = st.slider("Hole: columns", 0, demo.IMAGE_SIDE, (8, 20), key="inpaint_columns")
        top, bottom = st.slider("Hole: rows", 0, demo.IMAGE_SIDE, (0, 14), key="inpaint_rows")
        seed = st.number_input("Seed", 0, demo.MAX_SEED, 0, key="inpaint_seed")
        settings = diffusion_controls()
    if picture is None:
        st.stop()
    known = demo.as_fashion_mnist(picture)
    fill = demo.rectangle_mask(left, top, right, bottom)
    with results:
        before, after = st.columns(2)
        before.image(demo.mask_preview(known, fill), caption="Your picture at 28x28; red = to fill in",
                     width="stretch")
        with kit.user_errors():
            bar, progress = progress_bar()
            generation = demo.inpaint(known, fill, class_name, seed, *settings, progress=progress)
            bar.empty()
        result = demo.to_picture(generation.images[0], scale=8)
        after.image(result, caption=f"Filled in as {class_name}", width="stretch")
        show_notes(generation)
        kit.ran_on(generation.device, generation.seconds)
        kit.download_image(result, f"inpainted_seed{seed}.png")
        st.subheader("The denoising trajectory")
        show_trajectory(generation, f"inpainted_seed{seed}")
    how_it_works(generation)


{"Generate": generate_page, "Latent walk (GAN)": latent_walk_page, "Inpaint (diffusion)": inpaint_page}[task]()
