"""Translation page: widgets only; the work is in demos.translation."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.documents import DOCUMENT_TYPES
from demos import translation as demo
from ui import streamlit_kit as kit

TEXT_KEY, SUBMITTED_KEY, EXAMPLE_KEY = "translation_text", "translation_submitted", "translation_example"
UPLOAD_KEY, READ_FILE_KEY, DOCUMENT_KEY = "translation_upload", "translation_read_file", "translation_document"
EXAMPLES = demo.example_sentences()


def use_example() -> None:
    """An example click fills the source box and translates it at once."""
    chosen = st.session_state[EXAMPLE_KEY]
    if chosen:
        st.session_state[TEXT_KEY] = st.session_state[SUBMITTED_KEY] = chosen


def use_document(direction: str) -> None:
    """A newly uploaded document fills the source box and is translated at once. This runs before the
    source box is drawn (Streamlit refuses changes to a drawn widget's value); a file that cannot be read
    is read again on every run until it is removed or readable (say, once a direction is chosen)."""
    upload = st.file_uploader(
        "Translate a document", type=DOCUMENT_TYPES, key=UPLOAD_KEY,
        help=f"Its text replaces the source text below and is translated at once; a long document is cut after "
             f"its first {demo.MAX_SENTENCES} sentences, with a notice. Files: {kit.DOCUMENT_FILES}.")
    if upload is None or upload.file_id == st.session_state.get(READ_FILE_KEY):
        return
    with kit.user_errors():
        document = demo.read_source_document(upload.name, upload.getvalue(), direction)
    st.session_state[READ_FILE_KEY], st.session_state[DOCUMENT_KEY] = upload.file_id, document
    st.session_state[TEXT_KEY] = st.session_state[SUBMITTED_KEY] = document.text


def document_notices() -> list[str]:
    """The uploaded document's notices (it was cut), while its text is the one translated."""
    document = st.session_state.get(DOCUMENT_KEY)
    return document.notices if document and document.text == st.session_state[SUBMITTED_KEY] else []


kit.page_header(demo.CARD)
st.session_state.setdefault(TEXT_KEY, EXAMPLES["en"][0])
st.session_state.setdefault(SUBMITTED_KEY, EXAMPLES["en"][0])

direction_column, model_column = st.columns([3, 2], gap="large")
direction = direction_column.segmented_control("Direction", list(demo.DIRECTION_LABELS), default="auto",
                                               format_func=demo.DIRECTION_LABELS.get, key="translation_direction",
                                               wrap=True)  # in a column it would scroll, cut off on a phone
model = model_column.radio("Model", list(demo.MODEL_CHOICES), format_func=demo.MODEL_CHOICES.get,
                           key="translation_model")
if model == "bundled":
    st.caption(f"⚠️ {demo.BUNDLED_LIMITS}")

source_column, target_column = st.columns(2, gap="large")
with source_column:
    use_document(direction or "auto")
    with st.form("translation_form", border=False):
        text = st.text_area("Source text (Russian or English)", height=180, key=TEXT_KEY,
                            placeholder="Type or paste a few sentences…")
        if st.form_submit_button("Translate", type="primary", icon=":material/translate:"):
            st.session_state[SUBMITTED_KEY] = text
    beam_column, alternatives_column = st.columns(2)
    beams = beam_column.slider("Beam size", 1, demo.MAX_BEAMS, 4, key="translation_beams",
                               help="How many partial translations beam search keeps at each step (1 = greedy).")
    alternatives = alternatives_column.slider(
        "Alternatives", 1, demo.MAX_BEAMS, 1, key="translation_alternatives",
        help="How many of the best complete translations to list per sentence (n-best); at most the beam size.")
    alternatives = min(alternatives, beams)  # beam search only ever holds `beams` complete hypotheses

with target_column, kit.user_errors(), st.spinner("Translating…"):
    translation = demo.translate(st.session_state[SUBMITTED_KEY], direction=direction or "auto", model=model,
                                 beams=beams, alternatives=alternatives)
    direction_name = demo.DIRECTIONS[f"{translation.source_language}-{translation.target_language}"]
    st.markdown(f"**Translation** · {direction_name} ({'detected' if translation.language_detected else 'chosen'})")
    st.code(translation.text, language=None, wrap_lines=True)  # the code box has a copy button
    kit.ran_on(translation.device, translation.seconds)
    kit.download_text(translation.text, "translation.txt")
for notice in document_notices() + translation.notices:
    kit.notice(notice)
st.pills("Examples (Tatoeba sentences the model never saw in training): click one to translate it",
         EXAMPLES["en"] + EXAMPLES["ru"], key=EXAMPLE_KEY, on_change=use_example)

if alternatives > 1:
    st.subheader("Alternatives (n-best)")
    st.caption("Score: mean log-probability per output token (closer to 0 = more confident).")
    # tables wrap their cells to the column (a dataframe scrolled columns out of sight on a phone), their values as
    # the demo rounded them (a table pads floats to four decimals)
    st.table(pd.DataFrame(demo.alternatives_table(translation)).style.format("{}"), hide_index=True)

st.subheader("Where the decoder looked: cross-attention")
layers, heads = demo.attention_layout(translation)
choices = st.columns([4, 1, 1])
sentence = choices[0].selectbox("Sentence", range(len(translation.sentences)), key="translation_sentence",
                                format_func=lambda i: f"{i + 1}. {translation.sentences[i].source.text}")
layer = choices[1].selectbox("Layer", [None, *range(layers)], key="translation_layer",
                             format_func=lambda i: "average" if i is None else str(i + 1))
head = choices[2].selectbox("Head", [None, *range(heads)], key="translation_head",
                            format_func=lambda i: "average" if i is None else str(i + 1))
with kit.user_errors():
    insides = demo.explain(translation, sentence or 0, layer, head)
figure_column, tokens_column = st.columns([3, 2], gap="large")
figure_column.pyplot(insides.figure, width="stretch")
with tokens_column:
    st.markdown(insides.tokens)
    st.caption("Each row of the heatmap is one output token; its cells show how much each source token "
               "weighed while the decoder chose it. `▁` (· in the heatmap) marks the start of a word.")

st.subheader("Side by side with another model")
compare_column, other_column = st.columns([1, 2])
compared = compare_column.toggle("Compare", key="translation_compare",
                                 help="The same text through a second model, each with where its decoder looked.")
others = [name for name in demo.MODEL_CHOICES if name != model]
other = other_column.radio("Second model", others, format_func=demo.MODEL_CHOICES.get, key="translation_other",
                           index=others.index(demo.second_model_to_compare(model)) if compared else 0,
                           disabled=not compared, label_visibility="collapsed")
if compared:
    with kit.user_errors(), st.spinner("Translating with both models…"):
        sides = demo.side_by_side(st.session_state[SUBMITTED_KEY], direction=direction or "auto",
                                  models=(model, other or others[0]), beams=beams)
        for column, side in zip(st.columns(2, gap="large"), sides):
            with column:
                st.markdown(f"**{demo.MODEL_CHOICES[side.model]}**")
                if side.translation is None:
                    kit.notice(side.message)
                    continue
                st.code(side.translation.text, language=None, wrap_lines=True)
                kit.ran_on(side.translation.device, side.translation.seconds)
                st.pyplot(side.figure, width="stretch")

with st.expander("How it works", expanded=True):
    st.markdown(demo.HOW_IT_WORKS)
    story = demo.training_story()
    if story["loss_curve"]:
        st.image(str(story["loss_curve"]), caption="Training of the bundled model's decoder")  # its own size, or the column's
    kit.key_numbers(demo.story_numbers(story))
    if story["scores"]:
        st.caption("Scores on held-out sentences (sacrebleu), beam search as in the demo:")
        st.table(pd.DataFrame(demo.score_table(story)).style.format("{}"), hide_index=True)
    if story["e5"]:
        st.caption("What reading with a pre-trained encoder buys: BLEU on the dev sentences (sacrebleu, beam 4), "
                   "the bundled model against the first one, trained from scratch on the same pairs:")
        st.table(pd.DataFrame(demo.reader_table(story)).style.format("{}"), hide_index=True)
    if story["choices"]:
        st.caption("The first model: one model for both directions, or one per direction? BLEU on the dev "
                   "sentences, the two designs trained with the same compute (the bidirectional one was kept):")
        st.table(pd.DataFrame(demo.design_table(story)).style.format("{}"), hide_index=True)
