"""A MarianMT translator through transformers: the first bundled model (trained here from scratch, one model
for both directions behind a target-language tag), the hub's OPUS-MT models (one per direction) and any
saved MarianMT folder. transformers' ``generate`` does the beam search."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from core.device import choose_device, mixed_precision
from core.hub import local_files_only
from demos.translation.model import MAX_SOURCE_TOKENS, TARGET_TAGS, Attention, Hypothesis, ModelUnavailable

BATCH_SIZE = 16
SCORES_BUDGET_BYTES = 64 * 2**20  # generate keeps every step's scores: rows x beams x steps x vocabulary


@dataclass
class MarianTranslator:
    name: str  # the path or hub id it was loaded from
    tokenizer: object  # MarianTokenizer
    model: object  # MarianMTModel
    device: str

    @property
    def bidirectional(self) -> bool:
        """One model for both directions, steered by a target-language tag (ours); hub models are one-way."""
        return all(tag in self.tokenizer.get_vocab() for tag in TARGET_TAGS.values())

    @property
    def layout(self) -> tuple[int, int]:
        return self.model.config.decoder_layers, self.model.config.decoder_attention_heads

    def inputs(self, sentences: list[str], target_language: str) -> list[str]:
        """What the encoder reads: each sentence, after the target-language tag if the model needs one."""
        if not self.bidirectional:
            return sentences
        return [f"{TARGET_TAGS[target_language]} {sentence}" for sentence in sentences]

    def source_lengths(self, sentences: list[str], target_language: str) -> list[int]:
        return [len(ids) for ids in self.tokenizer(self.inputs(sentences, target_language))["input_ids"]]

    def batches(self, lengths: list[int], beams: int) -> list[list[int]]:
        return score_budget_batches([min(n, MAX_SOURCE_TOKENS) for n in lengths], beams,
                                    self.model.config.vocab_size)

    def write(self, sentences: list[str], target_language: str, beams: int, alternatives: int,
              length_penalty: float) -> list[list[Hypothesis]]:
        import torch

        tokenizer, model = self.tokenizer, self.model
        encoded = tokenizer(self.inputs(sentences, target_language), return_tensors="pt", padding=True,
                            truncation=True, max_length=MAX_SOURCE_TOKENS).to(self.device)
        with torch.inference_mode(), mixed_precision(torch.device(self.device).type):  # float16 on CUDA
            output = model.generate(
                **encoded, num_beams=beams, num_return_sequences=alternatives, do_sample=False,
                max_new_tokens=new_tokens(encoded["input_ids"].shape[1]), length_penalty=length_penalty,
                output_scores=True, return_dict_in_generate=True,
            )
            scores = _sequence_scores(model, output, beams)
        texts = tokenizer.batch_decode(output.sequences, skip_special_tokens=True)
        flat = [Hypothesis(text.strip(), float(score), self._content_ids(ids))
                for text, score, ids in zip(texts, scores.tolist(), output.sequences.tolist())]
        return [flat[i:i + alternatives] for i in range(0, len(flat), alternatives)]

    def attend(self, sentence: str, target_language: str, token_ids: list[int]) -> Attention:
        import torch

        encoded = self.tokenizer(self.inputs([sentence], target_language), return_tensors="pt", truncation=True,
                                 max_length=MAX_SOURCE_TOKENS).to(self.device)
        start = self.model.config.decoder_start_token_id
        decoder_ids = torch.tensor([[start] + token_ids[:-1]], device=self.device)
        with torch.inference_mode():
            output = self.model(**encoded, decoder_input_ids=decoder_ids, output_attentions=True)
        weights = torch.stack(output.cross_attentions)[:, 0].float().cpu().numpy()
        return Attention(self.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
                         self.tokenizer.convert_ids_to_tokens(token_ids), weights)

    def _content_ids(self, ids: list[int]) -> list[int]:
        """The generated token ids up to and including </s>, without the decoder's start and padding."""
        pad, eos = self.tokenizer.pad_token_id, self.tokenizer.eos_token_id
        content = [i for i in ids[1:] if i != pad]
        return content[:content.index(eos) + 1] if eos in content else content


def load_marian(path_or_id: str | Path) -> MarianTranslator:
    """The one loading path for the first bundled model, a hub checkpoint or any saved MarianMT folder."""
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    device = choose_device()
    local_only = local_files_only(path_or_id)
    try:
        with warnings.catch_warnings():  # it recommends sacremoses, which only its unused normalize() needs
            warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
            tokenizer = MarianTokenizer.from_pretrained(str(path_or_id), local_files_only=local_only)
        # eager attention: the only kind that hands back the cross-attention weights we draw
        # float32 weights (float16 on disk) everywhere: on CUDA generation runs in float16 autocast,
        # which keeps layer norms and softmax in float32, as float16 weights would not
        model = MarianMTModel.from_pretrained(str(path_or_id), dtype=torch.float32, attn_implementation="eager",
                                              local_files_only=local_only)
    # no network (offline, the tokenizer even gets no file paths: TypeError), unknown id, or no checkpoint
    except (OSError, ValueError, TypeError) as error:
        raise ModelUnavailable(f"The model {path_or_id} could not be loaded ({error.__class__.__name__}); the hub "
                         "models need a network connection. The bundled models work offline.") from None
    return MarianTranslator(str(path_or_id), tokenizer, model.to(device).eval(), device)


def new_tokens(source_tokens: int) -> int:
    return min(256, 2 * source_tokens + 10)  # a translation is rarely twice its source


def score_budget_batches(lengths: list[int], beams: int, vocabulary: int) -> list[list[int]]:
    """Indices in length order (little padding), grouped so each batch's kept scores fit SCORES_BUDGET_BYTES."""
    batches: list[list[int]] = []
    for index in sorted(range(len(lengths)), key=lengths.__getitem__):
        rows = len(batches[-1]) + 1 if batches else 1
        scores_bytes = rows * beams * new_tokens(lengths[index]) * vocabulary * 4
        if batches and rows <= BATCH_SIZE and scores_bytes <= SCORES_BUDGET_BYTES:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def _sequence_scores(model, output, beams: int):
    """Mean log-probability per generated token, whatever length penalty ranked the beams."""
    beam_indices = output.beam_indices if beams > 1 else None  # beam search hands back log-probabilities
    steps = model.compute_transition_scores(output.sequences, output.scores, beam_indices,
                                            normalize_logits=beams == 1)
    generated = steps.isfinite() & (steps != 0)
    return (steps.where(generated, 0).sum(1) / generated.sum(1).clamp(min=1)).float().cpu()
