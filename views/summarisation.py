"""Summarisation page: widgets only; the work is in demos.summarisation."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.documents import DOCUMENT_TYPES, read_document
from core.markdown import plain
from demos import summarisation as demo
from ui import streamlit_kit as kit

ARTICLE_KEY, SUBMITTED_KEY, EXAMPLE_KEY = "summary_text", "summary_submitted", "summary_example"
UPLOAD_KEY, READ_FILE_KEY = "summary_upload", "summary_read_file"
EXAMPLES = demo.example_articles()


def use_example() -> None:
    """An example picked fills the article box and is summarised at once."""
    st.session_state[ARTICLE_KEY] = st.session_state[SUBMITTED_KEY] = EXAMPLES[st.session_state[EXAMPLE_KEY]]


def use_document() -> None:
    """A newly uploaded document fills the article box and is summarised at once. This runs before the box is
    drawn (Streamlit refuses changes to a drawn widget's value); a file that cannot be read says why on every
    run until it is removed, and the article in the box stays."""
    upload = st.file_uploader("…or summarise a document", type=DOCUMENT_TYPES, key=UPLOAD_KEY,
                              help=f"Its text replaces the article below and is summarised at once. "
                                   f"Files: {kit.DOCUMENT_FILES}.")
    if upload is None or upload.file_id == st.session_state.get(READ_FILE_KEY):
        return
    with kit.user_errors(stop=False):
        text = read_document(upload.name, upload.getvalue())
        st.session_state[READ_FILE_KEY] = upload.file_id
        st.session_state[ARTICLE_KEY] = st.session_state[SUBMITTED_KEY] = text


kit.page_header(demo.CARD)
st.session_state.setdefault(ARTICLE_KEY, next(iter(EXAMPLES.values())))
st.session_state.setdefault(SUBMITTED_KEY, st.session_state[ARTICLE_KEY])
# the summary beside the article, the settings under both: on a phone the columns stack and the summary comes
# right after the Summarise button
text_column, summary_column = st.columns(2, gap="large")
settings = st.expander("Settings: language, method, length, lead bias, redundancy", expanded=True)

with text_column:
    st.selectbox("Article: example", list(EXAMPLES), key=EXAMPLE_KEY, on_change=use_example,
                 help="Pick one to put it in the article box and summarise it.")
    use_document()
    # a form: typing or pasting reruns nothing; the button (or Ctrl+Enter) summarises what the box holds
    with st.form("summary_form", border=False):
        article = st.text_area("Article (Russian or English)", height=300, key=ARTICLE_KEY,
                               placeholder="Paste an article here: at least two sentences.")
        if st.form_submit_button("Summarise", type="primary", icon=":material/summarize:"):
            st.session_state[SUBMITTED_KEY] = article

with settings:
    what, how_long, how_chosen = st.columns(3, gap="large")
    language = what.segmented_control("Language", list(demo.LANGUAGE_CHOICES), default="auto",
                                      key="summary_language", format_func=demo.LANGUAGE_CHOICES.get, wrap=True)
    method = what.radio("Method", list(demo.METHODS), key="summary_method", format_func=demo.METHODS.get,
                        help="Offline, the bundled extractive summariser is what runs; the abstractive models "
                             "download from the Hugging Face hub.")
    extractive = method == "extractive"
    encoder = what.selectbox("Sentence encoder", list(demo.ENCODER_CHOICES), key="summary_encoder",
                             format_func=demo.ENCODER_CHOICES.get, disabled=not extractive)
    length = how_long.radio("Length", list(demo.LENGTH_MODES), horizontal=True, key="summary_length",
                            format_func=demo.LENGTH_MODES.get)
    count = how_long.slider("Sentences to keep", 1, 10, 3, disabled=length != "sentences")
    ratio = how_long.slider("Share of sentences to keep", 0.05, 1.0, 0.3, 0.05, disabled=length != "ratio")
    lead_weight = how_chosen.slider("Lead bias", 0.0, 1.0, 0.25, 0.05,
                                    disabled=length == "headline" or not extractive,
                                    help="How much coming early in the text counts, next to centrality.")
    diversity = how_chosen.slider("Redundancy penalty (MMR)", 0.0, 0.9, 0.3, 0.05,
                                  disabled=length == "headline" or not extractive,
                                  help="0: take the top scores; higher: avoid sentences alike to those already "
                                       "chosen.")

working = "Reading…" if extractive else "Loading the hub model and writing…"
with summary_column, kit.user_errors(), st.spinner(working):
    summary = demo.summarise(st.session_state[SUBMITTED_KEY], language=language or "auto", encoder=encoder,
                             length=length, count=count, ratio=ratio, lead_weight=lead_weight, diversity=diversity,
                             method=method)
    st.subheader("Summary")
    with st.container(border=True):
        st.markdown(plain(summary.text))  # prose, as the article's own sentences read
    kit.ran_on(summary.device, summary.seconds)
    language_note = f"{demo.LANGUAGES[summary.language]} ({'detected' if summary.language_detected else 'chosen'})"
    if summary.generation is None:
        st.caption(f"{language_note} · {demo.ENCODERS[summary.model]} · "
                   f"{len(summary.chosen)} of {len(summary.sentences)} sentences")
    else:
        st.caption(f"{language_note} · abstractive: {summary.model} · {len(summary.generation.tokens)} tokens "
                   "written")
    kit.download_text(summary.text, "summary.txt")
    for notice in summary.notices:
        kit.notice(notice)

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
with numbers:  # a table wraps the sentences to the column's width, where a dataframe would scroll them away
    st.table(pd.DataFrame(insides.sentences).style.format("{}"), hide_index=True)

with st.expander("How it works", expanded=True):
    st.markdown(demo.HOW_IT_WORKS)
