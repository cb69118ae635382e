"""Translation as a visitor uses it: Russian or English in, the other language out, sentence by
sentence, with alternatives and the cross-attention behind them.

The shipped model is exercised as is; the loading code is also driven through a tiny
MarianMT model and tokenizer that the test builds and saves to a temporary folder (the same
``from_pretrained`` path a hub checkpoint takes), so nothing here needs the network.
"""
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import sentencepiece as spm
import torch
from safetensors.torch import load_file
from transformers import MarianTokenizer

from core.validation import MAX_TEXT_CHARS, InputError
from demos import translation
from demos.translation import decoding, e5_reader, marian
from scripts.prepare_translation_data import TARGET_TAGS, Pair, build_tokenizer, encode_examples, write_tsv
from scripts.train_translation import Recipe, build_model, direction_tag_ids, learning_rate, training_examples
from conftest import as_shown
from test_summarisation_documents import scanned_pdf, word_document

ENDPOINT = translation.ENDPOINTS[0]
DEFAULTS = {field.name: field.default for field in ENDPOINT.inputs}  # the sample call
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
TINY_CORPUS = [
    "I love my cat.", "Я люблю свою кошку.", "Where is the station?", "Где вокзал?",
    "We live in a big city.", "Мы живём в большом городе.", "It is cold today.", "Сегодня холодно.",
    "Tom reads a book in the garden.", "Том читает книгу в саду.",
]


