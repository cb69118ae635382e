"""Spoken Digits page: widgets only; the work is in demos.audio_digits."""
from __future__ import annotations

import hashlib

import streamlit as st

from core.audio import wav_bytes
from demos import audio_digits as demo
from ui import streamlit_kit as kit

HISTORY_KEY, HISTORY_SIZE = "audio_digits_history", 4

kit.page_header(demo.CARD)
input_column, answer_column = st.columns(2, gap="large")

with input_column:
    recording = kit.audio_input("audio_digits", demo.example_recordings(), "Your recording")
    classifier = st.radio("Classifier", list(demo.CLASSIFIERS), format_func=demo.CLASSIFIERS.get, horizontal=True)

if recording is None:
    st.stop()
name, data = recording

with kit.user_errors(), st.spinner("Listening…"):
    result = demo.classify(data, classifier)

with input_column:
    kit.clip_player(wav_bytes(result.samples, demo.SAMPLE_RATE), "audio_digits_analysed",
                    f"What was analysed: {result.samples.size / demo.SAMPLE_RATE:.2f} s, mono, resampled to 8 kHz.")
    st.pyplot(demo.waveform_figure(result.samples, result.words))
    if result.clipped > 0.001:
        st.warning(f"{result.clipped:.1%} of the samples hit full scale (clipping): the recording was too loud "
                   "and is distorted. Move back from the microphone for a cleaner result.", icon="📢")

with answer_column:
    st.metric("Digits heard", result.digits,
              help="One digit per stretch of sound between silences.")
    sure = ", ".join(f"{word.digit}: {word.probabilities.max():.0%}" for word in result.words)
    st.caption(f"Confidence per word: {sure}")
    st.pyplot(demo.probabilities_figure(result))
    kit.ran_on(result.device, result.seconds)

st.subheader("The MFCC pipeline, step by step")
window_column, hop_column, mel_column, mfcc_column = st.columns(4)
trained = demo.MODEL_SETTINGS  # the sliders start there, as the Gradio tab's plots are drawn
window = window_column.select_slider("Window (samples)", [64, 128, 256, 512, 1024], value=trained.window,
                                     format_func=lambda n: f"{n} ({1000 * n / demo.SAMPLE_RATE:.0f} ms)")
hop = hop_column.select_slider("Hop (samples)", [16, 32, 64, 128, 256, 512], value=trained.hop,
                               format_func=lambda n: f"{n} ({1000 * n / demo.SAMPLE_RATE:g} ms)")
n_mels = mel_column.slider("Mel bands", 8, 80, trained.n_mels, 2)
n_mfcc = mfcc_column.slider("Coefficients", 2, 40, trained.n_mfcc)
if hop > window or n_mfcc > n_mels:
    st.info("The hop is capped at the window length and the coefficients at the number of mel bands.")
settings = demo.MfccSettings(window, min(hop, window), n_mels, min(n_mfcc, n_mels))
st.caption("The classifiers always use their training settings (256, 128, 40 mel bands, 20 coefficients); "
           "the sliders change only these plots.")
steps = demo.explain(demo.pipeline(result.samples, settings)).steps
for pair in (steps[:2], steps[2:]):  # two plots to a row on a laptop, one under the other on a phone
    for column, step in zip(st.columns(2, gap="large"), pair):
        column.pyplot(step.figure)
        column.caption(step.caption)

st.subheader("Say it again")
fingerprint = hashlib.sha1(data).hexdigest()
history = st.session_state.setdefault(HISTORY_KEY, [])
if not history or history[-1][0] != fingerprint:
    history.append((fingerprint, f"{name[:18]} → {result.digits}", result.samples))
    del history[:-HISTORY_SIZE]
note_column, comparison_column = st.columns(2, gap="large")
note_column.caption(f"MFCCs of the last {len(history)} recording(s) of this session side by side (coefficient 0, "
                    f"the level, left out; up to {HISTORY_SIZE}). Record the same digit again, or another one, and "
                    "compare the patterns.")
comparison_column.pyplot(demo.mfcc_comparison_figure([(label, samples) for _, label, samples in history]))

with st.expander("How it works", expanded=False):
    st.markdown(demo.HOW_IT_WORKS)
