"""Summarisation as a visitor uses it: an article in, its key sentences out, in order, with the why."""
import json

import numpy as np
import pytest

from conftest import as_shown
from core.validation import InputError
from demos import summarisation

ENDPOINT = summarisation.ENDPOINTS[0]
DEFAULTS = {field.name: field.default for field in ENDPOINT.inputs}  # the sample call

# Articles built here: topic sentences (the last one a paraphrase of the first) among off-topic filler.
ENGLISH_TOPIC = [
    "The city council opened the new river bridge on Monday after three years of construction.",
    "The bridge across the river now links the old town with the northern districts.",
    "Officials said the new crossing over the river will cut driving times across the city by a quarter.",
    "In short, the long-awaited bridge over the river has finally opened to traffic.",
]
ENGLISH_FILLER = [
    "My grandmother's favourite recipe uses three eggs and a cup of sugar.",
    "The chess club meets every Thursday evening in the school library.",
    "Penguins cannot fly, but they are excellent swimmers.",
    "A new smartphone game about farming has become popular among teenagers.",
]
RUSSIAN_TOPIC = [
    "В понедельник городской совет открыл новый мост через реку после трёх лет строительства.",
    "Мост через реку теперь соединяет старый город с северными районами.",
    "По словам чиновников, новая переправа через реку сократит время в пути по городу на четверть.",
    "Иными словами, долгожданный мост через реку наконец открыт для движения.",
]
RUSSIAN_FILLER = [
    "Любимый рецепт моей бабушки требует трёх яиц и стакана сахара.",
    "Шахматный клуб собирается каждый четверг вечером в школьной библиотеке.",
    "Пингвины не умеют летать, зато отлично плавают.",
    "Новая мобильная игра про ферму стала популярной среди подростков.",
]


def interleaved(topic: list[str], filler: list[str]) -> str:
    return " ".join(sentence for pair in zip(topic, filler) for sentence in pair)


@pytest.mark.parametrize("topic, filler, encoder", [
    (ENGLISH_TOPIC, ENGLISH_FILLER, "minilm"),
    (ENGLISH_TOPIC, ENGLISH_FILLER, "e5"),
    (RUSSIAN_TOPIC, RUSSIAN_FILLER, "e5"),
])
def test_summary_keeps_the_topic_sentences_in_order_and_drops_the_filler(topic, filler, encoder):
    summary = summarisation.summarise(interleaved(topic, filler), encoder=encoder, count=len(topic))
    kept = [summary.sentences[index].text for index in summary.chosen]
    assert kept == topic  # every topic sentence, no filler, in the article's order
    assert summary.text == " ".join(topic)
    assert (summary.method, summary.model) == ("extractive", encoder)


def test_language_is_detected_and_picks_the_encoder_that_reads_it():
    english = summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), count=2)
    russian = summarisation.summarise(interleaved(RUSSIAN_TOPIC, RUSSIAN_FILLER), count=2)
    assert (english.language, english.model, english.language_detected) == ("en", "minilm", True)
    assert (russian.language, russian.model) == ("ru", "e5")


@pytest.mark.parametrize("length, count, ratio, expected", [
    ("sentences", 2, 0.3, 2),
    ("ratio", 3, 0.5, 4),  # half of 8 sentences
    ("headline", 3, 0.3, 1),
])
def test_length_control_is_obeyed(length, count, ratio, expected):
    summary = summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), length=length, count=count,
                                      ratio=ratio)
    assert len(summary.chosen) == expected
    assert summary.chosen == sorted(summary.chosen)


def test_headline_is_the_single_most_central_sentence():
    summary = summarisation.summarise(interleaved(RUSSIAN_TOPIC, RUSSIAN_FILLER), length="headline")
    assert summary.chosen == [int(summary.ranking.centrality.argmax())]
    assert summary.text in RUSSIAN_TOPIC


def test_english_abbreviations_do_not_end_sentences():
    text = "Dr. Smith met Mr. Jones at 5 p.m. in Washington. They discussed J. R. R. Tolkien, e.g. his letters."
    assert [s.text for s in summarisation.split_sentences(text, "en")] == [
        "Dr. Smith met Mr. Jones at 5 p.m. in Washington.", "They discussed J. R. R. Tolkien, e.g. his letters."]


def test_russian_is_split_with_its_abbreviations():
    text = "Д-р Иванов, т.е. главный врач, приехал в 10 ч. утра. Он сказал: «Всё хорошо»."
    assert len(summarisation.split_sentences(text, "ru")) == 2


@pytest.mark.parametrize("text, message", [
    ("   \n ", "empty"),
    ("The bridge over the river opened to traffic on Monday morning.", "single sentence"),
    ("Der Stadtrat hat die neue Brücke eröffnet. Sie verbindet die Altstadt mit dem Norden der Stadt.",
     "does not look Russian or English"),
    ("这座新桥周一正式通车。它连接了老城和北部地区。市政府说通勤时间将缩短四分之一。", "Russian or English"),
    ("word " * 1_000_000, "too long"),  # a 5 MB paste
])
def test_bad_text_gets_a_clear_message(text, message):
    with pytest.raises(InputError, match=message):
        summarisation.summarise(text)


def test_english_encoder_is_refused_for_russian():
    with pytest.raises(InputError, match="cannot read Russian"):
        summarisation.summarise(interleaved(RUSSIAN_TOPIC, RUSSIAN_FILLER), encoder="minilm")


def test_manual_language_overrides_detection():
    summary = summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), language="en", encoder="e5")
    assert summary.language == "en" and not summary.language_detected


