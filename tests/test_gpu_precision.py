"""Mixed precision (core.device.mixed_precision): float16 autocast on CUDA by default, float32 elsewhere.

The CPU runs the same autocast code path in bfloat16 (``NEURAL_GALLERY_PRECISION=mixed``), which has fewer
mantissa bits than CUDA's float16: its answers within these tolerances of float32 bound what the GPU may
change. ``make gpu-check`` compares float16 with float32 on CUDA itself.
"""
from __future__ import annotations

import pytest
import torch

from core.device import PRECISION_ENV, mixed_precision, precision

SENTENCES = 3  # per language


def test_mixed_precision_is_the_default_on_cuda_only(monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert (precision("cuda"), precision("cpu")) == ("mixed", "float32")
    monkeypatch.setenv(PRECISION_ENV, "float32")
    assert precision("cuda") == "float32"
    monkeypatch.setenv(PRECISION_ENV, "half")
    with pytest.raises(ValueError, match=PRECISION_ENV):
        precision("cuda")


def test_float32_runs_without_autocast(monkeypatch):
    monkeypatch.setenv(PRECISION_ENV, "float32")
    with mixed_precision("cpu"):
        assert not torch.is_autocast_enabled("cpu")
    monkeypatch.setenv(PRECISION_ENV, "mixed")
    with mixed_precision("cpu"):
        assert torch.is_autocast_enabled("cpu")


def _in(precision_name: str, monkeypatch, run):
    monkeypatch.setenv(PRECISION_ENV, precision_name)
    return run()


def test_the_translator_in_mixed_precision_writes_the_float32_translations(monkeypatch):
    from demos.translation import example_sentences
    from demos.translation.decoding import translate

    sentences = [text for language in ("en", "ru") for text in example_sentences()[language][:SENTENCES]]

    def run():
        return [translate(text, "auto").sentences[0].hypotheses[0] for text in sentences]

    full, mixed = _in("float32", monkeypatch, run), _in("mixed", monkeypatch, run)
    assert [h.text for h in mixed] == [h.text for h in full]
    assert [h.score for h in mixed] == pytest.approx([h.score for h in full], abs=0.02)  # mean log-prob per token


def test_diffusion_in_mixed_precision_paints_the_float32_pictures(monkeypatch):
    from demos.image_generation.sampling import generate_diffusion

    def run():
        return generate_diffusion("Sneaker", seed=3, count=4, steps=20).images

    full, mixed = _in("float32", monkeypatch, run), _in("mixed", monkeypatch, run)
    difference = (mixed - full).abs()  # pixels in [-1, 1]
    assert difference.mean().item() < 0.01  # measured: 0.002 (bfloat16, 25 steps)
    assert difference.max().item() < 0.25  # measured: 0.08
