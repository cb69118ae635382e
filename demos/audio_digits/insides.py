"""Explain: every step of the MFCC pipeline as a plot with a caption naming its settings, the
waveform with the words found, and how sure the classifier was of each digit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from demos.audio_digits.classifiers import DigitResult, Word
from demos.audio_digits.features import MODEL_SETTINGS, MfccSettings, log_mel, mfcc
from demos.audio_digits.recording import DIGITS, SAMPLE_RATE, trim

# 4.5 inches wide: on a phone's 358-px column matplotlib's 10-pt labels are 11 px tall, in half a laptop's page
# 14 px (the page shows these plots two to a row on a laptop, one under the other on a phone)
FIGURE_WIDTH = 4.5


@dataclass
class Pipeline:
    """Every intermediate of the MFCC computation for one recording, with the settings used."""
    samples: np.ndarray
    settings: MfccSettings
    spectrogram_db: np.ndarray  # (1 + window / 2 frequency bins, frames), dB below the loudest cell
    filterbank: np.ndarray  # (n_mels, 1 + window / 2): one triangle per mel band
    log_mel_db: np.ndarray  # (n_mels, frames)
    coefficients: np.ndarray  # (n_mfcc, frames)

    @property
    def frame_seconds(self) -> float:
        return self.settings.hop / SAMPLE_RATE


def pipeline(samples: np.ndarray, settings: MfccSettings = MODEL_SETTINGS) -> Pipeline:
    import librosa

    settings = settings.checked()
    power = np.abs(librosa.stft(samples, n_fft=settings.window, hop_length=settings.hop)) ** 2
    filterbank = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=settings.window, n_mels=settings.n_mels)
    log_mel_db = librosa.power_to_db(filterbank @ power, ref=np.max, top_db=80.0)
    return Pipeline(samples, settings, librosa.power_to_db(power, ref=np.max, top_db=80.0), filterbank,
                    log_mel_db, mfcc(log_mel_db, settings.n_mfcc))


@dataclass(frozen=True)
class MfccStep:
    figure: Figure
    caption: str  # what the step did, with the settings it used


@dataclass(frozen=True)
class MfccInsides:
    """The MFCC pipeline as plots, in the order it runs: STFT, mel filterbank, log-mel, MFCC."""
    steps: tuple[MfccStep, ...]


def _figure(height: float = 2.6) -> tuple[Figure, object]:
    figure = Figure(figsize=(FIGURE_WIDTH, height), layout="constrained")
    return figure, figure.add_subplot()


def _heatmap(matrix: np.ndarray, seconds: float, title: str, ylabel: str, colour: str, top: float | None = None,
             limit: float | None = None) -> Figure:
    """``top``: what the rows reach (Hz), or None: the rows are numbered (bands, coefficients) and ticked at
    whole numbers. ``limit``: a symmetric colour range (values beyond it saturate); None = the data's range."""
    figure, axes = _figure()
    image = axes.imshow(matrix, origin="lower", aspect="auto", cmap=colour, extent=(0, seconds, *_rows(matrix, top)),
                        interpolation="nearest", vmin=None if limit is None else -limit, vmax=limit)
    figure.colorbar(image, ax=axes, pad=0.01)
    axes.set(title=title, xlabel="time (s)", ylabel=ylabel)
    return figure


def _rows(matrix: np.ndarray, top: float | None, first: int = 0) -> tuple[float, float]:
    """The y extent of a heatmap's rows: 0 to ``top``, or numbered rows centred on whole numbers from ``first``."""
    return (0, top) if top is not None else (first - 0.5, first + len(matrix) - 0.5)


def _whole_number_ticks(axes) -> None:
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))


def waveform_figure(samples: np.ndarray, words: list[Word] | None = None) -> Figure:
    figure, axes = _figure(2.0)
    axes.plot(np.arange(samples.size) / SAMPLE_RATE, samples, linewidth=0.5, color="tab:blue")
    for word in words or []:
        axes.axvspan(word.start, word.end, color="tab:orange", alpha=0.2)
        axes.text((word.start + word.end) / 2, 0.95, str(word.digit), transform=axes.get_xaxis_transform(),
                  ha="center", va="top", fontsize=12, fontweight="bold")
    axes.set(title="Waveform at 8 kHz: the words found", xlabel="time (s)", ylabel="amplitude",
             xlim=(0, samples.size / SAMPLE_RATE))
    return figure