def test_very_long_text_is_cut_with_a_notice(monkeypatch):
    monkeypatch.setattr(summarisation.article, "MAX_SENTENCES", 6)
    summary = summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), count=2)
    assert len(summary.sentences) == 6
    assert any("only the first 6" in notice for notice in summary.notices)


def test_explain_shades_every_sentence_and_draws_heatmap_and_map():
    summary = summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), count=3)
    insides = summarisation.explain(summary)
    assert insides.shaded.count("<span") == len(summary.sentences)
    assert insides.shaded.count("font-weight: 700") == 3
    assert insides.similarity.axes[0].images  # the heatmap
    assert summary.ranking.similarity.shape == (8, 8)
    points, _ = summarisation.embedding_map(summary.ranking.embeddings)
    assert points.shape == (8, 2)


def test_page_summarises_the_example_as_prose_and_offers_a_download(gallery):
    app = gallery.switch_page("views/summarisation.py").run()
    assert not app.exception
    summary = summarisation.summarise(next(iter(summarisation.example_articles().values())))
    assert as_shown(summary.text) in [as_shown(markdown.value) for markdown in app.markdown], "the summary, as prose"
    assert not app.get("code"), "no monospace code box"
    assert app.get("download_button"), "the summary can be downloaded"
    assert any("Ran on" in caption.value for caption in app.caption)
    app.radio(key="summary_length").set_value("headline").run()
    assert not app.exception
    assert any("1 of" in caption.value for caption in app.caption)


def test_page_shows_a_message_for_a_one_sentence_paste(gallery):
    app = gallery.switch_page("views/summarisation.py").run()
    app.text_area(key="summary_text").input("Just one sentence about a bridge.")
    app.button(key="FormSubmitter:summary_form-Summarise").click().run()
    assert not app.exception
    assert any("single sentence" in error.value for error in app.error)


def test_page_summarises_a_pasted_article_when_summarise_is_pressed(gallery):
    app = gallery.switch_page("views/summarisation.py").run()
    article = interleaved(ENGLISH_TOPIC, ENGLISH_FILLER)
    app.text_area(key="summary_text").input(article)
    app.button(key="FormSubmitter:summary_form-Summarise").click().run()
    assert not app.exception and not app.error
    assert as_shown(summarisation.summarise(article).text) in [as_shown(markdown.value) for markdown in app.markdown]


def test_gradio_endpoint_returns_the_summary_and_details(gradio_client):
    text = interleaved(ENGLISH_TOPIC, ENGLISH_FILLER)
    summary, details, similarity, embedding_map, table = gradio_client.predict(
        text, "auto", "sentences", 2, 0.3, "auto", "extractive", api_name="/summarisation")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["language"] == "en" and len(details["chosen"]) == 2
    numbers = details["chosen"]
    assert all(number % 2 == 1 for number in numbers)  # topic sentences are the 1st, 3rd, 5th and 7th
    assert summary == " ".join(ENGLISH_TOPIC[(number - 1) // 2] for number in numbers)
    assert similarity and embedding_map  # PNG files
    assert table["headers"][:4] == ["#", "chosen", "score", "sentence"] and len(table["data"]) == 8


def test_gradio_endpoint_explains_bad_input(gradio_client):
    with pytest.raises(Exception, match="single sentence"):
        gradio_client.predict("One lonely sentence here.", "auto", "sentences", 2, 0.3, "auto", "extractive",
                              api_name="/summarisation")


def test_endpoint_insides_are_what_the_page_shows_for_the_extractive_summary():
    _, details, similarity, embedding_map, table = ENDPOINT.run(**DEFAULTS)
    page = summarisation.explain(summarisation.summarise(DEFAULTS["text"]))
    assert [ours.axes[0].get_title() for ours in (similarity, embedding_map)] == \
        [theirs.axes[0].get_title() for theirs in (page.similarity, page.embedding_map)]
    assert (similarity.axes[0].images[0].get_array() == page.similarity.axes[0].images[0].get_array()).all()
    assert table == page.sentences and [row["#"] for row in table if row["chosen"]] == details["chosen"]


@pytest.mark.parametrize("name, label", [
    ("method", "Extractive (bundled, offline)"), ("length", "Headline (one line)"),
    ("encoder", "all-MiniLM-L6-v2 (English)"), ("language", "English"),
])
def test_endpoint_takes_choice_values_and_refuses_their_labels(name, label):
    with pytest.raises(InputError, match="is not one of"):
        ENDPOINT.run(**{**DEFAULTS, name: label})


def test_an_unknown_method_gets_a_message():
    with pytest.raises(InputError, match="Unknown method 'bart'"):
        summarisation.summarise(interleaved(ENGLISH_TOPIC, ENGLISH_FILLER), method="bart")


def test_articles_embedded_together_get_the_vectors_they_get_alone():
    """Visitors' articles share one call (the batched model work): each gets the vectors it gets alone."""
    articles = [("minilm", tuple(ENGLISH_TOPIC)), ("e5", tuple(RUSSIAN_TOPIC)), ("minilm", tuple(ENGLISH_FILLER[:3])),
                ("e5", tuple(RUSSIAN_FILLER)), ("minilm", (ENGLISH_FILLER[3],))]
    together = summarisation.embed_articles(articles)
    for article, vectors in zip(articles, together):
        alone = summarisation.embed_articles([article])[0]
        assert vectors.shape == alone.shape == (len(article[1]), 384)
        assert np.allclose(vectors, alone, atol=1e-5)