def mostly(script: re.Pattern, text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and len(script.findall(text)) > 0.5 * len(letters)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A freshly initialised (untrained) 1-layer MarianMT with a 60-piece shared vocabulary, saved with
    save_pretrained: it checks plumbing and shapes, never translation quality."""
    folder = tmp_path_factory.mktemp("tiny_marian")
    prefix = folder / "tiny_spm"
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TINY_CORPUS * 3), model_prefix=str(prefix), vocab_size=60, model_type="bpe",
        character_coverage=1.0, bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1, hard_vocab_limit=False,
        minloglevel=2,
    )
    tokenizer = build_tokenizer(prefix.with_suffix(".model"), folder)
    model = build_model(Recipe(d_model=16, layers=1, heads=2, ffn=32), tokenizer)
    model.save_pretrained(folder / "tokenizer")
    return str(folder / "tokenizer")


# --- the shipped model ------------------------------------------------------------------

@pytest.mark.parametrize("text, direction, target_script", [
    ("I love my cat.", "en-ru", CYRILLIC),
    ("Where is the train station?", "en-ru", CYRILLIC),
    ("Я люблю свою собаку.", "ru-en", LATIN),
    ("Мы живём в большом городе.", "ru-en", LATIN),
])
def test_shipped_model_translates_simple_sentences_into_the_other_script(text, direction, target_script):
    result = translation.translate(text)
    assert f"{result.source_language}-{result.target_language}" == direction and result.language_detected
    assert mostly(target_script, result.text), result.text
    assert result.model == str(translation.MODEL_DIR)


@pytest.mark.parametrize("text, key_word", [  # sentences written for this test, absent from the training data
    ("Tom is reading a book in the garden.", "Том"),
    ("It is very cold today.", "очень"),
    ("Мы живём в большом городе.", "city"),
])
def test_shipped_model_gets_the_key_word_of_simple_unseen_sentences(text, key_word):
    assert key_word in translation.translate(text).text


@pytest.mark.parametrize("language", list(translation.EXAMPLES))
def test_the_examples_a_visitor_meets_first_are_dev_sentences_the_model_translates_as_their_reference(language):
    """Every example, the page's and the API's default first, is a Tatoeba dev pair (held out from training and
    from the test sets) that the shipped model gets exactly right: the old default, "I love my cat.", came out
    "Я люблю кошка."."""
    splits = json.loads((translation.MODEL_DIR / "data_splits.json").read_text(encoding="utf-8"))
    dev = set(splits["held_out_sha1_prefixes"]["tatoeba_dev"])
    for source, reference in translation.EXAMPLES[language].items():
        english, russian = (source, reference) if language == "en" else (reference, source)
        assert Pair(english, russian, "tatoeba").key[:12] in dev, source
        assert translation.translate(source).text == reference
    assert DEFAULTS["text"] == translation.example_sentences()["en"][0] == next(iter(translation.EXAMPLES["en"]))


@pytest.mark.parametrize("folder", [translation.MODEL_DIR, translation.SCRATCH_MODEL_DIR], ids=["e5", "scratch"])
def test_each_bundled_model_is_one_bidirectional_fp16_checkpoint_under_25_mb(folder):
    files = list(folder.glob("*.safetensors"))
    assert files and all(f.stat().st_size <= 25 * 2**20 for f in files)
    assert all(tensor.dtype == torch.float16 for f in files for tensor in load_file(f).values())
    assert translation.load(folder).bidirectional


def test_sentences_are_translated_one_by_one_and_rejoined_with_the_paragraphs():
    text = "I love my cat. Where is the station?\n\nIt is cold today."
    result = translation.translate(text, beams=2)
    assert [s.source.text for s in result.sentences] == ["I love my cat.", "Where is the station?", "It is cold today."]
    first_paragraph, second_paragraph = result.text.split("\n\n")
    assert first_paragraph == f"{result.sentences[0].best} {result.sentences[1].best}"
    assert second_paragraph == result.sentences[2].best


def test_n_best_alternatives_come_with_scores_best_first():
    result = translation.translate("Tom is reading a book in the garden.", beams=4, alternatives=3)
    hypotheses = result.sentences[0].hypotheses
    assert len(hypotheses) == 3 and len({h.text for h in hypotheses}) == 3
    scores = [h.score for h in hypotheses]
    assert scores == sorted(scores, reverse=True) and all(score < 0 for score in scores)
    assert [row["rank"] for row in translation.alternatives_table(result)] == [1, 2, 3]


@pytest.mark.parametrize("model, first_source_tokens", [("bundled", ["<s>", "▁passage", ":"]),  # as E5 reads
                                                         ("scratch", [TARGET_TAGS["en"]])])  # its direction tag
def test_cross_attention_has_one_row_per_output_token_and_one_column_per_source_token(model, first_source_tokens):
    result = translation.translate("Я люблю свою собаку. Сегодня холодно.", model=model)
    attention = translation.explain(result, sentence=1).attention
    layers, heads = translation.attention_layout(result)
    assert attention.source_tokens[:len(first_source_tokens)] == first_source_tokens
    assert attention.source_tokens[-1] == "</s>" and attention.target_tokens[-1] == "</s>"
    assert attention.weights.shape == (layers, heads, len(attention.target_tokens), len(attention.source_tokens))
    assert attention.weights.sum(axis=-1) == pytest.approx(1.0, abs=1e-3)


def test_the_bundled_beam_search_scores_what_a_full_forward_pass_scores():
    """Beam search keeps each step's keys and values; one whole forward pass over what it wrote, without that
    cache, must give the same log-probability, and with one beam each piece is the most likely one but </s>."""
    from demos.networks.e5_translator import beam_search

    reader = translation.load()
    config = reader.decoder.config
    states = reader.encoder.states(["Where is the train station?"])
    written = beam_search(reader.decoder, states, "ru", beams=1)[0][0]
    tokens = [config.tag("ru"), *written.ids, config.eos]
    with torch.no_grad():
        logits = reader.decoder(torch.from_numpy(states[0][None]), torch.ones(1, len(states[0]), dtype=torch.bool),
                                torch.tensor([tokens[:-1]]))[0]
    log_probabilities = torch.log_softmax(logits, -1)
    assert float(log_probabilities[range(len(tokens) - 1), tokens[1:]].sum()) == pytest.approx(
        written.log_probability, abs=1e-3)
    log_probabilities[:, config.pad:] = log_probabilities[:, config.eos] = -torch.inf  # never <pad> or a tag
    assert log_probabilities[:-1].argmax(-1).tolist() == written.ids


def test_the_loop_rules_forbid_a_repeated_ngram_and_a_third_repetition_in_a_row():
    from demos.networks.e5_translator import _banned

    assert _banned([7, 8, 9, 7], no_repeat_ngram=2, no_triple=0) == {8}  # "7 8" again
    assert _banned([5, 6, 5, 6], no_repeat_ngram=0, no_triple=8) == {5}  # "5 6" a third time
    assert _banned([4, 4], no_repeat_ngram=0, no_triple=8) == {4}
    assert _banned([1, 2, 3], no_repeat_ngram=4, no_triple=8) == set()


@pytest.mark.parametrize("model, module", [("bundled", e5_reader), ("scratch", marian)])
def test_batches_give_the_same_translations_as_one_sentence_at_a_time(monkeypatch, model, module):
    translator = translation.load(translation.model_source(model, "en-ru"))
    alone = [translation.generate(translator, [text], "ru", 1, 1)[0][0].text for text in TINY_CORPUS[::2]]
    monkeypatch.setattr(module, "BATCH_SIZE", 2)
    batched = [hypotheses[0].text for hypotheses in translation.generate(translator, TINY_CORPUS[::2], "ru", 1, 1)]
    assert batched == alone


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("  \n ", "empty"),
    ("12 345 + 67 = 12 412", "no words"),
    ("😀🎉👍", "no words"),
    ("Der Stadtrat hat die neue Brücke über den Fluss eröffnet, und sie verbindet die Altstadt mit dem Norden.",
     "does not look Russian or English"),
    ("word " * 30_000, "too long"),
])
def test_bad_text_gets_a_clear_message(text, message):
    with pytest.raises(InputError, match=message):
        translation.translate(text)


def test_impossible_options_are_refused():
    with pytest.raises(InputError, match="at most as many as the beam size"):
        translation.translate("Hello.", beams=2, alternatives=3)
    with pytest.raises(InputError, match="Unknown model"):
        translation.translate("Hello.", model="no-such-model")


def test_hub_model_without_network_gets_a_message_not_a_traceback():  # conftest: HF_HUB_OFFLINE=1
    with pytest.raises(InputError, match="need a network connection"):
        translation.translate("Hello, my friend.", model="hub")


def test_a_chosen_direction_against_the_text_is_translated_with_a_notice(tiny_model_dir):
    result = translation.translate("Я люблю свою кошку.", direction="en-ru", model=tiny_model_dir)
    assert (result.source_language, result.language_detected) == ("en", False)
    assert any("looks Russian" in notice for notice in result.notices)


def test_long_texts_are_capped_with_a_notice(tiny_model_dir):
    text = " ".join(f"Sentence number {i} is here." for i in range(translation.MAX_SENTENCES + 5))
    result = translation.translate(text, beams=1, model=tiny_model_dir)
    assert len(result.sentences) == translation.MAX_SENTENCES
    assert any(f"only the first {translation.MAX_SENTENCES}" in notice for notice in result.notices)


def test_long_sentences_are_capped_by_characters_with_a_notice(tiny_model_dir):
    sentence = "This sentence goes on and on, " + "and on and on and on, " * 30 + "until it stops."
    result = translation.translate(" ".join([sentence] * 30), beams=1, model=tiny_model_dir)
    translated = sum(len(item.source.text) for item in result.sentences)
    assert 1 <= len(result.sentences) < 30 and translated <= translation.MAX_SOURCE_CHARS
    assert any(f"{translation.MAX_SOURCE_CHARS:,} characters at a time" in notice for notice in result.notices)


def test_beam_search_batches_keep_their_scores_within_the_budget():
    lengths = [128] * 40 + [12] * 40  # long sentences and short ones, as a long paste gives
    for beams in (1, 4, translation.MAX_BEAMS):
        batches = marian.score_budget_batches(lengths, beams, vocabulary=8004)
        assert sorted(i for batch in batches for i in batch) == list(range(80))
        for batch in batches:
            longest = max(lengths[i] for i in batch)
            kept = len(batch) * beams * marian.new_tokens(longest) * 8004 * 4
            assert len(batch) == 1 or kept <= marian.SCORES_BUDGET_BYTES
    assert len(marian.score_budget_batches([12] * 40, 4, vocabulary=8004)) == 3  # short sentences still batch by 16


# --- documents the visitor uploads -------------------------------------------------------

def test_an_uploaded_text_file_is_translated():
    document = translation.read_source_document("note.txt", "Я люблю свою собаку.\nСегодня холодно.\n".encode())
    assert (document.text, document.notices) == ("Я люблю свою собаку.\nСегодня холодно.", [])
    result = translation.translate(document.text)
    assert result.source_language == "ru" and len(result.sentences) == 2 and mostly(LATIN, result.text)


def test_an_uploaded_word_document_is_translated_paragraph_by_paragraph():
    document = translation.read_source_document("letter.docx", word_document(["I love my cat.", "It is cold today."]))
    result = translation.translate(document.text, beams=2)
    paragraphs = result.text.split("\n\n")
    assert len(paragraphs) == 2 and all(mostly(CYRILLIC, paragraph) for paragraph in paragraphs)


def test_a_long_document_is_cut_to_one_translation_with_a_notice():
    sentences = [f"Sentence number {i} is here." for i in range(MAX_TEXT_CHARS // 20)]  # far over the paste limit
    document = translation.read_source_document("book.md", " ".join(sentences).encode())
    assert document.text == " ".join(sentences[:translation.MAX_SENTENCES])
    assert document.notices == [f"book.md is longer than one translation ({len(' '.join(sentences)):,} characters): "
                                f"its first {translation.MAX_SENTENCES} sentences are translated (at most "
                                f"{translation.MAX_SENTENCES} sentences and {translation.MAX_SOURCE_CHARS:,} "
                                "characters at a time)."]


@pytest.mark.parametrize("file_name, data, message", [
    ("notes.odt", b"Hello there.", "not supported"),
    ("scan.pdf", scanned_pdf(), "no text layer"),
    ("brief.txt", "Der Stadtrat hat die neue Brücke über den Fluss eröffnet, und sie verbindet die Altstadt mit "
                  "dem Norden.".encode(), "does not look Russian or English"),
])
def test_a_document_with_nothing_to_translate_gets_a_clear_message(file_name, data, message):
    with pytest.raises(InputError, match=message):
        translation.read_source_document(file_name, data)


# --- any saved MarianMT checkpoint, through the one from_pretrained path ------------------

def test_a_saved_marian_checkpoint_round_trips_through_the_loader(tiny_model_dir):
    translator = translation.load(tiny_model_dir)
    assert translator.name == tiny_model_dir and translator.bidirectional
    assert translator.model.config.d_model == 16
    result = translation.translate("I love my cat. It is cold today.", model=tiny_model_dir, beams=3, alternatives=2)
    assert result.model == tiny_model_dir and len(result.sentences) == 2
    assert all(len(s.hypotheses) == 2 for s in result.sentences)
    attention = translation.cross_attention(result, sentence=0, alternative=1)
    assert attention.weights.shape[2:] == (len(attention.target_tokens), len(attention.source_tokens))


# --- training ----------------------------------------------------------------------------

def tiny_training_data(folder, tokenizer_dir) -> list[Pair]:
    """What prepare_translation_data.py writes, for the tiny corpus: encoded examples, their
    origins, a Tatoeba dev file and the tokenizer."""
    pairs = [Pair(TINY_CORPUS[i], TINY_CORPUS[i + 1], "tatoeba" if i < 6 else "news")
             for i in range(0, len(TINY_CORPUS), 2)]
    tokenizer = MarianTokenizer.from_pretrained(tokenizer_dir)
    tokenizer.save_pretrained(folder / "tokenizer")
    examples = encode_examples(tokenizer, pairs)
    torch.save({"train": examples, "train_origins": [p.origin for p in pairs] * 2,
                "tatoeba_dev": examples[:2], "news_dev": examples[-2:]}, folder / "encoded.pt")
    write_tsv(folder / "tatoeba_dev.tsv", pairs[:2])
    return pairs


def test_training_sees_the_short_everyday_sentences_more_often(tmp_path, tiny_model_dir):
    tiny_training_data(tmp_path, tiny_model_dir)
    encoded = torch.load(tmp_path / "encoded.pt")
    tokenizer = MarianTokenizer.from_pretrained(tmp_path / "tokenizer")
    chosen = training_examples(encoded, Recipe(tatoeba_repeats=3), direction_tag_ids("both", tokenizer))
    tatoeba = [ex for ex, origin in zip(encoded["train"], encoded["train_origins"]) if origin == "tatoeba"]
    assert len(chosen) == 3 * len(tatoeba) + (len(encoded["train"]) - len(tatoeba))
    assert all(chosen.count(example) >= 3 for example in tatoeba)


def test_a_one_way_model_learns_from_its_own_direction_only(tmp_path, tiny_model_dir):
    """For the bidirectional-vs-one-way comparison: an en-ru model sees every pair once, English first."""
    pairs = tiny_training_data(tmp_path, tiny_model_dir)
    encoded = torch.load(tmp_path / "encoded.pt")
    tokenizer = MarianTokenizer.from_pretrained(tmp_path / "tokenizer")
    both = training_examples(encoded, Recipe(tatoeba_repeats=1), direction_tag_ids("both", tokenizer))
    to_russian = training_examples(encoded, Recipe(tatoeba_repeats=1), direction_tag_ids("en-ru", tokenizer))
    assert len(to_russian) == len(pairs) == len(both) // 2
    assert {source[0] for source, _ in to_russian} == {tokenizer.convert_tokens_to_ids(">>rus<<")}


def test_the_learning_rate_warms_up_linearly_and_again_after_a_warm_start():
    recipe = Recipe(peak_lr=1e-3, warmup_steps=400)
    assert learning_rate(100, recipe) == pytest.approx(0.25e-3)
    assert learning_rate(400, recipe) == pytest.approx(1e-3)
    assert learning_rate(1600, recipe) == pytest.approx(0.5e-3)  # then the inverse square root of the step
    assert learning_rate(1700, recipe, warm_started_at=1600) == pytest.approx(0.25 * learning_rate(1700, recipe))
    assert learning_rate(2400, recipe, warm_started_at=1600) == pytest.approx(learning_rate(2400, recipe))


def test_the_page_story_says_why_one_model_serves_both_directions():
    rows = {row.pop("dev set"): row for row in translation.design_table(translation.training_story())}
    assert all(set(row) == {"bidirectional", "one-way"} for row in rows.values())
    assert rows["mean"]["bidirectional"] > rows["mean"]["one-way"]  # why the shipped model is the bidirectional one
    assert "news dev, Russian → English" in rows


def test_the_page_story_shows_what_the_pre_trained_reader_buys_on_the_dev_sets():
    """The bundled model against the first one on every dev set and direction, from the files the training
    script's evaluate and baseline wrote; FLORES dev was in the first model's training data, and says so."""
    story = translation.training_story()
    rows = {row["dev set"]: row for row in translation.reader_table(story)}
    assert len(rows) == 6 and "FLORES dev (general text), English → Russian" in rows
    for name, row in rows.items():
        assert isinstance(row["E5 reads (bundled)"], float)
        assert row["from scratch (first model)"].endswith("(trained on it)") == name.startswith("FLORES")
    assert story["e5"]["checkpoint"].endswith("translation_e5")  # the shipped export, not a checkpoint


def test_training_goes_on_from_the_shipped_model_when_no_checkpoint_is_left(tmp_path):
    """runs/ is not in a fresh clone: --warm-start carries the shipped weights, step count and log on."""
    shipped = translation.SCRATCH_MODEL_DIR
    tiny_training_data(tmp_path / "data", shipped)
    record = json.loads((shipped / "training.json").read_text(encoding="utf-8"))
    export = tmp_path / "export"
    subprocess.run([sys.executable, "scripts/train_translation.py", "--preset", "cpu", "--warm-start", str(shipped),
                    "--data-dir", str(tmp_path / "data"), "--ckpt-dir", str(tmp_path / "checkpoints"),
                    "--export-dir", str(export), "--loss-curve", str(tmp_path / "loss_curve.png"),
                    "--max-steps", str(record["steps"] + 2), "--minutes", "1e9"],  # the budget counts the export's minutes
                   check=True, capture_output=True, timeout=600)
    exported = json.loads((export / "training.json").read_text(encoding="utf-8"))
    assert exported["steps"] == record["steps"] + 2
    assert exported["warm_starts"] == record["warm_starts"] + [record["steps"]]
    assert exported["history"][:len(record["history"])] == record["history"]
    assert exported["evaluations"][:len(record["evaluations"])] == record["evaluations"]
    before, after = load_file(shipped / "model.safetensors"), load_file(export / "model.safetensors")
    assert before.keys() == after.keys() and any(not torch.equal(before[k], after[k]) for k in before)
    assert (tmp_path / "loss_curve.png").stat().st_size > 0


# --- front ends -------------------------------------------------------------------------

def test_page_translates_the_example_and_then_what_the_visitor_submits(gallery):
    gallery.switch_page("views/translation.py").run()
    assert not gallery.exception and not gallery.error
    assert mostly(CYRILLIC, gallery.code[0].value)  # the first English example, in Russian
    gallery.text_area(key="translation_text").input("Мы живём в большом городе. Сегодня холодно.")
    gallery.button(key="FormSubmitter:translation_form-Translate").click().run()
    assert not gallery.exception and not gallery.error
    assert mostly(LATIN, gallery.code[0].value)
    assert "Russian → English (detected)" in " ".join(m.value for m in gallery.markdown)


def test_page_translates_an_uploaded_document_and_then_a_clicked_example(gallery):
    gallery.switch_page("views/translation.py").run()
    gallery.file_uploader(key="translation_upload").set_value(("scan.pdf", scanned_pdf(), "application/pdf")).run()
    assert not gallery.exception and "no text layer" in gallery.error[0].value
    note = ("note.txt", "Мы живём в большом городе.".encode(), "text/plain")
    gallery.file_uploader(key="translation_upload").set_value(note).run()
    assert not gallery.exception and not gallery.error
    assert gallery.text_area(key="translation_text").value == "Мы живём в большом городе."
    assert mostly(LATIN, gallery.code[0].value)
    example = translation.example_sentences()["en"][1]
    gallery.pills(key="translation_example").set_value(example).run()
    assert not gallery.exception and not gallery.error
    assert gallery.text_area(key="translation_text").value == example and mostly(CYRILLIC, gallery.code[0].value)


def test_page_says_a_long_document_was_cut_while_its_text_is_the_one_translated(gallery):
    gallery.switch_page("views/translation.py").run()
    gallery.slider(key="translation_beams").set_value(1)  # greedy: 40 sentences on a slow CPU
    long_text = " ".join(f"Sentence number {i} is here." for i in range(translation.MAX_SENTENCES + 5))
    gallery.file_uploader(key="translation_upload").set_value(("long.md", long_text.encode(), "text/markdown")).run()
    assert not gallery.exception and not gallery.error
    assert any("long.md is longer than one translation" in as_shown(info.value) for info in gallery.info)
    gallery.pills(key="translation_example").set_value(translation.example_sentences()["ru"][0]).run()
    assert not any("long.md" in as_shown(info.value) for info in gallery.info)


def test_gradio_endpoint_returns_the_translation_and_its_alternatives(gradio_client):
    text, details, attention, tokens, alternatives = gradio_client.predict(
        "I love my cat.", "auto", 4, 2, "bundled", api_name="/translation")
    details = details if isinstance(details, dict) else json.loads(details)
    assert mostly(CYRILLIC, text)
    assert details["target_language"] == "ru" and len(details["sentences"][0]["alternatives"]) == 2
    assert details["limits"] == translation.BUNDLED_LIMITS  # what to expect of it, beside the answer
    assert attention and "`<s>` `▁passage` `:` `▁I`" in tokens  # a PNG file; the tokens as E5 read them
    assert [row[1] for row in alternatives["data"]] == [1, 2]  # the ranks


def test_gradio_endpoint_explains_bad_input(gradio_client):
    with pytest.raises(Exception, match="no words"):
        gradio_client.predict("12345", "auto", 4, 1, "bundled", api_name="/translation")


def test_endpoint_insides_are_the_pages_defaults_for_the_first_sentence():
    """The sample call (one alternative) still lists each sentence's best translation with its score."""
    text, _, figure, tokens, alternatives = ENDPOINT.run(**DEFAULTS)
    result = translation.translate(DEFAULTS["text"])
    page = translation.explain(result, 0, None, None)  # the page's default sentence, layer and head
    assert text == result.text and tokens == page.tokens
    assert figure.axes[0].get_title() == "Cross-attention: all layers, all heads"
    assert (figure.axes[0].images[0].get_array() == page.figure.axes[0].images[0].get_array()).all()
    assert alternatives == translation.alternatives_table(result) and alternatives


@pytest.mark.parametrize("name, label", [("direction", "English → Russian"),
                                         ("model", "Bundled (trained here, offline)")])
def test_endpoint_takes_choice_values_and_refuses_their_labels(name, label):
    with pytest.raises(InputError, match="is not one of"):
        ENDPOINT.run(**{**DEFAULTS, name: label})


def test_a_translation_past_its_time_limit_ends_with_a_message(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(decoding, "TIME_LIMIT", -1.0)  # already spent: the first batch is refused
    with pytest.raises(InputError, match="longer than the .* one request may run"):
        translation.translate("I love my cat.", beams=1, model=tiny_model_dir)


def test_requests_decoded_together_get_what_they_get_alone():
    """Visitors' texts share one beam search (the batched model work): each gets what it gets alone."""
    model, examples = str(translation.MODEL_DIR), translation.example_sentences()
    requests = [*(translation.Request(model, (sentence,), "ru", 4, 2) for sentence in examples["en"][:3]),
                translation.Request(model, tuple(examples["ru"][:2]), "en", 4, 2),
                translation.Request(model, (examples["en"][3],), "ru", 2, 1)]  # other beams: a batch of its own
    together = translation.decode(requests)
    for request, decoded in zip(requests, together):
        alone = translation.decode([request])[0]
        assert [[h.text for h in s] for s in decoded.hypotheses] == [[h.text for h in s] for s in alone.hypotheses]
        assert [[h.token_ids for h in s] for s in decoded.hypotheses] == [[h.token_ids for h in s]
                                                                          for s in alone.hypotheses]
        assert np.allclose([[h.score for h in s] for s in decoded.hypotheses],
                           [[h.score for h in s] for s in alone.hypotheses], atol=1e-4)
        assert decoded.layout == alone.layout and decoded.layout[0] > 0


# --- side by side ------------------------------------------------------------------------

def test_side_by_side_translates_the_text_with_both_models_each_with_its_attention():
    bundled, scratch = translation.side_by_side("Мы живём в большом городе.", models=("bundled", "scratch"))
    assert (bundled.model, scratch.model) == ("bundled", "scratch")
    for side in (bundled, scratch):
        assert mostly(LATIN, side.translation.text) and side.figure is not None and not side.message
    assert bundled.translation.text == translation.translate("Мы живём в большом городе.").text
    assert scratch.translation.model == str(translation.SCRATCH_MODEL_DIR)


def test_side_by_side_with_the_hub_offline_still_shows_the_bundled_translation():  # conftest: HF_HUB_OFFLINE=1
    bundled, hub = translation.side_by_side("I love my cat.", models=("bundled", "hub"))
    assert mostly(CYRILLIC, bundled.translation.text)
    assert hub.translation is None and hub.figure is None and "need a network connection" in hub.message


@pytest.mark.parametrize("text, models, message", [
    ("  ", ("bundled", "scratch"), "empty"),  # a bad text is refused for both, not shown as a model's failure
    ("Hello.", ("bundled", "bundled"), "two different models"),
    ("Hello.", ("bundled", "no-such-model"), "two different models"),
])
def test_side_by_side_refuses_a_bad_text_or_a_bad_pair_of_models(text, models, message):
    with pytest.raises(InputError, match=message):
        translation.side_by_side(text, models=models)


def test_gradio_side_by_side_returns_both_translations_and_both_heatmaps(gradio_client):
    first, second, details, first_figure, second_figure = gradio_client.predict(
        "Мы живём в большом городе.", "auto", 4, "bundled", "scratch", api_name="/translation_side_by_side")
    details = details if isinstance(details, list) else json.loads(details)
    assert mostly(LATIN, first) and mostly(LATIN, second) and first_figure and second_figure
    assert [side["model"] for side in details] == ["bundled", "scratch"]


def test_page_shows_the_text_side_by_side_through_a_second_model(gallery):
    gallery.switch_page("views/translation.py").run()
    gallery.toggle(key="translation_compare").set_value(True).run()
    gallery.radio(key="translation_other").set_value("scratch").run()
    assert not gallery.exception and not gallery.error
    assert len(gallery.code) == 3  # the translation, then one per side
    assert all(mostly(CYRILLIC, block.value) for block in gallery.code)
    shown = " ".join(m.value for m in gallery.markdown)
    assert translation.MODEL_CHOICES["bundled"] in shown and translation.MODEL_CHOICES["scratch"] in shown
