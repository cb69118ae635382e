"""Summarisation page: widgets only; the work is in demos.summarisation."""
from __future__ import annotations

import streamlit as st

from demos import summarisation as demo
from ui import streamlit_kit as kit

kit.page_header(demo.CARD)
text_column, settings_column = st.columns([3, 2], gap="large")

with text_column:
    text = kit.document_input("summary_text", demo.example_articles(), label="Article")

with settings_column:
    language = st.segmented_control("Language", list(demo.LANGUAGE_CHOICES), default="auto", key="summary_language",
                                    format_func=demo.LANGUAGE_CHOICES.get)
    method = st.radio("Method", list(demo.METHODS), key="summary_method", format_func=demo.METHODS.get,
                      help="Offline, the bundled extractive summariser is what runs; the abstractive models "
                           "download from the Hugging Face hub.")
    extractive = method == "extractive"
    encoder = st.selectbox("Sentence encoder", list(demo.ENCODER_CHOICES), key="summary_encoder",
                           format_func=demo.ENCODER_CHOICES.get, disabled=not extractive)
    length = st.radio("Length", list(demo.LENGTH_MODES), horizontal=True, key="summary_length",
                      format_func=demo.LENGTH_MODES.get)
    count = st.slider("Sentences to keep", 1, 10, 3, disabled=length != "sentences")
    ratio = st.slider("Share of sentences to keep", 0.05, 1.0, 0.3, 0.05, disabled=length != "ratio")
    lead_weight = st.slider("Lead bias", 0.0, 1.0, 0.25, 0.05, disabled=length == "headline" or not extractive,
                            help="How much coming early in the text counts, next to centrality.")
    diversity = st.slider("Redundancy penalty (MMR)", 0.0, 0.9, 0.3, 0.05,
                          disabled=length == "headline" or not extractive,
                          help="0: take the top scores; higher: avoid sentences alike to those already chosen.")

if not text:
    st.stop()

with kit.user_errors(), st.spinner("Reading…" if extractive else "Loading the hub model and writing…"):
    summary = demo.summarise(text, language=language or "auto", encoder=encoder, length=length, count=count,
                             ratio=ratio, lead_weight=lead_weight, diversity=diversity, method=method)

for notice in summary.notices:
    kit.notice(notice)
st.subheader("Summary")
st.code(summary.text, language=None, wrap_lines=True)  # the code box has a copy button
kit.ran_on(summary.device, summary.seconds)
language_note = f"{demo.LANGUAGES[summary.language]} ({'detected' if summary.language_detected else 'chosen'})"
if summary.generation is None:
    st.caption(f"{language_note} · {demo.ENCODERS[summary.model]} · "
               f"{len(summary.chosen)} of {len(summary.sentences)} sentences")
else:
    st.caption(f"{language_note} · abstractive: {summary.model} · {len(summary.generation.tokens)} tokens written")
kit.download_text(summary.text, "summary.txt")

insides = demo.explain(summary)
if summary.generation is None:
    st.subheader("Why these sentences")
    shaded, heatmap, embedding_map, numbers = st.tabs(
        ["Sentences shaded by score", "Similarity heatmap", "Embedding map", "Numbers"])
    with shaded:
        st.caption("Darker = higher score; outlined = chosen. Hover a sentence for its number and score.")
        st.html(insides.shaded)
    with heatmap:
        st.pyplot(insides.similarity, width="content")
    with embedding_map:
        st.pyplot(insides.embedding_map, width="content")
else:
    st.subheader("What the generator read and how sure it was")
    tokens, shaded, attention, numbers = st.tabs(
        ["Tokens by probability", "Sentences shaded by attention", "Cross-attention", "Numbers"])
    with tokens:
        st.caption("Darker = the model was surer of that token. Hover a token for its probability.")
        st.html(insides.tokens)
    with shaded:
        st.caption("Darker = the generator attended more to that sentence while writing.")
        st.html(insides.shaded)
    with attention:
        st.pyplot(insides.attention, width="content")
with numbers:
    st.dataframe(insides.sentences, hide_index=True)

with st.expander("How it works", expanded=True):
    st.markdown(demo.HOW_IT_WORKS)
