"""Spoken digits: the MFCC pipeline step by step on your own voice, then a classifier.

Speech recognisers do not listen to raw samples. They cut the sound into short overlapping
windows, take each window's spectrum (the *short-time Fourier transform*), pool the
frequencies into bands spaced like human pitch perception (the *mel scale*), take the
logarithm (loudness is perceived roughly logarithmically), and finally decorrelate the
bands with a discrete cosine transform: the *mel-frequency cepstral coefficients* (MFCC).

Two classifiers trained in this project (scripts/train_audio_digits.py) then name the digit
0-9, both shipped in models/audio/:

- a **small CNN** (PyTorch, default) that reads the whole log-mel map like an image, after
  removing each mel band's mean over the word (cepstral mean normalisation);
- a **baseline**: logistic regression on pooled MFCC statistics (mean and spread of each
  coefficient and of its change over time), which forgets the order of the sounds.

The story of a call: preprocess (decode, check, resample to 8 kHz, split on silence),
forward (features, then a network per spoken word), postprocess (probabilities for the ten
digits), explain (every step of the pipeline as a plot, with the settings you choose).

The package reads in that order: ``recording`` (decoding, words between silences), ``features``
(log-mel and MFCC, shared with the training script), ``classifiers`` (the two models, a call),
``insides`` (the pipeline's plots, the waveform, the probabilities); here, the card, the story for
the page and the endpoint. The classifiers' passes are the demo's model work (``core.engine``): in Ray
mode they run in the demo's replica.
"""
from __future__ import annotations

from core.contract import AudioField, ChoiceField, DemoCard, Endpoint, FigureOutput, JsonOutput, TextOutput, choices
from core.validation import InputError
# the demo's public face, as pages, tests, scripts and benchmarks use it (``demo.X``)
from demos.audio_digits.classifiers import (CLASSIFIERS, MODEL_DIR, DigitModels, DigitResult, Word,
                                            baseline_probabilities, classify, cnn_probabilities, digit_cnn, load)
from demos.audio_digits.features import (MODEL_FRAMES, MODEL_SETTINGS, MfccSettings, centred_log_mel, cnn_input,
                                         log_mel, mfcc, normalise_bands, pooled_mfcc_stats)
from demos.audio_digits.insides import (MfccInsides, MfccStep, Pipeline, explain, mfcc_comparison_figure, pipeline,
                                        probabilities_figure, step_captions, waveform_figure)
from demos.audio_digits.recording import (DIGIT_WORDS, DIGITS, EXAMPLE_DIR, MIN_SECONDS, MIN_WORD_SECONDS, SAMPLE_RATE,
                                          TRIM_DB, example_recordings, prepare, split_words, trim)

CARD = DemoCard(
    slug="audio_digits",
    title="Spoken Digits (MFCC)",
    icon="🔢",
    pitch="Say a digit: see the waveform become a spectrogram, mel bands and MFCCs, and a CNN name it.",
    tags=("MFCC", "mel spectrogram", "CNN", "audio classification"),
    inputs=("microphone", "audio"),
)


HOW_IT_WORKS = """
**From air pressure to features.** A microphone gives a *waveform*: 8,000 numbers per
second here, enough for frequencies up to 4 kHz (the *Nyquist* limit, half the sample rate),
which is telephone quality and plenty to tell digits apart. The *short-time Fourier
transform* cuts it into overlapping windows (32 ms every 16 ms by default) and takes the
spectrum of each. Vowels show up as *formants*, bands of energy whose positions identify
them; consonants as short bursts and hiss.

**Mel, log, DCT.** Pitch perception is roughly linear below 1 kHz and logarithmic above, so
the spectrum is pooled by triangular filters spaced evenly on the *mel scale*. Taking the
logarithm compresses loudness the way hearing does and turns a gain change into a constant
shift. A *discrete cosine transform* of each log-mel frame decorrelates neighbouring bands;
keeping the first 13-20 coefficients (the *MFCC*) keeps the spectral envelope, the shape of
the vocal tract, and drops the pitch harmonics.

**Two classifiers.** The baseline pools each MFCC and its change over time into a mean and
a standard deviation: 80 numbers per word, fed to a logistic regression. It forgets the
order of sounds, so "six" and "seven" can look alike. The CNN reads the 40 x 80 log-mel map
(1.28 s, the word centred) after *cepstral mean normalisation*: each mel band's average over
the word is subtracted, which removes the fixed colouring that a microphone, a phone line or
a voice adds to every frame (a filter multiplies the spectrum, so in log scale it adds a
constant per band) and keeps how the spectrum moves. Three blocks of 3x3 convolutions and
2x2 max-pooling and a linear layer over the resulting 32 x 5 x 10 map see how formants move
in time. Both were trained on the Free Spoken Digit Dataset (six male speakers) widened with synthesised voices (espeak-ng, flite, festival; female voices
included) and augmentation (speed, pitch, reverb, telephone band-pass, noise, gain), then
tested on speakers and voices they never heard (see models/audio/MODEL_CARD.md).

**Several digits.** The recording is split where the sound drops 30 dB below its loudest
part for more than 0.15 s; each stretch is classified on its own.
"""


# --- Gradio / HTTP endpoint -------------------------------------------------------------

def _endpoint(recording: str | None, classifier: str) -> tuple:
    """The digits and their probabilities, then the insides as the page shows them on its default settings."""
    if not recording:
        raise InputError("Record or upload a spoken digit first.")
    result = classify(recording, classifier)
    info = {
        "digits": result.digits, "classifier": result.classifier, "device": result.device,
        "seconds": round(result.seconds, 4),
        "words": [{"start": round(w.start, 2), "end": round(w.end, 2), "digit": w.digit,
                   "probabilities": {d: round(float(p), 4) for d, p in zip(DIGITS, w.probabilities)}}
                  for w in result.words],
    }
    steps = explain(pipeline(result.samples, MODEL_SETTINGS)).steps
    return (result.digits, info, probabilities_figure(result), waveform_figure(result.samples, result.words),
            *(step.figure for step in steps))


ENDPOINTS = (Endpoint(
    fn=_endpoint,
    inputs=(
        AudioField("recording", "Say a digit (or several, with pauses), or upload a recording"),
        ChoiceField("classifier", "Classifier", choices(CLASSIFIERS, CLASSIFIERS.get), "cnn"),
    ),
    outputs=(TextOutput("Digits heard"), JsonOutput("Probabilities for each word")),
    insides=(
        FigureOutput("How sure the classifier was of each digit, word by word"),
        FigureOutput("Waveform at 8 kHz: the words found between silences, each with the digit heard"),
        # each step's plot is labelled with the caption the page shows under it, on the training settings
        *(FigureOutput(caption) for caption in step_captions(MODEL_SETTINGS)),
    ),
),)
