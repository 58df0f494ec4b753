"""AV-MNIST rebuilt offline: PCA-degraded MNIST digits paired by label with noisy spoken digits.

Images: MNIST train[:55000] / train[55000:] / test as train / val / test (seeded subsets when
fewer pairs are asked), scaled to [0, 1], with the leading principal components that hold
`pca_energy_removed` of the training variance projected out (as the original AV-MNIST did).
Audio: each image gets a clip of its own digit from a pool of synthesized utterances, at a
random time offset, plus coloured/babble noise at `snr_db`, as a 112x112 log spectrogram
standardized with the training mean and std. Train and val draw from one voice pool, test
from a disjoint one (other eSpeak voice variants): the test measures new voices.
"""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from mfas_core.data import audio, speech
from mfas_core.data.kinds import DatasetKind
from mfas_core.data.mnist import load_mnist, remove_pca_energy, subset
from mfas_core.data.sources import espeak_paths

N_MNIST_TRAIN = 55000  # the rest of MNIST's 60,000 training digits is the val pool
BATCH = 2000
BABBLE_TRACKS = 32


def spectrograms(
    labels: np.ndarray,
    pool: tuple[list[np.ndarray], np.ndarray],
    babble: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
    desc: str,
) -> np.ndarray:
    """[N, 112, 112] noisy log spectrograms (float16, to bound memory at 70,000 pairs), one
    per label, each of a pool clip of that digit."""
    clips, clip_labels = pool
    by_digit = [np.flatnonzero(clip_labels == d) for d in range(10)]
    choice = np.array([by_digit[y][rng.integers(len(by_digit[y]))] for y in labels], dtype=int)
    out = np.empty((len(labels), 112, 112), np.float16)
    for lo in tqdm(range(0, len(labels), BATCH), desc=f"audio {desc}", unit="batch"):
        idx = choice[lo : lo + BATCH]
        waves = audio.mix_batch([clips[i] for i in idx], babble, snr_db, rng)
        out[lo : lo + BATCH] = audio.log_spectrogram(waves)
    return out


def chunked_mean_std(x: np.ndarray) -> tuple[float, float]:
    """Mean and std of a large array, accumulated in float64 over chunks of rows."""
    total = sq = 0.0
    for lo in range(0, len(x), BATCH):
        chunk = x[lo : lo + BATCH].astype(np.float64)
        total += chunk.sum()
        sq += (chunk**2).sum()
    n = x.size
    mean = total / n
    return float(mean), float(np.sqrt(max(sq / n - mean**2, 1e-12)))


def build_avmnist(spec: dict, seed: int) -> dict:
    """All arrays and metadata of an AV-MNIST dataset (see module docstring).

    Returns {'splits', 'labels', 'sources', 'params'} ready for schema.write_dataset.
    """
    rng = np.random.default_rng([seed, 1])
    train_img, train_lab, files = load_mnist("train")
    test_img, test_lab, test_files = load_mnist("test")
    name = spec.get("name", "avmnist")
    pick = {
        "train": subset(N_MNIST_TRAIN, spec["n_train"], rng, f"datasets.{name}.n_train"),
        "val": N_MNIST_TRAIN
        + subset(len(train_img) - N_MNIST_TRAIN, spec["n_val"], rng, f"datasets.{name}.n_val"),
        "test": subset(len(test_img), spec["n_test"], rng, f"datasets.{name}.n_test"),
    }
    images = {s: (test_img if s == "test" else train_img)[i] for s, i in pick.items()}
    labels = {s: (test_lab if s == "test" else train_lab)[i] for s, i in pick.items()}
    flat = {s: v.reshape(len(v), 784).astype(np.float32) / 255.0 for s, v in images.items()}
    tr, (va, te), pca = remove_pca_energy(
        flat["train"], [flat["val"], flat["test"]], spec["pca_energy_removed"]
    )
    image = {
        s: a.reshape(-1, 28, 28)
        for s, a in zip(("train", "val", "test"), (tr, va, te), strict=True)
    }

    voices = speech.voice_pools(seed)
    snr = float(spec["snr_db"])
    spec_audio = {}
    for pool_name, splits in (("train", ("train", "val")), ("test", ("test",))):
        prng = np.random.default_rng([seed, 2, 0 if pool_name == "train" else 1])
        clips, clip_labels, _ = audio.digit_pool(voices[pool_name], spec["clips_per_digit"], prng)
        babble = audio.babble_pool(voices[pool_name], BABBLE_TRACKS, prng)
        for s in splits:
            spec_audio[s] = spectrograms(labels[s], (clips, clip_labels), babble, snr, prng, s)
    mean, std = chunked_mean_std(spec_audio["train"])
    for arr in spec_audio.values():
        for lo in range(0, len(arr), BATCH):
            arr[lo : lo + BATCH] = (arr[lo : lo + BATCH].astype(np.float32) - mean) / std

    splits = {s: {"audio": spec_audio[s], "image": image[s]} for s in ("train", "val", "test")}
    params = {
        **spec,
        "seed": seed,
        "pca": pca,
        "audio": {
            "sample_rate": audio.RATE,
            "window_samples": audio.WINDOW,
            "n_fft": audio.N_FFT,
            "hop": audio.HOP,
            "log_floor": audio.LOG_FLOOR,
            "standardize_mean": mean,
            "standardize_std": std,
            "rate_range": list(speech.RATE_RANGE),
            "pitch_range": list(speech.PITCH_RANGE),
            "train_voices": voices["train"],
            "test_voices": voices["test"],
            "noise": "unit-RMS mix (random share) of 1/f^beta noise (beta~U(0,2)) and 3-talker babble",
        },
    }
    lib, data = espeak_paths()
    sources = files + test_files + [lib, data / "phondata", data / "en_dict"]
    return {"splits": splits, "labels": labels, "sources": sources, "params": params}


# Paper sizes (MFAS §4: 55,000 train / 5,000 val / 10,000 test); conv backbones as the authors'
# code (5 audio blocks, 3 image blocks; docs/architecture.md).
KIND = DatasetKind(
    name="avmnist",
    build=build_avmnist,
    modalities=("audio", "image"),
    backbones={
        "audio": {"type": "conv", "blocks": 5, "channels": 3},
        "image": {"type": "conv", "blocks": 3, "channels": 3},
    },
    sizes={"n_train": 55000, "n_val": 5000, "n_test": 10000},
    required=("n_train", "n_val", "n_test"),
    half_precision=frozenset({"audio"}),
)
