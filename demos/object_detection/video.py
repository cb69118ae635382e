"""A short clip, frame by frame through the same detector: the annotated clip and the objects counted per frame."""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from core.media import example_photo
from core.progress import Progress, ProgressCallback
from core.video import MAX_VIDEO_SECONDS, Mp4Writer, VideoSource, encode_mp4, fitted_size, opened_video, read_frames
from demos.object_detection.model import BUNDLED, model_id
from demos.object_detection.pipeline import (DEFAULT_THRESHOLD, checked_classes, checked_threshold, class_color, counts,
                                             detector_facts, draw, find_objects)

VIDEO_SIDE = 640  # annotated clips are drawn at most this wide (or tall)
VIDEO_TIME_LIMIT = 90.0  # seconds of processing per clip; the frames done by then are kept


@dataclass
class VideoResult:
    video: bytes  # annotated H.264 MP4
    counts_over_time: pd.DataFrame  # one row per frame: time in seconds, then one column per class
    frames_done: int
    frames_expected: int  # from the container's duration and frame rate (an estimate)
    stopped_early: bool  # the time limit ran out; the clip holds the frames done so far
    seconds: float
    device: str

    @property
    def frames_per_second(self) -> float:
        return self.frames_done / self.seconds if self.seconds else 0.0

    @property
    def count_rows(self) -> list[dict]:
        """One row per frame, its time then the count of each class: the table and the JSON of the counts."""
        return self.counts_over_time.reset_index().to_dict("records")


def detect_video(source: VideoSource, threshold: float = DEFAULT_THRESHOLD, classes: Iterable[str] | None = None,
                 progress: ProgressCallback | None = None, time_limit: float = VIDEO_TIME_LIMIT,
                 model: str = BUNDLED) -> VideoResult:
    """Detect objects frame by frame and return the annotated clip with per-frame counts.

    ``progress`` hears of every frame done. Past ``time_limit`` seconds the work stops
    and the clip so far is returned (``stopped_early``), so a long clip never hangs a page.
    ``model`` as for ``detect``.
    """
    threshold, model = checked_threshold(threshold), model_id(model)
    facts = detector_facts(model)
    chosen = checked_classes(classes, facts.class_names)
    start, per_frame, stopped_early = time.perf_counter(), [], False
    with opened_video(source) as info:
        size = fitted_size(info.width, info.height, VIDEO_SIDE)
        with Mp4Writer(info.fps, size) as writer:
            for index, frame in enumerate(read_frames(info, size, MAX_VIDEO_SECONDS)):
                picture = Image.fromarray(frame)
                detections, _ = find_objects(picture, threshold, chosen, model)
                writer.write(np.asarray(draw(picture, detections)))
                per_frame.append({"time (s)": round(index / (info.fps or 25.0), 3), **counts(detections)})
                if progress:
                    expected = max(info.frame_estimate, index + 1)  # the estimate can fall short
                    progress(Progress(index + 1, expected, note=f"Frame {index + 1} of about {expected}"))
                if time.perf_counter() - start > time_limit:  # checked after a frame: never an empty clip
                    stopped_early = True
                    break
            video = writer.finish()
    table = pd.DataFrame(per_frame).fillna(0).set_index("time (s)").astype(int)
    return VideoResult(video, table, len(per_frame), info.frame_estimate, stopped_early,
                       time.perf_counter() - start, facts.device)


def counts_figure(result: VideoResult) -> Figure:
    """How many objects of each class every frame holds, over the clip's time, in each class's colour."""
    figure = Figure(figsize=(8, 2.8), layout="constrained")
    axes = figure.add_subplot()
    table = result.counts_over_time
    for name in table:
        axes.plot(table.index, table[name], label=name, color=np.array(class_color(name)) / 255)
    if table.columns.empty:
        axes.text(0.5, 0.5, "Nothing found above the threshold in any frame", ha="center", va="center",
                  transform=axes.transAxes)
    else:
        axes.legend(fontsize=8, ncols=min(4, len(table.columns)))
    axes.set_xlabel("time (s)", fontsize=9)
    axes.set_ylabel("count", fontsize=9)
    axes.set_ylim(0, (table.to_numpy().max(initial=0) or 1) + 0.5)  # from zero, whole counts only
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"Objects per frame: {result.frames_done} frames", fontsize=10)
    return figure


@cache
def example_clip() -> bytes:
    """A 2-second clip made from the motorcycle photo by a slow camera pan and zoom (real pixels, no model)."""
    photo, steps = example_photo("Motorcycle"), 20
    frames = []
    for step in range(steps):
        zoom = 1.0 - 0.25 * step / (steps - 1)
        width, height = round(photo.width * zoom), round(photo.height * zoom)
        left = round((photo.width - width) * step / (steps - 1))
        crop = photo.crop((left, 0, left + width, height)).resize((480, 324), Image.LANCZOS)
        frames.append(np.asarray(crop))
    return encode_mp4(frames, fps=10)
