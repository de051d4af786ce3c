"""Spoken digits from espeak-ng, one digit at a time (so onsets are known), on a phone-like noise floor."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy import signal
from scipy.io import wavfile

SAMPLE_RATE = 16000  # what pocketsphinx and most speech front-ends expect
VOICES = {"en": "en", "zh": "cmn"}


@dataclass(frozen=True)
class DigitTime:
    """When one digit is heard, in seconds from the start of the clip."""

    digit: str
    onset: float
    offset: float


@lru_cache(maxsize=128)
def speak(text: str, language: str = "en", speed: int = 150, pitch: int = 50) -> NDArray[np.float32]:
    """espeak-ng speech of ``text`` as float32 mono at 16 kHz, leading/trailing silence trimmed."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng)")
    voice = VOICES.get(language, language)
    with tempfile.TemporaryDirectory(prefix="pensioncert-espeak-") as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(
            [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
            check=True, capture_output=True,
        )
        rate, data = wavfile.read(wav)
    x = data.astype(np.float32) / 32768.0
    if x.ndim > 1:
        x = x.mean(axis=1)
    x = signal.resample_poly(x, SAMPLE_RATE, rate).astype(np.float32)
    loud = np.nonzero(np.abs(x) > 0.02 * np.abs(x).max())[0]
    return x[loud[0] : loud[-1] + 1] if len(loud) else x


def noise_floor(n: int, rng: np.random.Generator, level_db: float = -52.0) -> NDArray[np.float32]:
    """Room and microphone noise: pink-ish hiss plus mains hum, never pure digital silence."""
    white = rng.standard_normal(n)
    b, a = signal.butter(1, 800 / (SAMPLE_RATE / 2), "low")
    pink = signal.lfilter(b, a, white) * 2.5 + 0.3 * white
    pink /= np.sqrt(np.mean(pink**2)) + 1e-12
    t = np.arange(n) / SAMPLE_RATE
    hum = 0.15 * np.sin(2 * np.pi * 50 * t + rng.uniform(0, 6.3)) + 0.05 * np.sin(2 * np.pi * 150 * t)
    return ((pink + hum) * 10 ** (level_db / 20)).astype(np.float32)


@dataclass
class Speech:
    """A speech track and what is said when."""

    audio: NDArray[np.float32]
    times: list[DigitTime]
    envelope: NDArray[np.float64]  # mouth opening 0..1 per video frame


def speak_digits(
    digits: str, n_frames: int, fps: float, language: str, rng: np.random.Generator, start: float = 0.8,
    voiced: bool = True, onsets: Sequence[float] | None = None,
) -> Speech:
    """Speak ``digits`` one by one from ``start`` seconds; the mouth envelope follows the syllables.

    ``onsets`` (one per digit) places each digit's voice onset instead (a speaker answering timed
    prompts); a digit is never started before the previous one ended plus 120 ms, as nobody
    speaks two digits at once. With ``voiced=False`` the mouth still moves but the track holds
    only the noise floor (a mime).
    """
    if onsets is not None and len(onsets) != len(digits):
        raise ValueError("one onset per digit")
    n = int(round(n_frames / fps * SAMPLE_RATE))
    speech = np.zeros(n, np.float32)
    speed = int(rng.integers(130, 165))
    pitch = int(rng.integers(35, 65))
    gain = float(rng.uniform(0.25, 0.4))
    times: list[DigitTime] = []
    pos = start
    for i, d in enumerate(digits):
        if onsets is not None:
            pos = max(float(onsets[i]), times[-1].offset + 0.12) if times else float(onsets[i])
        x = speak(d, language, speed, pitch)
        x = x / (np.abs(x).max() + 1e-9) * gain
        i0 = int(pos * SAMPLE_RATE)
        i1 = min(n, i0 + len(x))
        if i1 > i0:
            speech[i0:i1] += x[: i1 - i0]
        times.append(DigitTime(d, round(i0 / SAMPLE_RATE, 3), round(i1 / SAMPLE_RATE, 3)))
        pos = i1 / SAMPLE_RATE + float(rng.uniform(0.25, 0.45))
    # mouth follows the RMS envelope, opening ~40 ms before the sound as lips do
    hop = SAMPLE_RATE / fps
    centres = (np.arange(n_frames) / fps + 0.04) * SAMPLE_RATE
    env = np.zeros(n_frames)
    for k, c in enumerate(centres):
        a, b = int(max(0, c - hop)), int(min(n, c + hop))
        if b > a:
            env[k] = float(np.sqrt(np.mean(speech[a:b] ** 2)))
    if env.max() > 0:
        env = np.clip(env / np.percentile(env[env > 0], 90), 0, 1) ** 0.7 * 0.75
    # phone microphone: band-limited, on a noise floor
    b, a = signal.butter(2, [120 / (SAMPLE_RATE / 2), 6000 / (SAMPLE_RATE / 2)], "band")
    voiced_track = signal.lfilter(b, a, speech).astype(np.float32) if voiced else np.zeros(n, np.float32)
    audio = voiced_track + noise_floor(n, rng)
    return Speech(audio=np.clip(audio, -1, 1).astype(np.float32), times=times if voiced else [], envelope=env)
