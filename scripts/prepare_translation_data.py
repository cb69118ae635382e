"""Build the Russian-English training data for the bundled translator.

Reads the parallel test sets in ../shared/data/nmt-ru-en/ (see its README), normalises and
deduplicates the pairs across sets and directions, holds out dev and test slices of Tatoeba
and of news (chosen by a hash of each pair, so the split is the same on every machine),
drops from training every pair that shares a side with a held-out pair, trains one shared
SentencePiece vocabulary on the training text of both languages, and writes:

- <out>/{train,tatoeba_dev,tatoeba_test,news_dev,news_test}.tsv  (english <TAB> russian)
- <out>/tokenizer/  a MarianTokenizer (vocab.json, source.spm = target.spm: one shared vocabulary)
- <out>/encoded.pt  token ids of every training and dev example, both directions, and the
  origin (tatoeba, news, other) of each training example
- models/translation/data_splits.json  sizes, sources and a short hash of every held-out pair

Usage: .venv/bin/python scripts/prepare_translation_data.py [--out runs/translation/data]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from demos.translation.model import TARGET_TAGS  # noqa: E402  the target language is the first source token

DATA = REPO.parent / "shared" / "data" / "nmt-ru-en"
SPLITS_FILE = REPO / "models" / "translation" / "data_splits.json"
HELD_OUT = {"tatoeba_dev": 500, "tatoeba_test": 1000, "news_dev": 300, "news_test": 1000}
VOCAB_SIZE = 8000
MAX_CHARS = 400  # longer lines are mostly paragraph-level misalignments in the news sets


@dataclass(frozen=True)
class Pair:
    english: str
    russian: str
    origin: str  # "tatoeba", "news" or "other"

    @property
    def key(self) -> str:
        return hashlib.sha1(f"{self.english}\t{self.russian}".encode()).hexdigest()


def normalise(line: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", line)).strip()


def read_aligned(english_file: Path, russian_file: Path, origin: str) -> list[Pair]:
    english = english_file.read_text(encoding="utf-8").splitlines()
    russian = russian_file.read_text(encoding="utf-8").splitlines()
    assert len(english) == len(russian), f"{english_file} and {russian_file} are not aligned"
    return [Pair(normalise(e), normalise(r), origin) for e, r in zip(english, russian)]


def source_files() -> list[tuple[Path, Path, str]]:
    tatoeba = [(p, p.with_suffix(".rus"), "tatoeba") for p in sorted((DATA / "tatoeba-test").glob("*.eng"))]
    wmt = [(p, p.with_suffix(".rus"), "news") for p in sorted((DATA / "wmt").glob("*/*.eng"))]
    wmt21 = DATA / "wmt" / "wmt21"
    extra_news = [
        (wmt21 / "newstest2021.en-ru.src.en", wmt21 / "newstest2021.en-ru.ref.A.ru", "news"),
        (wmt21 / "newstest2021.ru-en.ref.A.en", wmt21 / "newstest2021.ru-en.src.ru", "news"),
        (DATA / "ntrex" / "newstest2019-src.eng.txt", DATA / "ntrex" / "newstest2019-ref.rus.txt", "news"),
    ]
    other = [
        (DATA / "tico19" / "tico19-test.eng", DATA / "tico19" / "tico19-test.rus", "other"),
        (DATA / "flores-dev" / "flores-dev.eng", DATA / "flores-dev" / "flores-dev.rus", "other"),
    ]
    return tatoeba + wmt + extra_news + other


def unique_pairs() -> list[Pair]:
    """Every distinct (english, russian) pair once, the first origin seen winning."""
    seen: dict[tuple[str, str], Pair] = {}
    for english_file, russian_file, origin in source_files():
        for pair in read_aligned(english_file, russian_file, origin):
            usable = pair.english and pair.russian and max(len(pair.english), len(pair.russian)) <= MAX_CHARS
            if usable and (pair.english, pair.russian) not in seen:
                seen[(pair.english, pair.russian)] = pair
    return list(seen.values())


def split(pairs: list[Pair]) -> dict[str, list[Pair]]:
    """Held-out slices are the pairs with the smallest hashes; training loses every pair that
    shares an English or Russian sentence with them (Tatoeba has many translations of one line)."""
    by_hash = sorted(pairs, key=lambda p: p.key)
    splits: dict[str, list[Pair]] = {}
    taken: set[str] = set()
    for name, size in HELD_OUT.items():
        origin = name.split("_")[0]
        chosen = [p for p in by_hash if p.origin == origin and p.key not in taken][:size]
        taken.update(p.key for p in chosen)
        splits[name] = chosen
    held_sides = {s.casefold() for chosen in splits.values() for p in chosen for s in (p.english, p.russian)}
    splits["train"] = [
        p for p in pairs
        if p.key not in taken and p.english.casefold() not in held_sides and p.russian.casefold() not in held_sides
    ]
    return splits


def write_tsv(path: Path, pairs: list[Pair]) -> None:
    path.write_text("".join(f"{p.english}\t{p.russian}\n" for p in pairs), encoding="utf-8")


def train_sentencepiece(train: list[Pair], out: Path) -> Path:
    import sentencepiece as spm

    corpus = out / "spm_corpus.txt"
    corpus.write_text("".join(f"{p.english}\n{p.russian}\n" for p in train), encoding="utf-8")
    prefix = out / "shared_spm"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=VOCAB_SIZE, model_type="unigram",
        character_coverage=0.9999, bos_id=-1, eos_id=-1, unk_id=0, pad_id=-1,
        input_sentence_size=1_000_000, shuffle_input_sentence=True, num_threads=1,
    )
    return prefix.with_suffix(".model")


def build_tokenizer(spm_model: Path, out: Path):
    """A MarianTokenizer over the shared SentencePiece model: the same files the hub models ship."""
    import sentencepiece as spm
    from transformers import MarianTokenizer

    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    vocab = {"</s>": 0, "<unk>": 1, TARGET_TAGS["en"]: 2, TARGET_TAGS["ru"]: 3}
    for piece_id in range(1, processor.get_piece_size()):  # 0 is SentencePiece's own <unk>
        vocab.setdefault(processor.id_to_piece(piece_id), len(vocab))
    vocab["<pad>"] = len(vocab)  # Marian convention: pad is last and starts every decoder sequence
    staging = out / "tokenizer_src"
    staging.mkdir(exist_ok=True)
    (staging / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(spm_model), target_spm=str(spm_model), vocab=str(staging / "vocab.json"),
        model_max_length=256,
    )
    tokenizer.save_pretrained(out / "tokenizer")
    return MarianTokenizer.from_pretrained(out / "tokenizer")


def encode_examples(tokenizer, pairs: list[Pair]) -> list[tuple[list[int], list[int]]]:
    """Both directions of every pair: (tag + source ids + </s>, target ids + </s>)."""
    english = [p.english for p in pairs]
    russian = [p.russian for p in pairs]
    en_ids = tokenizer(english, add_special_tokens=True)["input_ids"]
    ru_ids = tokenizer(russian, add_special_tokens=True)["input_ids"]
    tag_id = {lang: tokenizer.convert_tokens_to_ids(tag) for lang, tag in TARGET_TAGS.items()}
    to_russian = [([tag_id["ru"]] + e, r) for e, r in zip(en_ids, ru_ids)]
    to_english = [([tag_id["en"]] + r, e) for e, r in zip(en_ids, ru_ids)]
    return to_russian + to_english


def split_summary(splits: dict[str, list[Pair]], all_pairs: list[Pair]) -> dict:
    return {
        "source": "../shared/data/nmt-ru-en (Helsinki-NLP/OPUS-MT-testsets ac0f19c, FLORES dev)",
        "rule": "unique (english, russian) pairs after NFC + whitespace normalisation; held-out slices = "
                "pairs with the smallest sha1(english TAB russian) per origin; training drops pairs sharing "
                "a side (casefolded) with any held-out pair",
        "unique_pairs": len(all_pairs),
        "sizes": {name: len(pairs) for name, pairs in splits.items()},
        "training_origins": {o: sum(p.origin == o for p in splits["train"]) for o in ("tatoeba", "news", "other")},
        "held_out_sha1_prefixes": {
            name: [p.key[:12] for p in pairs] for name, pairs in splits.items() if name != "train"
        },
        "train_sha1_of_file": hashlib.sha1(
            "".join(f"{p.english}\t{p.russian}\n" for p in splits["train"]).encode()
        ).hexdigest(),
    }


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "translation" / "data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = unique_pairs()
    splits = split(pairs)
    for name, chosen in splits.items():
        write_tsv(args.out / f"{name}.tsv", chosen)
    tokenizer = build_tokenizer(train_sentencepiece(splits["train"], args.out), args.out)
    encoded = {name: encode_examples(tokenizer, splits[name]) for name in ("train", "tatoeba_dev", "news_dev")}
    encoded["train_origins"] = [p.origin for p in splits["train"]] * 2  # one per direction, in encode order
    torch.save(encoded, args.out / "encoded.pt")
    SPLITS_FILE.parent.mkdir(parents=True, exist_ok=True)
    SPLITS_FILE.write_text(json.dumps(split_summary(splits, pairs), indent=1) + "\n", encoding="utf-8")
    print({name: len(chosen) for name, chosen in splits.items()}, "unique pairs:", len(pairs))


if __name__ == "__main__":
    main()
