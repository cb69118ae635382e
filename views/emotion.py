"""Emotion Recognition page: widgets only; the work is in demos.emotion."""
from __future__ import annotations

import pandas as pd
import streamlit as st
from PIL import Image

from demos import emotion as demo
from ui import streamlit_kit as kit

kit.page_header(demo.CARD)
input_column, result_column = st.columns([2, 3], gap="large")

with input_column:
    photo = kit.image_input("emotion_photo", examples=demo.EXAMPLES)
    detector_size = st.select_slider(
        "Detector resolution (longer side, px)", demo.DETECTOR_SIZES, value=demo.DEFAULT_DETECTOR_SIZE,
        help="Higher finds smaller faces (group photos) but takes longer.")

if photo is None:
    st.stop()

with kit.user_errors(), st.spinner("Looking for faces…"):
    result = demo.recognise(photo, detector_size)

with result_column:
    st.image(result.annotated, caption=f"{len(result.faces)} face(s) found", width="stretch")
    if result.message:
        (st.warning if not result.faces else st.info)(result.message)
    st.caption(f"Detector on **{result.detector_device.upper()}**, classifier on "
               f"**{result.classifier_device.upper()}**, {result.seconds:.2f} s in all "
               f"(detect {result.timings['detect']:.2f} s, align + classify {result.timings['align + classify']:.2f} s)")
    download_png, download_json = st.columns(2)
    with download_png:
        kit.download_image(result.annotated, "emotions.png")
    with download_json:
        kit.download_json(demo.as_json(result), "emotions.json")

if not result.faces:
    st.image(demo.detector_view(result), width=480,
             caption="What the detector saw: its face-centre heatmap (red = a face centre is likely here)")
    st.stop()

classified = demo.classified_faces(result)
if not classified:
    st.stop()

st.subheader("Every face, every emotion")
st.caption("Each face as the classifier saw it (aligned by the eyes, 64x64 grayscale), and its 7 probabilities.")
per_row = 6
labels = list(classified)
for start in range(0, len(labels), per_row):
    for column, label in zip(st.columns(per_row), labels[start:start + per_row]):
        column.image(Image.fromarray(classified[label].crop).resize((128, 128)), caption=label, width="stretch")
probabilities = pd.DataFrame(demo.probability_rows(result)).set_index("face")
st.bar_chart(probabilities, horizontal=True, sort=False, x_label="face", y_label="probability",
             color=["#{:02x}{:02x}{:02x}".format(*demo.EMOTION_COLORS[e]) for e in demo.EMOTIONS],
             height=max(160, 40 * len(labels) + 60))

st.subheader("Inside the network")
face_column, emotion_column = st.columns(2)
chosen_label = face_column.selectbox("Face", labels)
face = classified[chosen_label]
target = emotion_column.selectbox("Explain the evidence for", demo.EMOTIONS, index=demo.EMOTIONS.index(face.emotion))
with kit.user_errors():
    insides = demo.explain(face, target)

face_input, gradcam, bars = st.columns([1, 1, 2])
face_input.image(demo.network_input(insides), width="stretch", caption="The network's input: 64x64 grayscale")
gradcam.image(demo.gradcam_overlay(insides), width="stretch",
              caption=f"Grad-CAM: where the evidence for '{target}' came from")
bars.bar_chart(pd.DataFrame({"probability": face.probabilities}, index=list(demo.EMOTIONS)), sort=False,
               x_label="emotion", y_label="probability", height=260)

st.pyplot(demo.feature_maps(insides, demo.FIRST_STAGE))
deeper_stage = st.select_slider("Deeper stage", insides.deeper_stages, value=demo.DEEPER_STAGE)
st.pyplot(demo.feature_maps(insides, deeper_stage))

with st.expander("How it works", expanded=False):
    st.markdown(demo.HOW_IT_WORKS)
