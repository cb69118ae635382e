"""Spoken Digits as a visitor uses it: say a digit, see the MFCC pipeline, get the digit back.

The audio is made here: espeak-ng speaks the digits when it is installed (with a voice the
model never heard in training); otherwise the bundled example recordings stand in.
Bad input (silence, too short, too long, not audio) must give a message, never a traceback.
"""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gradio_client import handle_file
from matplotlib.figure import Figure

from core.audio import read_audio, resample, wav_bytes
from core.validation import InputError
from demos import audio_digits

UNSEEN_VOICE = "en-gb-scotland+f4"  # an espeak-ng dialect and variant left out of training
PHONE_COLUMN_PX = 358  # what a 390-px phone screen leaves a chart, between Streamlit's margins
LEGIBLE_PX = 10


def smallest_text_px(figure: Figure, column_px: int = PHONE_COLUMN_PX) -> float:
    """How tall, in screen pixels, the smallest text on ``figure`` is when the figure fills a ``column_px`` column."""
    from matplotlib.text import Text

    figure.draw_without_rendering()  # tick labels exist once the figure is laid out
    sizes = [text.get_fontsize() for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]
    return min(sizes) * column_px / (figure.get_figwidth() * 72)


@pytest.fixture
def served_apart(monkeypatch) -> list[str]:
    """The demos' model work as Ray mode runs it, without a cluster: arguments and results cross a pickle, and a
    model may load only inside a work (in a replica), never in the calling front end. Gives the works' names, as
    they are called (emotion's and object detection's tests use it too)."""
    import pickle

    from core import engine
    from core.models import MODELS

    called, inside, load = [], [], MODELS.get

    def guarded_load(key, loader):
        assert inside, f"{key!r} loaded outside a model work: in Ray mode the front end would hold it"
        return load(key, loader)

    class Apart:
        name = "apart"

        def call(self, work, args, kwargs):
            called.append(work.function.__name__)
            args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))
            inside.append(work)
            try:
                result = work.function(*args, **kwargs)
            finally:
                inside.pop()
            return pickle.loads(pickle.dumps(result))

    monkeypatch.setattr(MODELS, "get", guarded_load)
    monkeypatch.setattr(engine, "engine", Apart)
    return called


def visible_yticks(axes) -> list[float]:
    low, high = sorted(axes.get_ylim())
    return [tick for tick in axes.get_yticks() if low <= tick <= high]


def spoken(word: str, folder: Path) -> Path:
    """A WAV of ``word`` (a digit name) in a voice the classifiers never trained on."""
    path = folder / f"{word}.wav"
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-v", UNSEEN_VOICE, "-w", str(path), word], check=True, capture_output=True)
        return path
    return audio_digits.example_recordings()[word]


