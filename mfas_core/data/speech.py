"""Spoken digits synthesized with eSpeak NG through ctypes (docs/SOURCES.md, offline data).

The paper's AV-MNIST used TIDIGITS speech, which no package ships; here every utterance of
"zero".."nine" is synthesized with one of many voices (English accent x voice variant),
speaking rates and pitches. eSpeak keeps internal state between utterances (e.g. its pitch
flutter phase), so a clip depends on what was synthesized before it in the same process.
`synthesize` therefore runs a whole request list in a fresh spawned process: the same list
always gives the same samples, whatever the caller did earlier.
"""

from __future__ import annotations

import ctypes
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mfas_core.data.sources import espeak_paths

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# English voices shipped by espeak-ng 1.52 (identifiers SetVoiceByName accepts).
ACCENTS = (
    "en",
    "en-029",
    "en-GB-scotland",
    "en-GB-x-gbclan",
    "en-GB-x-gbcwmd",
    "en-GB-x-rp",
    "en-US",
    "en-US-nyc",
)
# Sentences for babble noise (Harvard-style, no digit words or homophones such as to/for).
BABBLE_TEXT = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet on the dark blue background.",
    "It is easy as pie when the depth of a well is known.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "A large size in stockings is hard as rocks and hard as iron.",
    "The boy was there when the sun rose.",
    "A rod is used as a hook in the catch of pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back up the hill.",
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
)
SAMPLE_RATE = 22050
BREATH = re.compile(r"^breath\s+.*[1-9]", re.MULTILINE)  # a non-zero breath amplitude
RATE_RANGE = (120, 220)  # words per minute (eSpeak default 175)
PITCH_RANGE = (20, 80)  # eSpeak base pitch 0..100 (default 50)


@dataclass(frozen=True)
class Utterance:
    """One synthesis request: text, voice 'accent+variant', rate (wpm) and pitch (0..100)."""

    text: str
    voice: str
    rate: int
    pitch: int


def variants() -> list[str]:
    """Names of the eSpeak NG voice variant files usable here (sorted).

    Variants with a non-zero `breath` setting are left out: their breath noise is seeded
    from the clock, so the same request gives different samples in different runs (measured:
    exactly those 11 of the 104 variants were not reproducible).
    """
    _, data = espeak_paths()
    out = []
    for p in sorted((data / "voices" / "!v").iterdir()):
        if p.is_file() and not BREATH.search(p.read_text(errors="ignore")):
            out.append(p.name)
    return out


def voice_pools(seed: int, test_share: float = 0.25) -> dict[str, list[str]]:
    """Disjoint voice pools {'train': [...], 'test': [...]}: the variants are split seeded,
    so no test voice variant is ever heard in training; every accent appears in both."""
    names = variants()
    rng = np.random.default_rng([seed, 17])
    order = rng.permutation(len(names))
    n_test = max(1, int(round(test_share * len(names))))
    pools = {"test": sorted(names[i] for i in order[:n_test])}
    pools["train"] = sorted(names[i] for i in order[n_test:])
    return {k: [f"{a}+{v}" for a in ACCENTS for v in vs] for k, vs in pools.items()}


def draw_utterances(
    texts: list[str], voices: list[str], rng: np.random.Generator
) -> list[Utterance]:
    """One seeded utterance per text: random voice from `voices`, rate and pitch."""
    out = []
    for t in texts:
        out.append(
            Utterance(
                t,
                voices[int(rng.integers(len(voices)))],
                int(rng.integers(RATE_RANGE[0], RATE_RANGE[1] + 1)),
                int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
            )
        )
    return out


class _Espeak:
    """Minimal ctypes binding: synchronous synthesis collected through the callback."""

    def __init__(self) -> None:
        lib_path, data_path = espeak_paths()
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        rate = self.lib.espeak_Initialize(2, 0, str(data_path).encode(), 0)  # 2 = synchronous
        if rate != SAMPLE_RATE:
            raise RuntimeError(f"{lib_path}: espeak_Initialize returned {rate}, not {SAMPLE_RATE}")
        self._chunks: list[np.ndarray] = []
        proto = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        self._callback = proto(self._collect)  # keep a reference: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n, _events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def say(self, u: Utterance) -> np.ndarray:
        if self.lib.espeak_SetVoiceByName(u.voice.encode()) != 0:
            raise ValueError(f"espeak: voice {u.voice!r} not found")
        self.lib.espeak_SetParameter(1, u.rate, 0)
        self.lib.espeak_SetParameter(3, u.pitch, 0)
        self._chunks = []
        text = u.text.encode()
        if self.lib.espeak_Synth(text, len(text) + 1, 0, 0, 0, 1, None, None) != 0:
            raise RuntimeError(f"espeak: synthesis of {u} failed")
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)


def synthesize(utterances: list[Utterance]) -> list[np.ndarray]:
    """int16 waveforms at 22,050 Hz, one per utterance, synthesized in a fresh process.

    A child interpreter (`python -m mfas_core.data.speech OUT.npz` with the requests as JSON
    on stdin) runs the list from eSpeak's initial state, so results never depend on history.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clips.npz"
        proc = subprocess.run(
            [sys.executable, "-m", "mfas_core.data.speech", str(out)],
            input=json.dumps([asdict(u) for u in utterances]),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"espeak synthesis failed: {proc.stderr.strip()[-2000:]}")
        with np.load(out) as z:
            return [z[f"c{i}"] for i in range(len(utterances))]


def _main(out_path: str) -> None:
    """Child side of `synthesize`: requests on stdin, waveforms to an .npz file."""
    engine = _Espeak()
    requests = [Utterance(**d) for d in json.load(sys.stdin)]
    np.savez(out_path, **{f"c{i}": engine.say(u) for i, u in enumerate(requests)})


def trim_silence(wave: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Cut leading/trailing samples quieter than `threshold` x the peak (float output)."""
    w = wave.astype(np.float32)
    peak = np.abs(w).max() if len(w) else 0.0
    if peak == 0:
        return w[:0]
    loud = np.nonzero(np.abs(w) > threshold * peak)[0]
    return w[loud[0] : loud[-1] + 1]


if __name__ == "__main__":
    _main(sys.argv[1])
