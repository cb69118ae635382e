"""The abstractive upgrade: a saved encoder-decoder summariser goes through the same call as the bundled one.

The hub models cannot be downloaded here, so the test builds a tiny BART with a word-level
tokenizer, saves it to a folder and hands that folder to ``summarise``: the very code path a
hub checkpoint takes. Its weights are untrained, so only the shape of the result is checked.
"""
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import BartConfig, BartForConditionalGeneration, PreTrainedTokenizerFast

from core.validation import InputError
from demos import summarisation

ARTICLE = ("The city council opened the new river bridge on Monday. The bridge links the old town with the "
           "north. Officials said the crossing will cut driving times by a quarter. Penguins cannot fly.")
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


@pytest.fixture(scope="module")
def tiny_bart(tmp_path_factory) -> str:
    """A two-layer BART (untrained) and its tokenizer, saved like any checkpoint."""
    folder = tmp_path_factory.mktemp("tiny_bart")
    words = sorted(set(ARTICLE.lower().replace(".", " . ").split()))
    vocabulary = {token: index for index, token in enumerate(SPECIALS + words)}
    backend = Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="<s> $A </s>",
                                                           special_tokens=[("<s>", 0), ("</s>", 2)])
    PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                            unk_token="<unk>", model_max_length=64).save_pretrained(folder)
    torch.manual_seed(0)
    config = BartConfig(vocab_size=len(vocabulary), d_model=16, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                        max_position_embeddings=64, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                        decoder_start_token_id=2, forced_eos_token_id=2)
    BartForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)


def test_a_saved_seq2seq_model_writes_a_summary_through_the_same_call(tiny_bart):
    summary = summarisation.summarise(ARTICLE, method="abstractive", model=tiny_bart, count=1)
    assert isinstance(summary, summarisation.Summary)
    assert (summary.method, summary.model, summary.language) == ("abstractive", tiny_bart, "en")
    assert isinstance(summary.text, str) and summary.text.strip()
    assert summary.chosen == []  # written, not copied
    assert summary.generation.tokens and all(0.0 < token.probability <= 1.0 for token in summary.generation.tokens)
    assert summary.generation.attention.shape == (len(summary.generation.tokens), len(summary.sentences))
    assert summary.scores.max() == pytest.approx(1.0)  # the most-read sentence is the darkest


def test_length_control_bounds_what_the_generator_writes(tiny_bart):
    headline = summarisation.summarise(ARTICLE, method="abstractive", model=tiny_bart, length="headline")
    assert len(headline.generation.tokens) <= summarisation.HEADLINE_TOKENS


def test_abstractive_insides_show_tokens_and_attention(tiny_bart):
    summary = summarisation.summarise(ARTICLE, method="abstractive", model=tiny_bart, count=1)
    insides = summarisation.explain(summary)
    assert insides.tokens.count("<span") == len(summary.generation.tokens)
    assert insides.shaded.count("<span") == len(summary.sentences)
    assert insides.attention.axes[0].images
    assert [row["#"] for row in summarisation.sentence_table(summary)] == [1, 2, 3, 4]


def test_the_endpoint_shows_the_cross_attention_in_place_of_the_similarity(tiny_bart, monkeypatch):
    monkeypatch.setitem(summarisation.HUB_SUMMARISERS, "en", tiny_bart)  # the "hub" model, saved here
    endpoint = summarisation.ENDPOINTS[0]
    values = {**{field.name: field.default for field in endpoint.inputs}, "text": ARTICLE, "method": "abstractive",
              "length": "headline"}  # within the tiny model's 64 positions
    _, details, sentence_figure, embedding_map, table = endpoint.run(**values)
    assert details["method"] == "abstractive" and embedding_map is None  # no embeddings: nothing to map
    assert sentence_figure.axes[0].get_title() == "What the generator read while writing each token"
    assert [row["#"] for row in table] == [1, 2, 3, 4] and not any(row["chosen"] for row in table)


def test_offline_the_hub_model_fails_with_a_message_pointing_to_the_bundled_summariser():
    with pytest.raises(InputError, match="network.*extractive"):
        summarisation.summarise(ARTICLE, method="abstractive")


def test_a_missing_model_folder_gets_a_message(tmp_path):
    with pytest.raises(InputError, match="could not be loaded"):
        summarisation.summarise(ARTICLE, method="abstractive", model=str(tmp_path / "no_such_model"))


def test_page_says_the_extractive_summariser_runs_offline(gallery):
    app = gallery.switch_page("views/summarisation.py").run()
    app.radio(key="summary_method").set_value("abstractive").run()
    assert not app.exception
    assert any("bundled extractive summariser is what runs" in error.value for error in app.error)