def step_captions(settings: MfccSettings) -> tuple[str, str, str, str]:
    """What each step of the pipeline did with ``settings``: they depend on the settings only, so the
    Gradio tab can name its plots before any recording comes."""
    s, nyquist = settings, SAMPLE_RATE / 2
    window_ms, hop_ms = 1000 * s.window / SAMPLE_RATE, 1000 * s.hop / SAMPLE_RATE
    return (
        f"Short-time Fourier transform: a {s.window}-sample Hann window ({window_ms:.0f} ms) every {s.hop} samples "
        f"({hop_ms:.0f} ms, {SAMPLE_RATE / s.hop:.0f} frames per second). Each column is one window's spectrum, "
        f"{s.window // 2 + 1} bins {SAMPLE_RATE / s.window:.1f} Hz apart, up to the Nyquist frequency "
        f"({nyquist:.0f} Hz, half the sample rate). Longer windows: sharper frequencies, blurrier timing.",
        f"The mel scale follows our pitch perception: linear below 1 kHz, logarithmic above (librosa's Slaney "
        f"variant, close to the textbook mel = 2595·log10(1 + f/700)). {s.n_mels} triangles, equally spaced in "
        "mel, so narrow at low frequencies and wide at high ones, each scaled to the same area; a mel band is the "
        "weighted sum of the spectrum under its triangle.",
        f"Mel spectrogram: the {s.window // 2 + 1} frequency bins pooled into {s.n_mels} mel bands, then in "
        "decibels (10·log10 of power), because loudness is perceived on a log scale and the log turns a "
        "recording's overall gain into a constant offset. This map, on fixed settings and with each band's "
        "mean over the word subtracted, is the CNN's input.",
        f"MFCC: a discrete cosine transform (type II) of each column of the log-mel map, keeping the first "
        f"{s.n_mfcc} of {s.n_mels} coefficients. Low coefficients describe the smooth spectral envelope (the vocal "
        "tract shaping the vowel), high ones fine detail. Coefficient 0 (bottom row) is the frame's overall level, "
        "far larger than the rest, so its colour saturates.",
    )


def explain(computed: Pipeline) -> MfccInsides:
    """The pipeline as plots, each with a caption that states what the settings did."""
    s, seconds = computed.settings, computed.samples.size / SAMPLE_RATE
    nyquist = SAMPLE_RATE / 2
    spectrogram = _heatmap(computed.spectrogram_db, seconds, "STFT power spectrogram (dB)", "frequency (Hz)",
                           "magma", top=nyquist)
    filters, axes = _figure()
    frequencies = np.linspace(0, nyquist, computed.filterbank.shape[1])
    axes.plot(frequencies, computed.filterbank.T, linewidth=0.8)
    axes.set(title=f"Mel filterbank: {s.n_mels} triangular filters", xlabel="frequency (Hz)", ylabel="weight",
             xlim=(0, nyquist))
    log_mel_plot = _heatmap(computed.log_mel_db, seconds, "Log-mel spectrogram (dB)", "mel band", "magma")
    coefficients = _heatmap(computed.coefficients, seconds, "MFCC (colours: coefficients 1 and up)",
                            "coefficient", "coolwarm", limit=float(np.abs(computed.coefficients[1:]).max()))
    for heatmap in (log_mel_plot, coefficients):
        _whole_number_ticks(heatmap.axes[0])
    figures = (spectrogram, filters, log_mel_plot, coefficients)
    return MfccInsides(tuple(MfccStep(figure, caption) for figure, caption in zip(figures, step_captions(s))))


def probabilities_figure(result: DigitResult) -> Figure:
    """One group of ten bars per word: how sure the classifier is of each digit."""
    from core.plotting import vectors_figure

    vectors = {f"word {n + 1} ({word.start:.1f}-{word.end:.1f} s)": word.probabilities
               for n, word in enumerate(result.words)}
    figure = vectors_figure(vectors, "Probability of each digit", "digit", bars=True, tick_labels=list(DIGITS))
    # drawn narrower, with this demo's type sizes, and the words named under the bars rather than over them
    figure.set_size_inches(FIGURE_WIDTH, 2.6)
    axes = figure.axes[0]
    axes.set(ylim=(0, 1), ylabel="probability")
    axes.title.set_fontsize("large")
    axes.xaxis.label.set_fontsize("medium")
    axes.tick_params(labelsize="medium")
    if axes.get_legend():
        axes.get_legend().remove()
        figure.legend(loc="outside lower center", ncols=2)
    return figure


def mfcc_comparison_figure(recordings: list[tuple[str, np.ndarray]]) -> Figure:
    """MFCC maps of several recordings, two to a row, on one colour scale ("say it again")."""
    columns = min(2, len(recordings))
    rows = -(-len(recordings) // columns)
    figure = Figure(figsize=(FIGURE_WIDTH, 0.4 + 2.0 * rows), layout="constrained")
    maps = [mfcc(log_mel(trim(samples)), MODEL_SETTINGS.n_mfcc)[1:] for _, samples in recordings]  # level left out
    limit = max(np.abs(m).max() for m in maps)
    for index, ((label, _), matrix) in enumerate(zip(recordings, maps)):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.imshow(matrix, origin="lower", aspect="auto", cmap="coolwarm", vmin=-limit, vmax=limit,
                    extent=(0, matrix.shape[1] * MODEL_SETTINGS.hop / SAMPLE_RATE, *_rows(matrix, None, first=1)))
        _whole_number_ticks(axes)
        axes.set_title(label, fontsize="medium")
        axes.set_xlabel("time (s)")
        if index % columns == 0:
            axes.set_ylabel("coefficient")
    return figure
