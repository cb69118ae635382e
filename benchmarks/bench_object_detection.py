"""Object Detection latency: our demo call, a bare forward of the PyTorch port, and the same frozen graph through
OpenCV's DNN module (the demo's engine before the port), on the same 640 px image; frames per second on a clip.

Targets: demo call / bare port forward <= 1.10 (issue 4: the demo adds little), and bare port / OpenCV DNN <= 1.3
(issue 25: the port may replace OpenCV on the CPU). Everything runs on ``core.device.cpu_threads()`` threads, as the
app does; OpenCV is also timed on its own default thread count. The runs alternate, so load from other processes on
this shared machine falls on all alike.

    nice -n 10 .venv/bin/python benchmarks/bench_object_detection.py
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

import cv2
import numpy as np
import torch
from common import write_result

from core.device import choose_device, cpu_threads
from core.media import example_photo, resize_longer_side
from core.video import encode_mp4
from demos import object_detection
from demos.networks.ssd_mobilenet_v2 import detection_output
from demos.object_detection.pipeline import preprocess

SIZE = 640
RUNS = 30
PHOTOS = ("Coffee", "Motorcycle")
TARGETS = {"overhead_ratio_max": 1.10, "port_vs_opencv_max": 1.3}


def opencv_forward(net: cv2.dnn.Net, threads: int, pixels: np.ndarray) -> np.ndarray:
    """What a plain OpenCV user writes: blob, forward, the post-NMS rows."""
    cv2.setNumThreads(threads)  # a process-wide setting: set before each run, as the two counts alternate
    net.setInput(cv2.dnn.blobFromImage(pixels, size=(object_detection.INPUT_SIZE,) * 2, swapRB=False))
    return net.forward()


def port_forward(photo) -> torch.Tensor:
    """What a plain PyTorch user of the port writes: blob, forward, DetectionOutput."""
    detector = object_detection.load()
    network = detector.network
    with torch.inference_mode():
        deltas, scores = network(torch.from_numpy(preprocess(photo)).to(detector.device))
        return detection_output(deltas[0], scores[0], network.anchors, network.variances)


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def photo_row(name: str, net: cv2.dnn.Net, opencv_default_threads: int) -> dict:
    photo = resize_longer_side(example_photo(name), SIZE)
    pixels = np.asarray(photo)
    runs = {"demo": lambda: object_detection.detect(photo), "port": lambda: port_forward(photo),
            "opencv": lambda: opencv_forward(net, cpu_threads(), pixels),
            "opencv_default_threads": lambda: opencv_forward(net, opencv_default_threads, pixels)}
    for _ in range(3):  # warm-up: model load, first-run allocations
        for run in runs.values():
            run()
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(RUNS):
        for key, run in runs.items():
            times[key].append(timed_ms(run))
    medians = {key: statistics.median(values) for key, values in times.items()}
    return {"photo": name, "size_px": list(photo.size), "runs": RUNS,
            **{f"{key}_ms_median": round(value, 1) for key, value in medians.items()},
            **{f"{key}_ms_p90": round(float(np.percentile(values, 90)), 1) for key, values in times.items()},
            "overhead_ratio": round(medians["demo"] / medians["port"], 3),
            "port_vs_opencv": round(medians["port"] / medians["opencv"], 3)}


def video_row() -> dict:
    """Three seconds at 640x360, 10 frames/s: the motorcycle photo panning across the frame."""
    photo = np.asarray(example_photo("Motorcycle").resize((480, 324)))
    frames = []
    for index in range(30):
        frame = np.full((360, 640, 3), 128, np.uint8)
        left = index * 5
        frame[18:342, left:left + 480] = photo
        frames.append(frame)
    result = object_detection.detect_video(encode_mp4(frames, fps=10))
    return {"clip": "3 s, 640x360, 10 frames/s (30 frames), decode + detect + draw + H.264 encode",
            "frames": result.frames_done, "seconds": round(result.seconds, 2),
            "frames_per_second": round(result.frames_per_second, 2)}


def main() -> None:
    choose_device()  # sets torch's thread count, as the app does
    opencv_default_threads = cv2.getNumThreads()
    weights, graph = object_detection.model_files()
    net = cv2.dnn.readNetFromTensorflow(str(weights), str(graph))
    rows = [photo_row(name, net, opencv_default_threads) for name in PHOTOS]
    write_result("object_detection", {
        "what": (f"median of {RUNS} warm runs each, alternated; demo = object_detection.detect() (checks, blob, "
                 "forward incl. raw anchor outputs, NMS, threshold, boxes drawn) on the PyTorch port; port = blob + "
                 "forward + DetectionOutput of the port alone; opencv = blobFromImage + setInput + forward() of the "
                 "same graph on cv2.dnn"),
        "device": object_detection.load().device,
        "threads": {"torch": torch.get_num_threads(), "opencv": cpu_threads(),
                    "opencv_default_threads": opencv_default_threads},
        "rows": rows,
        "video": video_row(),
        "targets": TARGETS,
        "meets_targets": all(row["overhead_ratio"] <= TARGETS["overhead_ratio_max"]
                             and row["port_vs_opencv"] <= TARGETS["port_vs_opencv_max"] for row in rows),
    })


if __name__ == "__main__":
    main()
