"""Translation speed of the bundled model: one 15-word sentence (warm, beam 4) and batches.

Target (issue 8): <= 150 ms per 15-word sentence, warm, beam 4, on the CPU. Throughput is
sentences per second when a 32-sentence text is translated in one call (length-sorted
batches of 16). Quality (BLEU/chrF) is measured by scripts/evaluate_translation.py.
"""
from __future__ import annotations

import os

from common import median_seconds, write_result

from demos import translation

TARGET_SECONDS = 0.150
SENTENCES = {  # 15 words each
    "en": "The old man walked slowly along the river and watched the boats in the evening.",
    "ru": "Вчера вечером мы долго гуляли по старому парку и говорили о наших планах на лето.",
}


def main() -> None:
    rows = []
    for language, sentence in SENTENCES.items():
        direction = f"{language}-{'ru' if language == 'en' else 'en'}"
        result = translation.translate(sentence, direction=direction, beams=4)  # also loads the model
        seconds = median_seconds(lambda: translation.translate(sentence, direction=direction, beams=4))
        examples = translation.example_sentences()[language]
        text = " ".join(examples[i % len(examples)] for i in range(32))
        batch_seconds = median_seconds(lambda: translation.translate(text, direction=direction, beams=4), repeats=3)
        batch = translation.translate(text, direction=direction, beams=4)
        rows.append({"direction": direction, "words": len(sentence.split()), "device": result.device,
                     "translation": result.text, "seconds_per_sentence": round(seconds, 3),
                     "meets_target": seconds <= TARGET_SECONDS, "batch_sentences": len(batch.sentences),
                     "sentences_per_second_in_batches": round(len(batch.sentences) / batch_seconds, 1)})
    write_result("translation_speed", {
        "what": "median of 5 warm translate() calls, beam 4 (one sentence); median of 3 for a 32-sentence text",
        "torch_threads": int(os.environ.get("NEURAL_GALLERY_TORCH_THREADS", "1")),
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine slows every figure
        "rows": rows,
        "targets": {"seconds_per_15_word_sentence_beam_4_max": TARGET_SECONDS},
        "meets_targets": all(row["meets_target"] for row in rows),
    })


if __name__ == "__main__":
    main()
