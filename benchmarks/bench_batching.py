"""Batching across visitors (issue 24): what each batched work gains, on this machine.

For every work declared with ``@model_work(demo, batch=N)``, 8 realistic items (8 visitors' requests):
- **in one process**: items/s of one batch of 8 against 8 single calls, one after another;
- **on Ray Serve** (``--ray``): 8 visitors at once, each sending its item and waiting, for a few rounds,
  against the demo's deployment with ``@serve.batch`` (the works' own batch size) and with batching off
  (``max_batch_size=1``): requests/s and p50 latency.

    .venv/bin/python benchmarks/bench_batching.py [--ray] [--rounds 5]

Writes benchmarks/results/batching.json (machine named).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np
from common import ROOT, machine, write_result

VISITORS = 8


def emotion_items() -> tuple[Callable[[list], list], list]:
    from core.media import example_photo
    from demos import emotion

    face = emotion.recognise(example_photo("Astronaut")).faces[0].crop[None]
    noise = np.random.default_rng(0)
    items = [np.clip(face.astype(np.int16) + noise.integers(-8, 9, face.shape), 0, 255).astype(np.uint8)
             for _ in range(VISITORS)]  # 8 visitors' one-face photos, slightly different
    return emotion.classify_photos, items


def summarisation_items() -> tuple[Callable[[list], list], list]:
    from demos.summarisation.article import prepare
    from demos.summarisation.encoders import embed_articles

    articles = [prepare(path.read_text(encoding="utf-8")) for path in sorted((ROOT / "assets" / "summarisation").glob("en_*.txt"))]
    items = [("minilm", tuple(sentence.text for sentence in articles[i % len(articles)].sentences))
             for i in range(VISITORS)]
    return embed_articles, items


def translation_items() -> tuple[Callable[[list], list], list]:
    from demos.translation import MODEL_DIR, example_sentences
    from demos.translation.decoding import Request, decode

    examples = example_sentences()
    items = [Request(str(MODEL_DIR), (sentence,), target, 4, 1)
             for language, target in (("en", "ru"), ("ru", "en")) for sentence in examples[language][:VISITORS // 2]]
    return decode, items


def gan_items() -> tuple[Callable[[list], list], list]:
    from demos import image_generation as demo

    names = ["Sneaker", "Bag", "Dress", "Coat", "Trouser", "Sandal", "Shirt", "Ankle boot"]
    return demo.gan_images, [demo.GanRequest(demo.latents_for(seed, 4), demo.class_index(name))
                             for seed, name in enumerate(names)]


WORKS = {"emotion": emotion_items, "summarisation": summarisation_items, "translation": translation_items,
         "image_generation": gan_items}  # style transfer's ONNX files are fixed at batch 1: not batched


def in_process(function: Callable[[list], list], items: list, rounds: int) -> dict[str, float]:
    function(items)  # warm: loads the model
    batched, singles = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        function(items)
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        for item in items:
            function([item])
        singles.append(time.perf_counter() - start)
    return {"items_per_s_batch_of_8": round(len(items) / statistics.median(batched), 2),
            "items_per_s_8_singles": round(len(items) / statistics.median(singles), 2),
            "gain": round(statistics.median(singles) / statistics.median(batched), 2)}


def on_ray(demo: str, function: Callable[[list], list], items: list, rounds: int) -> dict[str, Any]:
    from core import engine_ray

    figures = {}
    for label, batch_size in (("batched", 0), ("unbatched", 1)):
        engine_ray.deploy({demo: f"demos.{demo}"}, {demo: engine_ray.Scaling(cpus=0.1, min_replicas=1, max_replicas=1,
                                                                             max_batch_size=batch_size)})
        os.environ["NEURAL_GALLERY_SERVE"] = "ray"
        try:
            function(items[:1])  # warm the replica
            latencies, start = [], time.perf_counter()

            def visitor(item: Any) -> None:
                begun = time.perf_counter()
                function([item])
                latencies.append(time.perf_counter() - begun)

            with ThreadPoolExecutor(VISITORS) as pool:
                for _ in range(rounds):
                    list(pool.map(visitor, items))
            seconds = time.perf_counter() - start
        finally:
            os.environ.pop("NEURAL_GALLERY_SERVE", None)
        figures[label] = {"requests_per_s": round(len(latencies) / seconds, 2),
                          "p50_s": round(statistics.median(latencies), 3)}
    figures["gain"] = round(figures["batched"]["requests_per_s"] / figures["unbatched"]["requests_per_s"], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ray", action="store_true", help="also 8 concurrent visitors on a local Ray Serve")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default=",".join(WORKS))
    args = parser.parse_args()
    if args.ray:
        import ray

        from core import engine_ray

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, namespace=engine_ray.NAMESPACE, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
        os.environ[engine_ray.ADDRESS_ENV] = ray.get_runtime_context().gcs_address  # for the front end's driver
    results = {}
    for demo in args.only.split(","):
        function, items = WORKS[demo]()
        results[demo] = {"in_process": in_process(function, items, args.rounds)}
        if args.ray:
            results[demo]["ray_8_concurrent"] = on_ray(demo, function, items, args.rounds)
        print(demo, results[demo], flush=True)
    write_result("batching", {"machine": machine(), "visitors": VISITORS, "rounds": args.rounds, "works": results})


if __name__ == "__main__":
    main()