def tone(seconds: float, rate: int = 8000, frequency: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


@pytest.mark.parametrize("window, hop, n_mels, n_mfcc", [(256, 128, 40, 20), (512, 64, 24, 13)])
def test_mfcc_shapes_follow_the_settings(window, hop, n_mels, n_mfcc):
    samples = tone(1.0)
    steps = audio_digits.pipeline(samples, audio_digits.MfccSettings(window, hop, n_mels, n_mfcc))
    frames = 1 + samples.size // hop
    assert steps.spectrogram_db.shape == (window // 2 + 1, frames)
    assert steps.filterbank.shape == (n_mels, window // 2 + 1)
    assert steps.log_mel_db.shape == (n_mels, frames)
    assert steps.coefficients.shape == (n_mfcc, frames)
    # a 440 Hz tone: the loudest spectrogram bin is the one nearest 440 Hz
    assert abs(np.argmax(steps.spectrogram_db.mean(axis=1)) * 8000 / window - 440) <= 8000 / window


def test_each_pipeline_plot_has_a_caption_naming_its_settings():
    steps = audio_digits.pipeline(tone(0.5), audio_digits.MfccSettings(512, 64, 24, 13))
    captions = [step.caption for step in audio_digits.explain(steps).steps]
    assert len(captions) == 4
    assert "512-sample" in captions[0] and "4000 Hz" in captions[0]  # window and Nyquist frequency
    assert "24 triangles" in captions[1] and "first 13 of 24" in captions[3]


def test_a_synthesised_seven_is_classified_as_seven(tmp_path):
    for classifier in ("cnn", "baseline"):
        result = audio_digits.classify(spoken("seven", tmp_path), classifier)
        assert result.digits == "7", classifier
        probabilities = result.words[0].probabilities
        assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1, abs=1e-5)
        assert probabilities[7] > 0.5


@pytest.mark.parametrize("numerator, denominator", [([1, -0.95], [1]), ([1], [1, -0.9])], ids=["thin", "muffled"])
def test_a_seven_through_a_differently_coloured_microphone_is_still_a_seven(tmp_path, numerator, denominator):
    """Each mel band's mean over the word is removed, so a fixed tilt of the spectrum does not matter."""
    from scipy import signal

    samples, rate = read_audio(spoken("seven", tmp_path))
    coloured = signal.lfilter(numerator, denominator, samples)
    coloured = (0.5 * coloured / np.abs(coloured).max()).astype(np.float32)
    assert audio_digits.classify(wav_bytes(coloured, rate)).digits == "7"


def test_several_digits_with_pauses_are_each_classified(tmp_path):
    pause = np.zeros(int(0.5 * audio_digits.SAMPLE_RATE), np.float32)
    parts = []
    for word in ("three", "four", "nine"):
        samples, rate = read_audio(spoken(word, tmp_path))
        parts += [resample(samples, rate, audio_digits.SAMPLE_RATE), pause]
    result = audio_digits.classify(wav_bytes(np.concatenate(parts), audio_digits.SAMPLE_RATE))
    assert result.digits == "349"
    assert [round(w.start) for w in result.words] == sorted(round(w.start) for w in result.words)


def test_stereo_at_44_1_khz_is_mixed_down_and_resampled_to_8_khz(tmp_path):
    samples, rate = read_audio(spoken("four", tmp_path))
    stereo_44k = resample(samples, rate, 44_100)
    result = audio_digits.classify(wav_bytes(np.stack([stereo_44k, 0.5 * stereo_44k], axis=1), 44_100))
    assert result.samples.size == pytest.approx(stereo_44k.size * 8000 / 44_100, abs=2)
    assert result.digits == "4"


def test_clipping_is_measured_and_reported():
    loud = np.clip(tone(1.0, level=3.0), -1, 1)
    assert audio_digits.classify(wav_bytes(loud, 8000)).clipped > 0.1


@pytest.mark.parametrize("data, message", [
    (wav_bytes(np.zeros(8000, np.float32), 8000), "silent"),
    (wav_bytes(tone(0.1), 8000), "too short"),
    (wav_bytes(np.zeros(8000 * 31, np.float32), 8000), "too long"),
    (b"", "empty"),
    (b"these are words, not sound " * 50, "not audio we can read"),
    (wav_bytes(tone(1.0), 8000)[:30], "damaged"),
])
def test_bad_recordings_get_a_clear_message(data, message):
    with pytest.raises(InputError, match=message):
        audio_digits.classify(data)


def test_page_classifies_the_example_and_redraws_the_pipeline_with_the_sliders(gallery):
    app = gallery.switch_page("views/audio_digits.py").run()
    assert not app.exception
    example = app.selectbox[0].value
    assert app.metric[0].value == str(audio_digits.DIGIT_WORDS.index(example.split()[0]))
    assert any("256-sample Hann window" in caption.value for caption in app.caption)
    app.select_slider[0].set_value(512).run()
    assert not app.exception
    assert any("512-sample Hann window" in caption.value for caption in app.caption)


def test_say_it_again_keeps_the_recent_recordings_for_comparison(gallery):
    app = gallery.switch_page("views/audio_digits.py").run()
    app.selectbox[0].set_value(list(audio_digits.example_recordings())[-1]).run()
    assert not app.exception
    assert len(app.session_state["audio_digits_history"]) == 2


def test_gradio_endpoint_names_the_digit(gradio_client, tmp_path):
    text, details, *insides = gradio_client.predict(
        handle_file(str(spoken("seven", tmp_path))), "cnn", api_name="/audio_digits")
    assert text == "7"
    assert len(insides) == len(audio_digits.ENDPOINTS[0].insides) and all(insides)  # a PNG file each


def test_endpoint_takes_the_classifier_value_and_refuses_its_label(tmp_path):
    endpoint = audio_digits.ENDPOINTS[0]
    recording = str(spoken("seven", tmp_path))
    assert endpoint.run(recording=recording, classifier="baseline")[0] == "7"
    with pytest.raises(InputError, match="not one of cnn, baseline"):
        endpoint.run(recording=recording, classifier="CNN on log-mel (default)")


def test_endpoint_insides_are_the_pages_figures_on_its_default_settings():
    """The sample call's insides: the probabilities, the waveform with its words, and the four pipeline
    steps labelled with the captions the page shows under them at its default (training) settings."""
    endpoint = audio_digits.ENDPOINTS[0]
    recording = audio_digits.example_recordings()["seven"]
    digits, _, probabilities, waveform, *steps = endpoint.run(recording=str(recording), classifier="cnn")
    assert all(isinstance(inside, Figure) for inside in (probabilities, waveform, *steps))
    assert digits == "7" and [text.get_text() for text in waveform.axes[0].texts] == ["7"]  # the word found
    assert [bar.get_height() for bar in probabilities.axes[0].patches][7] > 0.5
    result = audio_digits.classify(recording)
    page = audio_digits.explain(audio_digits.pipeline(result.samples, audio_digits.MODEL_SETTINGS))
    assert [inside.label for inside in endpoint.insides[2:]] == [step.caption for step in page.steps]
    for ours, theirs in zip(steps, page.steps):
        assert ours.axes[0].get_title() == theirs.figure.axes[0].get_title()
        if theirs.figure.axes[0].images:  # the heatmaps hold the same numbers
            assert np.array_equal(ours.axes[0].images[0].get_array(), theirs.figure.axes[0].images[0].get_array())


def test_gradio_endpoint_answers_bad_audio_with_a_message(gradio_client, tmp_path):
    silence = tmp_path / "silence.wav"
    silence.write_bytes(wav_bytes(np.zeros(8000, np.float32), 8000))
    with pytest.raises(Exception, match="silent"):
        gradio_client.predict(handle_file(str(silence)), "cnn", api_name="/audio_digits")


@pytest.fixture(scope="module")
def four_zero_two():
    return audio_digits.classify(audio_digits.example_recordings()["four zero two"])


def every_chart(result) -> list[Figure]:
    """Every plot the page and the API show for ``result``, on the training settings, with a two-recording comparison."""
    steps = audio_digits.explain(audio_digits.pipeline(result.samples)).steps
    comparison = audio_digits.mfcc_comparison_figure([("first", result.samples), ("again", result.samples)])
    return [audio_digits.probabilities_figure(result), audio_digits.waveform_figure(result.samples, result.words),
            *(step.figure for step in steps), comparison]


def test_every_chart_can_be_read_on_a_phone(four_zero_two):
    for figure in every_chart(four_zero_two):
        assert smallest_text_px(figure) >= LEGIBLE_PX, figure.axes[0].get_title()


def test_probabilities_are_drawn_on_an_axis_that_ends_at_1(four_zero_two):
    axes = audio_digits.probabilities_figure(four_zero_two).axes[0]
    assert axes.get_ylim() == (0, 1) and max(visible_yticks(axes)) == 1


def test_mel_bands_and_mfcc_coefficients_are_counted_in_whole_numbers(four_zero_two):
    """Each band or coefficient is one row, centred on its own number, and the ticks name whole rows (not 2.5)."""
    _, _, log_mel, coefficients = audio_digits.explain(audio_digits.pipeline(four_zero_two.samples)).steps
    comparison = audio_digits.mfcc_comparison_figure([("first", four_zero_two.samples)])
    for figure, rows in ((log_mel.figure, range(40)), (coefficients.figure, range(20)), (comparison, range(1, 20))):
        axes = figure.axes[0]
        figure.draw_without_rendering()
        assert sorted(axes.images[0].get_extent()[2:]) == [rows[0] - 0.5, rows[-1] + 0.5]
        ticks = visible_yticks(axes)
        assert len(ticks) > 2 and all(float(tick).is_integer() for tick in ticks), ticks


def test_the_endpoint_gives_the_same_answer_when_its_model_work_runs_apart(four_zero_two, served_apart):
    """What Ray mode does to the demo: the page's and the API's calls, their model work sent away as plain data."""
    recording = str(audio_digits.example_recordings()["four zero two"])
    digits, details, *_ = audio_digits.ENDPOINTS[0].run(recording=recording, classifier="cnn")
    apart = audio_digits.classify(recording)
    assert served_apart == ["classifier_device", "word_probabilities"] * 2
    assert digits == apart.digits == four_zero_two.digits and details["device"] == four_zero_two.device
    for word, embedded in zip(apart.words, four_zero_two.words, strict=True):  # computed before the work went away
        np.testing.assert_array_equal(word.probabilities, embedded.probabilities)
    with pytest.raises(InputError, match="Unknown classifier"):
        audio_digits.classify(recording, "svm")
