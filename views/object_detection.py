"""Object Detection page: widgets only; the work is in demos.object_detection."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.progress import Progress
from demos import object_detection as demo
from ui import streamlit_kit as kit

VIDEO_RESULT = "object_detection_video_result"  # session key: the last annotated clip survives reruns


def photo_tab(threshold: float, classes: list[str], model: str) -> None:
    input_column, output_column = st.columns(2, gap="large")
    with input_column:
        photo = kit.image_input("detect_photo", examples=demo.EXAMPLE_PHOTOS)
    if photo is None:
        return
    with kit.user_errors():
        result = demo.detect(photo, threshold, classes, model)
    with output_column:
        found_count = len(result.detections)
        st.image(result.image, width="stretch", caption=f"{found_count} object{'s' * (found_count != 1)} found "
                                                        f"at confidence ≥ {threshold:.2f}")
        kit.ran_on(result.device, result.seconds)
    found = demo.counts(result.detections)
    rows = demo.detection_rows(result.detections)
    counts_column, boxes_column = st.columns([1, 2])
    counts_column.dataframe(pd.DataFrame(found.items(), columns=["class", "count"]), hide_index=True)
    boxes_column.dataframe(pd.DataFrame(rows), hide_index=True)
    png, json, csv = st.columns(3)
    with png:
        kit.download_image(result.image, "detections.png")
    with json:
        kit.download_json({"counts": found, "detections": rows}, "detections.json")
    with csv:
        kit.download_csv(rows, "detections.csv")
    with st.expander("How it works", expanded=True):
        if result.raw is None:
            st.markdown(demo.HUB_HOW_IT_WORKS)
        else:
            how_it_works(result)


def how_it_works(result: demo.DetectionResult) -> None:
    st.markdown(demo.HOW_IT_WORKS)
    insides = demo.explain(result)
    anchors_column, scores_column = st.columns([2, 3])
    anchors_column.image(insides.default_boxes, caption=insides.default_boxes_caption, width="stretch")
    with scores_column:
        st.pyplot(insides.scores_figure)
    before, after = st.columns(2)
    before.image(insides.before_nms, width="stretch", caption=insides.before_nms_caption)
    after.image(insides.after_nms, width="stretch", caption=insides.after_nms_caption)


def video_tab(threshold: float, classes: list[str], model: str) -> None:
    clip = kit.video_input("detect_video", demo.example_clip)
    if clip is None:
        return
    if st.button("Detect objects in the clip", type="primary", icon=":material/movie:"):
        bar = st.progress(0.0, text="Reading the clip…")

        def show_progress(step: Progress) -> None:
            bar.progress(step.fraction, text=step.note)

        with kit.user_errors():
            st.session_state[VIDEO_RESULT] = demo.detect_video(clip, threshold, classes, progress=show_progress,
                                                               model=model)
        bar.empty()
    result: demo.VideoResult | None = st.session_state.get(VIDEO_RESULT)
    if result is None:
        return
    if result.stopped_early:
        st.warning(f"Stopped at the time limit: {result.frames_done} of about {result.frames_expected} frames "
                   "are annotated and kept below. Try a shorter clip.", icon="⏱️")
    st.video(result.video, format="video/mp4")
    st.caption(f"{result.frames_done} frames in {result.seconds:.1f} s ({result.frames_per_second:.1f} frames/s) "
               f"on **{result.device.upper()}**")
    st.download_button("Download annotated MP4", result.video, file_name="detections.mp4", mime="video/mp4",
                       on_click="ignore", icon=":material/download:")
    if result.counts_over_time.columns.empty:
        st.info("Nothing found above the threshold in any frame.")
    else:
        st.markdown("**Objects per frame**")
        colors = ["#{:02x}{:02x}{:02x}".format(*demo.class_color(name)) for name in result.counts_over_time]
        st.line_chart(result.counts_over_time, x_label="time (s)", y_label="count", color=colors)


kit.page_header(demo.CARD)
detector = st.radio("Model", list(demo.MODEL_CHOICES), format_func=demo.MODEL_CHOICES.get, horizontal=True)
st.caption("The hub model (RT-DETR, a transformer detector) is more accurate but is downloaded from the Hugging Face "
           "Hub on first use. Where the hub cannot be reached you get a message, and the bundled detector keeps "
           "working offline.")
threshold_column, classes_column = st.columns([1, 2])
confidence = threshold_column.slider("Confidence threshold", 0.05, 0.95, demo.DEFAULT_THRESHOLD, 0.05,
                                     help="Boxes scoring below this are not shown. Lower it to see more, "
                                          "and less sure, guesses.")
only = classes_column.multiselect("Only these classes (empty = all 80)", demo.CLASS_NAMES,
                                  placeholder="every class")
photo_panel, video_panel = st.tabs(["Photo", "Video"])
with photo_panel:
    photo_tab(confidence, only, detector)
with video_panel:
    video_tab(confidence, only, detector)
