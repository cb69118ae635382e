"""Object Detection on short clips: annotated clip back, per-frame counts, progress, limits."""
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file

from core.media import example_photo
from core.validation import InputError
from core.video import count_frames, encode_mp4, opened_video
from demos import object_detection as detection
from test_audio_digits import served_apart  # noqa: F401 (a fixture)
from test_object_detection import detection_works

FPS, SECONDS = 10, 3


@pytest.fixture(scope="module")
def motorcycle_clip() -> bytes:
    """Three seconds of the motorcycle photo sliding to the right on a grey background."""
    photo = np.asarray(example_photo("Motorcycle").resize((240, 162)))
    frames = []
    for index in range(FPS * SECONDS):
        frame = np.full((240, 320, 3), 128, np.uint8)
        left = round(index * 80 / (FPS * SECONDS - 1))
        frame[39:201, left:left + 240] = photo
        frames.append(frame)
    return encode_mp4(frames, fps=FPS)


def test_a_three_second_clip_comes_back_annotated_with_the_same_frame_count(motorcycle_clip):
    progress = []
    result = detection.detect_video(motorcycle_clip, progress=lambda step: progress.append((step.done, step.total)))
    assert count_frames(motorcycle_clip) == FPS * SECONDS
    assert result.frames_done == FPS * SECONDS and not result.stopped_early
    assert count_frames(result.video) == FPS * SECONDS
    assert progress[-1] == (FPS * SECONDS, FPS * SECONDS) and len(progress) == FPS * SECONDS
    counts = result.counts_over_time
    assert len(counts) == FPS * SECONDS and counts.index[-1] == pytest.approx(2.9)
    assert (counts["motorcycle"] >= 1).mean() > 0.8  # the motorcycle is found in most frames


def test_the_time_limit_keeps_the_frames_done_so_far(motorcycle_clip):
    result = detection.detect_video(motorcycle_clip, time_limit=0.0)
    assert result.stopped_early and result.frames_done == 1
    assert count_frames(result.video) == 1


def test_a_file_that_is_not_a_video_gets_a_message():
    with pytest.raises(InputError, match="not a video we can read"):
        detection.detect_video(b"this is not a video" * 100)


def test_an_empty_upload_gets_a_message():
    with pytest.raises(InputError, match="empty"):
        detection.detect_video(b"")


def test_too_long_and_too_large_clips_are_refused(motorcycle_clip):
    with pytest.raises(InputError, match=r"too long \(3\.0 s\); the limit is 2 s"):
        with opened_video(motorcycle_clip, max_seconds=2):
            pass
    with pytest.raises(InputError, match="too large"):
        with opened_video(motorcycle_clip, max_bytes=1000):
            pass


def test_page_annotates_the_example_clip(gallery):
    app = gallery.switch_page("views/object_detection.py").run()
    next(button for button in app.button if button.label == "Detect objects in the clip").click().run()
    assert not app.exception
    assert app.get("video") and any("frames in" in caption.value for caption in app.caption)


def test_gradio_video_endpoint_returns_the_annotated_clip_with_the_same_frame_count(gradio_client, tmp_path):
    clip = tmp_path / "motorcycle.mp4"
    clip.write_bytes(encode_mp4([np.asarray(example_photo("Motorcycle").resize((160, 108)))] * 20, fps=10))
    video, details, *_ = gradio_client.predict(handle_file(str(clip)), 0.5, "", "bundled",
                                               api_name="/object_detection_video")
    assert count_frames(Path(video).read_bytes()) == 20
    assert details["frames"] == 20 and len(details["counts_per_frame"]) == 20
    assert details["counts_per_frame"][0]["motorcycle"] == 1


def test_gradio_video_endpoint_explains_a_file_that_is_not_a_video(gradio_client, tmp_path):
    fake = tmp_path / "holiday.mp4"
    fake.write_text("not really a video" * 100)
    with pytest.raises(Exception, match="not a video we can read"):
        gradio_client.predict(handle_file(str(fake)), 0.5, "", "bundled", api_name="/object_detection_video")


def test_the_video_endpoint_shows_the_counts_per_frame_and_reports_every_frame(tmp_path):
    clip = tmp_path / "example.mp4"
    clip.write_bytes(detection.example_clip())
    endpoint, steps = detection.ENDPOINTS[1], []
    defaults = {field.name: getattr(field, "default", None) for field in endpoint.inputs}
    video, details, figure, table = endpoint.run(progress=steps.append, **defaults | {"video": str(clip)})
    page_result = detection.detect_video(detection.example_clip())
    assert table == details["counts_per_frame"] == page_result.count_rows  # what the page charts
    assert table[0].keys() == {"time (s)", *page_result.counts_over_time.columns} and "motorcycle" in table[0]
    plotted = {line.get_label(): list(line.get_ydata()) for line in figure.axes[0].lines}
    assert plotted == {name: list(counts) for name, counts in page_result.counts_over_time.items()}
    assert [step.done for step in steps] == list(range(1, len(table) + 1))
    assert steps[-1].fraction == 1.0 and steps[-1].note == f"Frame {len(table)} of about {len(table)}"


def test_a_clip_with_nothing_found_gets_a_figure_that_says_so():
    result = detection.detect_video(detection.example_clip(), classes=["toothbrush"])
    assert result.counts_over_time.columns.empty and all(row.keys() == {"time (s)"} for row in result.count_rows)
    figure = detection.counts_figure(result)
    assert [text.get_text() for text in figure.axes[0].texts] == ["Nothing found above the threshold in any frame"]


def test_a_clip_gives_the_same_counts_when_the_model_work_runs_apart(motorcycle_clip, request):
    """What Ray mode does to the demo: one forward pass sent away per frame, as plain data."""
    embedded = detection.detect_video(motorcycle_clip)
    called = request.getfixturevalue("served_apart")  # from here on, the work runs apart
    progress = []
    apart = detection.detect_video(motorcycle_clip, progress=progress.append)
    assert detection_works(called) == ["detector_facts"] + ["forward"] * FPS * SECONDS
    assert len(progress) == FPS * SECONDS
    assert apart.count_rows == embedded.count_rows and apart.device == embedded.device
    assert count_frames(apart.video) == FPS * SECONDS
