"""Audio for AV-MNIST: pools of digit clips, additive noise at a set SNR, spectrograms.

All waveforms here are float32 at 11,025 Hz (eSpeak's 22,050 Hz output halved with a
polyphase filter: speech energy lies below 5 kHz, and the 112 STFT bins then span 0-5.5 kHz).
A spectrogram is the log-magnitude STFT (torch.stft, Hann window of 222 samples = 112
frequency bins, hop 118 = 112 frames) of a 13,320-sample window (1.21 s).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.signal import resample_poly

from mfas_core.data import speech

RATE = 11025
N_FFT = 222  # -> 112 frequency bins
HOP = 118  # -> 112 frames over WINDOW samples
WINDOW = HOP * 111 + N_FFT  # 13,320 samples = 1.21 s
LOG_FLOOR = 1e-2
MIN_SECONDS, MIN_RMS = 0.08, 1e-3  # a clip shorter or quieter than this counts as silent


def to_float_clip(wave: np.ndarray) -> np.ndarray:
    """int16 eSpeak output -> trimmed float32 clip at RATE with unit RMS (empty if silent)."""
    w = speech.trim_silence(wave)
    if len(w) == 0:
        return w
    w = resample_poly(w.astype(np.float64), 1, 2).astype(np.float32)
    w = w[:WINDOW]
    rms = float(np.sqrt((w**2).mean())) if len(w) else 0.0
    if len(w) < MIN_SECONDS * RATE or rms < MIN_RMS * 32768:
        return w[:0]
    return w / rms


def digit_pool(
    voices: list[str], clips_per_digit: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray, list[speech.Utterance]]:
    """`clips_per_digit` distinct non-silent utterances of each digit word from `voices`.

    Returns clips (unit-RMS float32), their labels, and the requests that made them. A
    request that yields a silent clip is re-drawn (seeded), so every clip is audible.
    """
    texts = [w for w in speech.DIGIT_WORDS for _ in range(clips_per_digit)]
    labels = np.repeat(np.arange(10), clips_per_digit)
    requests = speech.draw_utterances(texts, voices, rng)
    clips = [to_float_clip(w) for w in speech.synthesize(requests)]
    for _ in range(5):
        bad = [i for i, c in enumerate(clips) if len(c) == 0]
        if not bad:
            break
        redo = speech.draw_utterances([texts[i] for i in bad], voices, rng)
        for i, u, w in zip(bad, redo, speech.synthesize(redo), strict=True):
            requests[i], clips[i] = u, to_float_clip(w)
    if any(len(c) == 0 for c in clips):
        raise RuntimeError("espeak produced silent clips even after re-drawing their voices")
    return clips, labels, requests


def babble_pool(
    voices: list[str], n_tracks: int, rng: np.random.Generator, talkers: int = 3
) -> np.ndarray:
    """[n_tracks, 3·WINDOW] babble: each track sums `talkers` unit-RMS non-digit sentences."""
    texts = [
        speech.BABBLE_TEXT[int(i)]
        for i in rng.integers(len(speech.BABBLE_TEXT), size=n_tracks * talkers)
    ]
    requests = speech.draw_utterances(texts, voices, rng)
    length = 3 * WINDOW
    tracks = np.zeros((n_tracks, length), np.float32)
    for i, w in enumerate(speech.synthesize(requests)):
        c = to_float_clip_long(w)
        start = int(rng.integers(len(c)))
        tracks[i // talkers] += np.resize(np.roll(c, -start), length)
    return tracks / np.sqrt((tracks**2).mean(1, keepdims=True))


def to_float_clip_long(wave: np.ndarray) -> np.ndarray:
    """Like `to_float_clip` but without cropping to one window (babble sentences)."""
    w = resample_poly(speech.trim_silence(wave).astype(np.float64), 1, 2).astype(np.float32)
    return w / max(1e-6, float(np.sqrt((w**2).mean())))


def coloured_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, WINDOW] unit-RMS noise with power spectrum ∝ 1/f^β, β ~ U(0, 2) per row
    (white to brown), shaped in the frequency domain with torch.fft."""
    white = torch.from_numpy(rng.standard_normal((n, WINDOW), dtype=np.float32))
    beta = torch.from_numpy(rng.uniform(0.0, 2.0, size=(n, 1)).astype(np.float32))
    freqs = torch.fft.rfftfreq(WINDOW, d=1.0 / RATE)
    freqs[0] = freqs[1]
    spec = torch.fft.rfft(white, dim=1) * freqs.pow(-beta / 2)
    x = torch.fft.irfft(spec, n=WINDOW, dim=1)
    return (x / x.pow(2).mean(1, keepdim=True).sqrt()).numpy()


def mix_batch(
    clips: list[np.ndarray],
    babble: np.ndarray,
    snr_db: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """[B, WINDOW] noisy waveforms: each unit-RMS clip at a random time offset, plus noise.

    Noise = a random power mix of coloured noise and babble, scaled so that the clip's RMS
    (over its own duration) over the noise RMS is `snr_db` decibels.
    """
    n = len(clips)
    x = np.zeros((n, WINDOW), np.float32)
    for i, c in enumerate(clips):
        off = int(rng.integers(WINDOW - len(c) + 1))
        x[i, off : off + len(c)] = c
    track = rng.integers(len(babble), size=n)
    start = rng.integers(babble.shape[1] - WINDOW + 1, size=n)
    bab = babble[track[:, None], start[:, None] + np.arange(WINDOW)]
    bab /= np.sqrt((bab**2).mean(1, keepdims=True)) + 1e-8
    share = rng.uniform(0.0, 1.0, size=(n, 1)).astype(np.float32)
    noise = np.sqrt(1 - share) * coloured_noise(n, rng) + np.sqrt(share) * bab
    noise /= np.sqrt((noise**2).mean(1, keepdims=True)) + 1e-8
    return x + noise * np.float32(10 ** (-snr_db / 20))


def log_spectrogram(waves: np.ndarray) -> np.ndarray:
    """[B, WINDOW] -> [B, 112, 112] log-magnitude STFT (frequency rows, time columns)."""
    x = torch.from_numpy(np.ascontiguousarray(waves))
    s = torch.stft(
        x,
        n_fft=N_FFT,
        hop_length=HOP,
        window=torch.hann_window(N_FFT),
        center=False,
        return_complex=True,
    )
    return torch.log(s.abs() + LOG_FLOOR).numpy()
