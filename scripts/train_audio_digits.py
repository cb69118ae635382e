"""Train and evaluate the spoken-digit classifiers shipped in models/audio/, in one command.

    .venv/bin/python scripts/train_audio_digits.py          # about 40 min on one busy CPU thread

Needs the Free Spoken Digit Dataset in ../shared/data/fsdd/ and the Debian speech
synthesisers `espeak-ng`, `flite`, `festival` with festvox-kallpc16k, festvox-kdlpc16k and
festvox-us-slt-hts (apt-get install them first). Steps, each cached under /tmp:

1. synthesise digits with many voices: one set for training, one set never used in training;
2. features for every clip (clean + augmented copies: noise, gain, speed, pitch, reverb,
   telephone band-pass), with the very functions the demo uses at run time (the CNN's
   centred log-mel maps are cached before the per-band mean normalisation, then normalised
   by the demo's ``normalise_bands``, so ``cnn_input`` = what the CNN trains on);
3. fit the baseline (logistic regression on pooled MFCC statistics) and the CNN on FSDD
   index 5-49 of all six speakers + the training voices;
4. evaluate: FSDD official test split (index 0-4), the unseen synthetic voices, and
   leave-one-speaker-out on FSDD (one model per held-out speaker, trained on the other five
   + the training voices with the very recipe and epochs of the shipped model); write
   models/audio/* and benchmarks/results/audio_digits.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demos.audio_digits import (  # noqa: E402
    DIGIT_WORDS, EXAMPLE_DIR, MODEL_DIR, SAMPLE_RATE, centred_log_mel, digit_cnn, normalise_bands, pooled_mfcc_stats,
)

FSDD = ROOT.parent / "shared" / "data" / "fsdd" / "recordings"
CACHE = Path("/tmp/audio_digits_cache")
RESULTS = ROOT / "benchmarks" / "results" / "audio_digits.json"
SEED = 7

# espeak-ng voices are a dialect plus a variant (pitch, formants, breathiness); the test set
# uses dialects AND variants that training never sees.
ESPEAK_TRAIN = {
    "dialects": ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd"),
    "variants": ("m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "klatt", "klatt3", "adam", "anika",
                 "Annie", "belinda", "boris", "david", "linda", "Andy", "grandpa"),
}
ESPEAK_TEST = {
    "dialects": ("en-gb-scotland", "en-029", "en-us-nyc"),
    "variants": ("m7", "f4", "f5", "Alicia", "benjamin", "edward", "grandma", "Mike"),
}
FLITE_TRAIN, FLITE_TEST = ("kal", "kal16", "awb", "rms"), ("slt",)  # slt: a female voice
FESTIVAL_TRAIN, FESTIVAL_TEST = ("kal_diphone",), ("ked_diphone", "cmu_us_slt_arctic_hts")


@dataclass
class Clip:
    path: Path
    digit: int
    speaker: str  # FSDD speaker, or the synthetic voice
    group: str  # "fsdd", "synth_train" or "synth_test"
    index: int  # FSDD recording index (0-4 = official test split); -1 for synthetic clips


# --- 1. synthesis -----------------------------------------------------------------------

def synthesise(rng: np.random.Generator) -> list[Clip]:
    clips: list[Clip] = []
    for group, espeak, flite, festival, takes in (
        ("synth_train", ESPEAK_TRAIN, FLITE_TRAIN, FESTIVAL_TRAIN, 2),
        ("synth_test", ESPEAK_TEST, FLITE_TEST, FESTIVAL_TEST, 2),
    ):
        for dialect in espeak["dialects"]:
            for variant in espeak["variants"]:
                clips += _espeak_voice(group, f"{dialect}+{variant}", takes, rng)
        for voice in flite:
            clips += _flite_voice(group, voice, takes * 2, rng)
        for voice in festival:
            clips += _festival_voice(group, voice, takes * 2)
    return clips


def _target(group: str, voice: str, digit: int, take: int) -> Path:
    folder = CACHE / "synth" / group / voice.replace("+", "_")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{digit}_{take}.wav"


def _espeak_voice(group: str, voice: str, takes: int, rng: np.random.Generator) -> list[Clip]:
    clips = []
    for digit, word in enumerate(DIGIT_WORDS):
        for take in range(takes):
            path = _target(group, voice, digit, take)
            speed, pitch = int(rng.integers(120, 200)), int(rng.integers(25, 75))
            if not path.exists():
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), word],
                               check=True, capture_output=True)
            clips.append(Clip(path, digit, f"espeak:{voice}", group, -1))
    return clips


def _flite_voice(group: str, voice: str, takes: int, rng: np.random.Generator) -> list[Clip]:
    clips = []
    for digit, word in enumerate(DIGIT_WORDS):
        for take in range(takes):
            path = _target(group, f"flite_{voice}", digit, take)
            stretch = rng.uniform(0.8, 1.4)
            if not path.exists():
                subprocess.run(["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.2f}",
                                "-t", word, "-o", str(path)], check=True, capture_output=True)
            clips.append(Clip(path, digit, f"flite:{voice}", group, -1))
    return clips


def _festival_voice(group: str, voice: str, takes: int) -> list[Clip]:
    """One festival process per voice (it takes a second to start), one utterance per file."""
    clips, lines = [], [f"(voice_{voice})"]
    for digit, word in enumerate(DIGIT_WORDS):
        for take in range(takes):
            path = _target(group, f"festival_{voice}", digit, take)
            stretch = 0.85 + 0.15 * take
            lines += [f"(Parameter.set 'Duration_Stretch {stretch:.2f})",
                      f'(utt.save.wave (utt.synth (Utterance Text "{word}")) "{path}" \'riff)']
            clips.append(Clip(path, digit, f"festival:{voice}", group, -1))
    if not all(clip.path.exists() for clip in clips):
        script = CACHE / f"festival_{voice}.scm"
        script.write_text("\n".join(lines) + "\n")
        subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True)
    return clips


def fsdd_clips() -> list[Clip]:
    clips = []
    for path in sorted(FSDD.glob("*.wav")):
        digit, speaker, index = path.stem.split("_")
        clips.append(Clip(path, int(digit), speaker, "fsdd", int(index)))
    if len(clips) != 3000:
        raise SystemExit(f"expected 3000 FSDD recordings in {FSDD}, found {len(clips)}")
    return clips


EXAMPLE_VOICES = ("flite:slt", "festival:cmu_us_slt_arctic_hts", "espeak:en-gb-scotland+f5", "festival:ked_diphone",
                  "espeak:en-us-nyc+m7")  # all from the unseen test voices, two of them female


def write_examples(clips: list[Clip]) -> None:
    """One short example per digit (voices never used in training) and a three-digit sequence."""
    from core.audio import wav_bytes

    EXAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    first_take = {(clip.speaker, clip.digit): clip for clip in clips if clip.group == "synth_test"}
    lines = ["# Example recordings", "", "Synthesised for this project by scripts/train_audio_digits.py "
             "with voices that the classifiers never heard in training (8 kHz, 16-bit mono).", ""]
    for digit, word in enumerate(DIGIT_WORDS):
        voice = EXAMPLE_VOICES[digit % len(EXAMPLE_VOICES)]
        samples = load_clip(first_take[voice, digit].path)
        (EXAMPLE_DIR / f"{word}.wav").write_bytes(wav_bytes(samples, SAMPLE_RATE))
        lines.append(f"- `{word}.wav`: {voice}")
    pause = np.zeros(int(0.4 * SAMPLE_RATE), np.float32)
    sequence = np.concatenate([part for digit in (4, 0, 2) for part in
                               (load_clip(first_take["flite:slt", digit].path), pause)])
    (EXAMPLE_DIR / "four_zero_two.wav").write_bytes(wav_bytes(np.concatenate([pause, sequence]), SAMPLE_RATE))
    lines.append("- `four_zero_two.wav`: flite:slt, three words with 0.4 s pauses")
    (EXAMPLE_DIR / "SOURCE.md").write_text("\n".join(lines) + "\n")


# --- 2. augmentation and features -------------------------------------------------------

def load_clip(path: Path) -> np.ndarray:
    import soundfile

    from core.audio import resample

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)
    return resample(samples / max(1e-6, np.abs(samples).max()) * 0.8, rate, SAMPLE_RATE)


def augment(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random chain of what real recordings go through: other voices, rooms, phones, noise."""
    import librosa
    from scipy import signal

    if rng.random() < 0.6:  # speed: tempo and pitch together, like a faster or higher voice
        samples = signal.resample(samples, int(samples.size / rng.uniform(0.85, 1.15)))
    if rng.random() < 0.4:  # pitch alone, e.g. towards female and child voices
        samples = librosa.effects.pitch_shift(samples, sr=SAMPLE_RATE, n_steps=rng.uniform(-3, 5), n_fft=256)
    if rng.random() < 0.3:  # reverb: an exponentially decaying noise burst as the room's response
        decay = rng.uniform(0.1, 0.5)
        times = np.arange(int(decay * SAMPLE_RATE)) / SAMPLE_RATE
        response = rng.standard_normal(times.size) * np.exp(-6.9 * times / decay)
        response[0] = 1.0 / rng.uniform(0.1, 0.6)
        samples = signal.fftconvolve(samples, response)[: samples.size + times.size // 2]
    if rng.random() < 0.3:  # telephone band-pass 300-3400 Hz
        sos = signal.butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
        samples = signal.sosfilt(sos, samples)
    samples = samples / max(1e-6, np.abs(samples).max()) * rng.uniform(0.05, 1.0)  # gain
    samples = np.pad(samples, (int(rng.integers(0, 2000)), int(rng.integers(0, 2000))))
    if rng.random() < 0.7:  # background noise (white or brown-ish) at 5-40 dB SNR
        noise = rng.standard_normal(samples.size)
        if rng.random() < 0.5:
            noise = np.cumsum(noise)
            noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
        snr = rng.uniform(5, 40)
        power = np.mean(samples[np.abs(samples) > 0.01 * np.abs(samples).max()] ** 2)
        samples = samples + noise / np.sqrt(np.mean(noise ** 2)) * np.sqrt(power / 10 ** (snr / 10))
    return np.clip(samples, -1, 1).astype(np.float32)


def features(clips: list[Clip], copies: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Centred log-mel maps and pooled stats for each clip: the clean take, then ``copies`` augmented ones (not for tests)."""
    maps, stats, rows = [], [], []
    for number, clip in enumerate(clips):
        clean = load_clip(clip.path)
        for copy in range(1 + (0 if clip.group == "synth_test" else copies)):
            samples = clean if copy == 0 else augment(clean, rng)
            maps.append(centred_log_mel(samples).astype(np.float16))
            stats.append(pooled_mfcc_stats(samples))
            rows.append((number, copy))
        if number % 500 == 0:
            print(f"  features {number}/{len(clips)}", flush=True)
    rows_array = np.array(rows)
    return {"maps": np.stack(maps), "stats": np.stack(stats), "clip": rows_array[:, 0], "copy": rows_array[:, 1]}


# --- 3. the two classifiers -------------------------------------------------------------

def fit_baseline(stats: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(stats)
    model = LogisticRegression(C=1.0, max_iter=3000).fit(scaler.transform(stats), labels)
    return {"mean": scaler.mean_.astype(np.float32), "scale": scaler.scale_.astype(np.float32),
            "coef": model.coef_.astype(np.float32), "intercept": model.intercept_.astype(np.float32)}


def baseline_predict(weights: dict[str, np.ndarray], stats: np.ndarray) -> np.ndarray:
    return np.argmax(((stats - weights["mean"]) / weights["scale"]) @ weights["coef"].T + weights["intercept"], axis=1)


def fit_cnn(maps: np.ndarray, labels: np.ndarray, epochs: int, log_name: str):
    """Adam, one-cycle learning rate, SpecAugment-style masks (hide a few mel bands and frames)."""
    import torch

    torch.manual_seed(SEED)
    model = digit_cnn()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    batches = int(np.ceil(len(labels) / 64))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=4e-3, total_steps=epochs * batches,
                                                   pct_start=0.15)
    inputs, targets = torch.from_numpy(maps.astype(np.float32))[:, None], torch.from_numpy(labels).long()
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        model.train()
        order, correct, started = torch.randperm(len(targets), generator=generator), 0, time.time()
        for batch in order.split(64):
            x, y = _mask(inputs[batch], generator), targets[batch]
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            correct += int((logits.argmax(1) == y).sum())
        print(f"  [{log_name}] epoch {epoch + 1}/{epochs} train acc {correct / len(targets):.3f} "
              f"({time.time() - started:.0f} s)", flush=True)
    return model.eval()


def _mask(batch, generator):
    """Each map gets 0-7 adjacent mel bands and 0-9 adjacent frames set to its lowest value."""
    import torch

    size, _, n_bands, n_frames = batch.shape
    bands = torch.randint(0, 8, (size,), generator=generator)
    band_start = (torch.rand(size, generator=generator) * (n_bands - bands)).long()
    frames = torch.randint(0, 10, (size,), generator=generator)
    frame_start = (torch.rand(size, generator=generator) * (n_frames - frames)).long()
    band, frame = torch.arange(n_bands)[None], torch.arange(n_frames)[None]
    hidden_bands = (band >= band_start[:, None]) & (band < (band_start + bands)[:, None])
    hidden_frames = (frame >= frame_start[:, None]) & (frame < (frame_start + frames)[:, None])
    hidden = hidden_bands[:, None, :, None] | hidden_frames[:, None, None, :]
    return torch.where(hidden, batch.amin(dim=(1, 2, 3), keepdim=True), batch)


def cnn_predict(model, maps: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        inputs = torch.from_numpy(maps.astype(np.float32))[:, None]
        return torch.cat([model(chunk).argmax(1) for chunk in inputs.split(256)]).numpy()


# --- 4. evaluation ----------------------------------------------------------------------

def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return round(float(np.mean(predicted == labels)), 4)


def per_voice(predicted: np.ndarray, labels: np.ndarray, voices: np.ndarray) -> dict[str, float]:
    families = np.array([voice.split(":")[0] + (":" + voice.split(":")[1] if not voice.startswith("espeak") else "")
                         for voice in voices])
    return {family: accuracy(predicted[families == family], labels[families == family])
            for family in sorted(set(families))}


def confusion(predicted: np.ndarray, labels: np.ndarray) -> list[list[int]]:
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6, help="CNN epochs, for the shipped model and every fold")
    parser.add_argument("--copies", type=int, default=2, help="augmented copies of every clip")
    parser.add_argument("--skip-loso-cnn", action="store_true", help="leave-one-speaker-out with the baseline only")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    started = time.time()
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "torch_threads": 1,
               "load_average_at_start": round(os.getloadavg()[0], 2)}
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = fsdd_clips() + synthesise(rng)
    print(f"{len(clips)} clips ({time.time() - started:.0f} s)", flush=True)
    write_examples(clips)

    cache = CACHE / f"features_c{args.copies}.npz"
    if not cache.exists():
        np.savez(cache, **features(clips, args.copies, rng))
    with np.load(cache) as stored:
        table = {name: stored[name] for name in stored.files}
    table["maps"] = normalise_bands(table["maps"])  # what cnn_input gives the demo's CNN
    labels = np.array([clips[i].digit for i in table["clip"]])
    speakers = np.array([clips[i].speaker for i in table["clip"]])
    groups = np.array([clips[i].group for i in table["clip"]])
    indices = np.array([clips[i].index for i in table["clip"]])
    clean = table["copy"] == 0
    print(f"features ready: {len(labels)} rows ({time.time() - started:.0f} s)", flush=True)

    train = (groups == "synth_train") | ((groups == "fsdd") & (indices >= 5))
    fsdd_test = clean & (groups == "fsdd") & (indices < 5)
    synth_test = clean & (groups == "synth_test")
    baseline = fit_baseline(table["stats"][train], labels[train])
    fit_started = time.time()
    cnn = fit_cnn(table["maps"][train], labels[train], args.epochs, "final")
    machine["final_cnn_training_seconds"] = round(time.time() - fit_started)

    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(MODEL_DIR / "digits_baseline.npz", **baseline)
    from safetensors.torch import save_file
    save_file({name: tensor.contiguous() for name, tensor in cnn.state_dict().items()},
              MODEL_DIR / "digits_cnn.safetensors")

    evaluation: dict = {"data": {
        "fsdd_clips": int(np.sum(clean & (groups == "fsdd"))),
        "synth_train_clips": int(np.sum(clean & (groups == "synth_train"))),
        "synth_train_voices": len(set(speakers[groups == "synth_train"])),
        "synth_test_clips": int(np.sum(synth_test)),
        "synth_test_voices": len(set(speakers[synth_test])),
        "augmented_copies_per_clip": args.copies, "training_rows_final": int(np.sum(train)),
    }, "cnn_epochs": args.epochs, "machine": machine}
    for name, predict in (("cnn", lambda rows: cnn_predict(cnn, table["maps"][rows])),
                          ("baseline", lambda rows: baseline_predict(baseline, table["stats"][rows]))):
        predicted_fsdd, predicted_synth = predict(fsdd_test), predict(synth_test)
        evaluation[name] = {
            "fsdd_official_test_accuracy": accuracy(predicted_fsdd, labels[fsdd_test]),
            "unseen_synthetic_voices_accuracy": accuracy(predicted_synth, labels[synth_test]),
            "unseen_synthetic_by_engine": per_voice(predicted_synth, labels[synth_test], speakers[synth_test]),
            "unseen_synthetic_confusion": confusion(predicted_synth, labels[synth_test]),
        }
        print(name, json.dumps({k: v for k, v in evaluation[name].items() if "confusion" not in k}), flush=True)
    _write(evaluation)

    for name in ("baseline",) + (() if args.skip_loso_cnn else ("cnn",)):
        per_speaker, fold_started = {}, time.time()
        for speaker in sorted(set(speakers[groups == "fsdd"])):
            fold_train = (groups == "synth_train") | ((groups == "fsdd") & (speakers != speaker))
            fold_test = clean & (speakers == speaker)
            if name == "baseline":
                predicted = baseline_predict(fit_baseline(table["stats"][fold_train], labels[fold_train]),
                                             table["stats"][fold_test])
            else:
                model = fit_cnn(table["maps"][fold_train], labels[fold_train], args.epochs, f"loso {speaker}")
                predicted = cnn_predict(model, table["maps"][fold_test])
            per_speaker[speaker] = accuracy(predicted, labels[fold_test])
            print(f"  {name} held-out {speaker}: {per_speaker[speaker]}", flush=True)
        evaluation[name]["leave_one_speaker_out"] = {
            "per_speaker": per_speaker, "mean": round(float(np.mean(list(per_speaker.values()))), 4),
            "epochs": args.epochs if name == "cnn" else None,
            "training_seconds_all_folds": round(time.time() - fold_started),
        }
        _write(evaluation)
    print(f"done in {time.time() - started:.0f} s", flush=True)


def _write(evaluation: dict) -> None:
    """Merge into the results file (the benchmark script adds its timings to the same file)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["evaluation"] = evaluation
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
