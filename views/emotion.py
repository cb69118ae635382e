"""Emotion Recognition page: widgets only; the work is in demos.emotion."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from PIL import Image

from demos import emotion as demo
from ui import streamlit_kit as kit

COLOURS = alt.Scale(domain=list(demo.EMOTIONS),
                    range=["#{:02x}{:02x}{:02x}".format(*demo.EMOTION_COLORS[e]) for e in demo.EMOTIONS])
PROBABILITY = alt.Scale(domain=[0, 1], nice=False)  # probabilities end at 1, not at the next "nice" number past it
FONT_PX = 13  # chart labels: Vega's 10-11 px defaults are small on a phone


def legible(chart: alt.Chart) -> alt.Chart:
    """Type a phone can read, and the chart's height for its bars alone (axes and legend are added to it)."""
    return (chart.configure_axis(labelFontSize=FONT_PX, titleFontSize=FONT_PX).configure_legend(labelFontSize=FONT_PX)
            .properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding")))


def faces_chart(rows: list[dict]) -> alt.Chart:
    """One bar per face, split into its seven probabilities; the legend in rows of four, so a phone shows all."""
    long = pd.DataFrame(rows).melt("face", var_name="emotion", value_name="probability")
    long["order"] = long["emotion"].map(demo.EMOTIONS.index)
    return legible(alt.Chart(long).mark_bar().encode(
        x=alt.X("probability:Q", scale=PROBABILITY, title="probability"),
        y=alt.Y("face:N", sort=None, title="face"),
        color=alt.Color("emotion:N", scale=COLOURS, legend=alt.Legend(orient="bottom", columns=4, title=None)),
        order="order:Q", tooltip=["face", "emotion", alt.Tooltip("probability:Q", format=".1%")],
    ).properties(height=alt.Step(24)))


def face_chart(face: demo.Face) -> alt.Chart:
    """One face's seven probabilities, coloured as in the chart above and on the boxes."""
    data = pd.DataFrame({"emotion": demo.EMOTIONS, "probability": face.probabilities})
    return legible(alt.Chart(data).mark_bar().encode(  # sideways: every emotion's name fits a phone
        x=alt.X("probability:Q", scale=PROBABILITY, title="probability"),
        y=alt.Y("emotion:N", sort=list(demo.EMOTIONS), title=None),
        color=alt.Color("emotion:N", scale=COLOURS, legend=None),
        tooltip=["emotion", alt.Tooltip("probability:Q", format=".1%")],
    ).properties(height=alt.Step(24)))


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
    if result.faces:  # no face, nothing to download: the message says the model reads human faces only
        download_png, download_json = st.columns(2)
        with download_png:
            kit.download_image(result.annotated, "emotions.png")
        with download_json:
            kit.download_json(demo.as_json(result), "emotions.json")

if not result.faces:
    result_column.image(demo.detector_view(result), width="stretch",
                        caption="What the detector saw: its face-centre heatmap (red = a face centre is likely here)")
    st.stop()

classified = demo.classified_faces(result)
if not classified:
    st.stop()

st.subheader("Every face, every emotion")
st.caption("Each face as the classifier saw it (aligned by the eyes, 64x64 grayscale), and its 7 probabilities.")
labels = list(classified)
with st.container(horizontal=True):  # the faces flow into rows as wide as the screen: three a row on a phone
    for label, read in classified.items():
        st.image(Image.fromarray(read.crop), caption=label, width=104)
st.altair_chart(faces_chart(demo.probability_rows(result)), width="stretch")

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
bars.altair_chart(face_chart(face), width="stretch")

first_maps, deeper_maps = st.columns(2, gap="large")  # side by side on a laptop, one under the other on a phone
first_maps.pyplot(demo.feature_maps(insides, demo.FIRST_STAGE), alt="Feature maps of the first convolution")
with deeper_maps:
    deeper_stage = st.select_slider("Deeper stage", insides.deeper_stages, value=demo.DEEPER_STAGE)
    st.pyplot(demo.feature_maps(insides, deeper_stage), alt=f"Feature maps of {deeper_stage}")

with st.expander("How it works", expanded=False):
    st.markdown(demo.HOW_IT_WORKS)
