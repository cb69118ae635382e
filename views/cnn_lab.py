"""What a CNN Sees page: widgets only; the work is in demos.cnn_lab."""
from __future__ import annotations

import streamlit as st

from core.progress import Progress
from demos import cnn_lab as demo
from ui import streamlit_kit as kit
from ui.lab_kit import figure

kit.page_header(demo.CARD)
CLASS_NAMES = dict(demo.CLASS_CHOICES)

st.subheader("What it sees")
photo_column, answer_column = st.columns((1, 2), gap="large")
with photo_column:
    photo = kit.image_input("cnn_photo", examples=list(demo.EXAMPLE_PHOTOS))
    cam_choice = st.selectbox("Grad-CAM for class", [demo.TOP_CLASS, *CLASS_NAMES],
                              format_func=lambda value: CLASS_NAMES.get(value, "the top class"))

if photo is not None:
    with kit.user_errors(stop=False):
        seen = demo.look(photo, demo.grad_cam_class(cam_choice))
        with answer_column:
            table, cam = st.columns(2)
            table.dataframe(demo.top_rows(seen), hide_index=True)
            cam.image(demo.cam_picture(seen), width="stretch",
                      caption=f"Grad-CAM for {CLASS_NAMES[str(seen.cam_class)]}: where the evidence lies")
            kit.ran_on(seen.device, seen.seconds)
        maps, stages = st.columns((3, 2), gap="large")
        with maps:
            figure(demo.stages_figure(seen))
        stages.dataframe(demo.stage_rows(seen), hide_index=True)

st.subheader("Pictures made for the network")
kind = st.segmented_control("Maximise", ["A class", "A channel"], default="A class", key="cnn_dream_kind")
settings, result_column = st.columns((1, 2), gap="large")
with settings:
    if kind == "A channel":
        stage = st.selectbox("Stage", demo.STAGES, index=3, format_func=dict(demo.STAGE_CHOICES).__getitem__)
        channel = st.number_input("Channel", 0, demo.STAGE_CHANNELS[int(stage) - 1] - 1, 12)
        target = ("channel", int(channel), demo.STAGES.index(stage))
    else:
        class_index = st.selectbox("Class (the first eight are presets)", list(CLASS_NAMES),
                                   format_func=CLASS_NAMES.__getitem__)
        target = ("class", int(class_index), 0)
    steps = st.slider("Steps of gradient ascent", 10, 300, demo.DEFAULT_STEPS, 10)
    jitter = st.slider("Jitter (px, random shift before each step)", 0, 32, demo.DEFAULT_JITTER)
    blur = st.slider("Blur after each step (px)", 0.0, 3.0, demo.DEFAULT_BLUR, 0.1)
    wanted = (target, steps, jitter, blur)
    if st.button("Run gradient ascent", type="primary"):
        st.session_state["cnn_dream"] = wanted

if st.session_state.get("cnn_dream") == wanted:  # asked for: kept by the demo, so a rerun shows it at once
    with result_column:
        bar, preview = st.progress(0.0, "Gradient ascent…"), st.empty()

        def show(step: Progress) -> None:
            bar.progress(step.fraction, f"Gradient ascent: step {step.done} of {step.total}, {step.note}")
            preview.image(step.preview, width=320)

        with kit.user_errors():
            dream = demo.maximise(*wanted, progress=show)
        bar.empty()
        preview.empty()
        probability = "" if dream.probability is None else f"; the network gives it {dream.probability:.0%}"
        st.image(dream.image, width=420, caption=f"{dream.title}{probability}")
        kit.ran_on(dream.device, dream.seconds)
    pictures, scores = st.columns(2, gap="large")
    with pictures:
        figure(demo.snapshots_figure(dream))
    with scores:
        figure(demo.scores_figure(dream))

with st.expander("How it works", expanded=True):
    st.markdown(demo.HOW_IT_WORKS)
