"""Spoken-digit evidence: recognizer verification (English, Mandarin) and language-neutral evidence.

Verification, not transcription: the English recognizer may only choose among four-digit
strings (a JSGF grammar), and the result is compared with the challenge. Mandarin has no
offline model in any package; :class:`PocketsphinxMandarinDigits` verifies each voiced digit
of a timed reading against the digit that was asked for, with the English acoustic model and
a lexicon of the ten digit syllables in English phones (weak evidence, measured only on
espeak-ng voices: docs/liveness.md). For every language we also count syllables by energy
peaks — each Chinese digit is one syllable — and require the mouth to move in step with the
voice (``av_sync``). An agency with its own model implements :class:`DigitRecognizer` and
passes it in.
"""

from __future__ import annotations

import functools
import math
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from pensioncert.errors import CodedError

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
HOP = 160  # 10 ms at 16 kHz

EN_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class DigitHearing:
    """What a recognizer heard, constrained to four digits ('' when nothing was decoded)."""

    heard: str
    detail: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DigitRecognizer(Protocol):
    """A speech recognizer restricted to four-digit strings in one language.

    ``recognise`` gets 16 kHz mono float audio and returns the four digits it heard.
    """

    language: str

    def recognise(self, audio: F32, sample_rate: int) -> DigitHearing: ...


class DigitRecognizerUnavailable(CodedError):
    """A recognizer's model could not be loaded: an error for the caller, never a skipped check."""

    code = "liveness.digit_recognizer_unavailable"


class PocketsphinxDigits:
    """English digits with the pocketsphinx model shipped in its wheel and a four-digit grammar.

    Measured on espeak-ng digits with a noise floor (five voices, two speeds, 40 strings):
    exact 30–33/40, at least three positions right 38/40; leading silence cost up to a
    third of the accuracy, hence the speech-region trim before decoding. ~0.05–0.1 s a call.

    The grammar has no "oh" for zero: a non-rhotic "four" (espeak-ng's ``f'o@``, and many
    speakers whose English is a second language) decoded as "oh" most times: 24/40 readings
    (half of them rich in fours) came out wrong with "oh" in the grammar, 0/40 without it (timed
    readings, voices of ``synth.audio``). The English page asks for 0 to be read as "zero"
    (``web.digits_intro``); one "oh" still leaves three of four digits right (``digits_min_matching``).
    """

    language = "en"
    _GRAMMAR = (
        "#JSGF V1.0;\ngrammar digits;\npublic <digits> = <d> <d> <d> <d>;\n<d> = "
        + " | ".join(EN_WORDS) + ";\n"
    )

    def __init__(self) -> None:
        self._decoder: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._decoder is None:
            from pocketsphinx import Config, Decoder, get_model_path

            model = get_model_path()
            config = Config(hmm=os.path.join(model, "en-us", "en-us"),
                            dict=os.path.join(model, "en-us", "cmudict-en-us.dict"),
                            lm=None, loglevel="FATAL", cmn="batch")
            decoder = Decoder(config)
            decoder.add_jsgf_string("digits", self._GRAMMAR)
            decoder.activate_search("digits")
            self._decoder = decoder
        return self._decoder

    def recognise(self, audio: F32, sample_rate: int) -> DigitHearing:
        if sample_rate != 16000:
            raise ValueError("pocketsphinx en-us expects 16 kHz audio")
        region = speech_region(audio, sample_rate)
        if region is None:
            return DigitHearing("", {"speech": False})
        a, b = region
        pcm = np.clip(audio[a:b] * 32767.0, -32768, 32767).astype(np.int16)
        with self._lock:
            decoder = self._load()
            # Batch cepstral mean normalisation over this utterance alone: the result does not
            # depend on what was decoded before (the default live CMN carried estimates over, so
            # the same audio gave 0205 on a fresh decoder and 0245 later, and needed a second pass).
            # Measured on 24 espeak-ng strings: same accuracy as two live passes (21 exact, 22 with
            # >= 3 right), 0.10 s CPU a call instead of 0.17.
            decoder.start_utt()
            decoder.process_raw(pcm.tobytes(), full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        words = hyp.hypstr.split() if hyp is not None else []
        heard = "".join(str(EN_WORDS.index(w)) for w in words if w in EN_WORDS)
        return DigitHearing(heard, {"speech": True, "words": words})


ZH_WORDS = ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")  # 零 一 二 三 四 五 六 七 八 九


@dataclass(frozen=True)
class DigitCheck:
    """One voiced digit judged against the digit that was asked for.

    ``heard`` is the best of the ten ('' when nothing could be decoded); ``gap`` how far the
    asked-for digit's acoustic score lies behind the best one, in nats per 10 ms of voice
    (0 when it is the best, ``inf`` when it could not be aligned at all).
    """

    expected: str
    heard: str
    gap: float
    verified: bool

    def as_dict(self) -> dict[str, Any]:
        return {"expected": self.expected, "heard": self.heard,
                "gap": round(self.gap, 3) if math.isfinite(self.gap) else None, "verified": self.verified}


@runtime_checkable
class SegmentDigitVerifier(Protocol):
    """Checks each voiced digit of a timed reading (one segment per prompt) against the asked-for digit."""

    language: str

    def verify_segments(self, audio: F32, sample_rate: int, segments: Sequence[tuple[float, float]],
                        expected: str) -> list[DigitCheck]: ...


@dataclass(frozen=True)
class SegmentScores:
    """One voiced segment decoded with the one-of-ten grammar: the best digit and its rivals' scores."""

    best: str  # digit, '' when nothing was decoded
    scores: dict[str, float]  # digit -> its best path score in the decode's n-best list (log base 1.0001)
    frames: int  # 10 ms frames of voice in the segment (the unit of ``gap``)

    def check(self, expected: str, margin: float) -> DigitCheck:
        """``expected`` is verified when it is the best, or when its best path in the same decode
        scores within ``margin`` (log units per 10 ms of voice) of the best path."""
        if not self.best:
            return DigitCheck(expected, "", math.inf, False)
        if self.best == expected:
            return DigitCheck(expected, self.best, 0.0, True)
        if expected not in self.scores:  # not even a rival: pruned from the lattice
            return DigitCheck(expected, self.best, math.inf, False)
        gap = max(0.0, (self.scores[self.best] - self.scores[expected]) / self.frames)
        return DigitCheck(expected, self.best, gap, gap <= margin)


class PocketsphinxMandarinDigits:
    """Mandarin digits, one voiced segment at a time, with pocketsphinx's **English** acoustic model.

    No offline Mandarin model ships in a package, so the ten digit syllables are spelled in
    CMU (English) phones (``LEXICON``) and each segment is decoded once with a one-of-ten
    grammar. A segment *verifies* the asked-for digit when that digit is the best of the ten,
    or when its best path in the same decode's n-best list scores within ``margin`` (log base
    1.0001 per 10 ms of voice) of the best path; a digit pruned from the lattice does not.

    Measured only on espeak-ng voices (``pensioncert eval mandarin``, docs/liveness.md): weak
    evidence for real elderly and dialect speakers until the pilot measures it. One decode of
    ~0.5-1 s of audio per digit, ~0.02-0.035 s of CPU (0.09-0.14 s a four-digit reading).
    """

    language = "zh"
    # Each digit's readings in CMU phones; variants ``word(2)`` etc. in the dictionary.
    LEXICON: Mapping[str, tuple[str, ...]] = {
        "ling": ("L IH NG", "L IY NG"),
        "yi": ("IY", "Y IY"),
        "er": ("ER", "AH R", "AA R"),
        "san": ("S AA N", "S AE N"),
        "si": ("S IH", "S AH"),
        "wu": ("W UW", "UW"),
        "liu": ("L Y OW", "L IY OW"),
        "qi": ("CH IY",),
        "ba": ("B AA", "P AA"),
        "jiu": ("JH Y OW", "JH IY OW"),
    }
    # Chosen on the tuning split (plain cmn voice) of ``pensioncert eval mandarin``.
    MARGIN = 10.0
    PAD_S = 0.3  # context decoded around each voiced segment (never past half-way to the next)
    MAX_SEGMENT_S = 1.5  # one digit is never longer: a longer "segment" verifies nothing
    NBEST = 100  # n-best entries searched for the rivals' scores

    def __init__(self, *, margin: float | None = None, lexicon: Mapping[str, Sequence[str]] | None = None,
                 pad_s: float | None = None) -> None:
        self.margin = self.MARGIN if margin is None else margin
        self.pad_s = self.PAD_S if pad_s is None else pad_s
        self.lexicon = {w: tuple(v) for w, v in (lexicon or self.LEXICON).items()}
        if set(self.lexicon) != set(ZH_WORDS):
            raise ValueError(f"the lexicon must spell exactly the ten digits {ZH_WORDS}")
        self._decoder: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        """The decoder (loaded once): a failure is :class:`DigitRecognizerUnavailable`, never a skip."""
        if self._decoder is None:
            try:
                from pocketsphinx import Config, Decoder, get_model_path

                with tempfile.TemporaryDirectory(prefix="pensioncert-zh-") as tmp:
                    path = os.path.join(tmp, "zh-digits.dict")
                    with open(path, "w", encoding="ascii") as out:
                        for word in ZH_WORDS:
                            for i, phones in enumerate(self.lexicon[word]):
                                out.write(f"{word}{'' if i == 0 else f'({i + 1})'} {phones}\n")
                    config = Config(hmm=os.path.join(get_model_path(), "en-us", "en-us"), dict=path,
                                    lm=None, loglevel="FATAL", cmn="batch")
                    decoder = Decoder(config)
                decoder.add_jsgf_string("digits", "#JSGF V1.0;\ngrammar digits;\npublic <d> = "
                                        + " | ".join(ZH_WORDS) + ";\n")
                decoder.activate_search("digits")
            except Exception as missing:  # ImportError, missing model files, a bad dictionary
                raise DigitRecognizerUnavailable(f"the Mandarin digit recognizer cannot load: {missing}") from missing
            self._decoder = decoder
        return self._decoder

    def _pcm(self, audio: F32, sample_rate: int, segments: Sequence[tuple[float, float]], i: int) -> bytes | None:
        a, b = segments[i]
        if b - a > self.MAX_SEGMENT_S:
            return None
        pad = self.pad_s
        lo = a - pad if i == 0 else max(a - pad, (segments[i - 1][1] + a) / 2)
        hi = b + pad if i == len(segments) - 1 else min(b + pad, (b + segments[i + 1][0]) / 2)
        x = audio[max(0, int(lo * sample_rate)): min(len(audio), int(hi * sample_rate))]
        return np.clip(x * 32767.0, -32768, 32767).astype(np.int16).tobytes()

    def score_segment(self, audio: F32, sample_rate: int, segments: Sequence[tuple[float, float]],
                      i: int) -> SegmentScores:
        """Segment ``i`` (with ``pad_s`` of context) decoded once: the best digit and every digit's
        best path score among the first ``NBEST`` hypotheses."""
        if sample_rate != 16000:
            raise ValueError("pocketsphinx en-us expects 16 kHz audio")
        frames = max(1, int(round((segments[i][1] - segments[i][0]) * 100)))
        pcm = self._pcm(audio, sample_rate, segments, i)
        if pcm is None:
            return SegmentScores("", {}, frames)
        scores: dict[str, float] = {}
        with self._lock:
            decoder = self._load()
            # Noise removal and batch CMN estimated on this segment alone: the result does not
            # depend on what was decoded before (without the reset the same segment gave "2",
            # then "8" on the next calls, as the noise estimate carried over).
            decoder.reinit_feat()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            word = hyp.hypstr.strip() if hyp is not None else ""
            for n, alt in enumerate(decoder.nbest()):
                if n >= self.NBEST or len(scores) == len(ZH_WORDS):
                    break
                w = alt.hypstr.strip() if alt is not None else ""
                if w in ZH_WORDS and alt.score > 0.0:
                    digit = str(ZH_WORDS.index(w))
                    scores[digit] = max(scores.get(digit, -math.inf), math.log(alt.score) / _LOG_BASE)
        best = str(ZH_WORDS.index(word)) if word in ZH_WORDS else ""
        if best and best not in scores:  # the one-best is not in the n-best list: nothing to compare with
            scores = {best: 0.0}
        return SegmentScores(best, scores, frames)

    def verify_segments(self, audio: F32, sample_rate: int, segments: Sequence[tuple[float, float]],
                        expected: str) -> list[DigitCheck]:
        """One :class:`DigitCheck` per segment, segment ``i`` against ``expected[i]`` (as many as both have)."""
        return [self.score_segment(audio, sample_rate, segments, i).check(digit, self.margin)
                for i, digit in enumerate(expected[: len(segments)])]

    def recognise(self, audio: F32, sample_rate: int) -> DigitHearing:
        """The best digit of each voiced segment (the :class:`DigitRecognizer` view; one-best only)."""
        segments = voice_segments(audio, sample_rate)
        heard = "".join(self.score_segment(audio, sample_rate, segments, i).best for i in range(len(segments)))
        return DigitHearing(heard, {"speech": bool(segments), "segments": len(segments)})


_LOG_BASE = math.log(1.0001)  # pocketsphinx's default log base: scores are 1.0001 ** (log score)


@functools.lru_cache(maxsize=4)
def _speech_band(sample_rate: int) -> F64:
    """The 300–3400 Hz band-pass as second-order sections: designing it costs ~4.5 ms, filtering 1 ms."""
    return np.asarray(signal.butter(4, [300, 3400], btype="band", fs=sample_rate, output="sos"))


def energy_db(audio: F32, sample_rate: int = 16000) -> F64:
    """Speech-band (300–3400 Hz) energy per 10 ms, in dB: hum and hiss outside it do not count."""
    if len(audio) < HOP * 4:
        return np.full(max(1, len(audio) // HOP), -120.0)
    band = signal.sosfilt(_speech_band(sample_rate), audio.astype(np.float64))
    n = len(band) // HOP
    frames = band[: n * HOP].reshape(n, HOP)
    return np.asarray(10.0 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12), dtype=np.float64)


def speech_mask(audio: F32, sample_rate: int = 16000, margin_db: float = 15.0) -> NDArray[np.bool_]:
    """10 ms frames louder than the noise floor (10th percentile) by ``margin_db``."""
    e = energy_db(audio, sample_rate)
    floor = float(np.percentile(e, 10))
    return np.asarray(e > max(floor + margin_db, -70.0))


def speech_region(audio: F32, sample_rate: int = 16000, pad_s: float = 0.3) -> tuple[int, int] | None:
    """Sample range from first to last speech frame, padded; None without speech."""
    mask = speech_mask(audio, sample_rate)
    idx = np.flatnonzero(mask)
    if len(idx) < 5:  # < 50 ms of speech is a click, not a word
        return None
    pad = int(pad_s * 100)
    return max(0, (idx[0] - pad) * HOP), min(len(audio), (idx[-1] + 1 + pad) * HOP)


def count_syllables(audio: F32, sample_rate: int = 16000) -> tuple[int, list[float]]:
    """Syllable nuclei as prominent peaks of the smoothed speech-band energy; returns (count, times).

    Peaks must rise 15 dB above the noise floor, stand out by 6 dB from the dips around them
    and lie 150 ms apart (no one says more than ~6 syllables a second reading digits).
    """
    e = energy_db(audio, sample_rate)
    if len(e) < 10:
        return 0, []
    smooth = np.convolve(e, np.ones(5) / 5, mode="same")  # 50 ms
    floor = float(np.percentile(e, 10))
    peaks, _ = signal.find_peaks(smooth, height=max(floor + 15.0, -70.0), prominence=6.0, distance=15)
    return len(peaks), [float(p * HOP / sample_rate) for p in peaks]


def voice_envelope(audio: F32, times: F64, sample_rate: int = 16000, lead_s: float = 0.04) -> F64:
    """Speech-band energy (dB above floor, clipped at 0) around each video frame time."""
    e = energy_db(audio, sample_rate)
    floor = float(np.percentile(e, 10))
    env = np.clip(e - floor, 0.0, None)
    idx = np.clip(np.round((times + lead_s) * sample_rate / HOP).astype(int), 0, len(env) - 1)
    win = 4  # ±40 ms, about one frame at 15 fps
    return np.array([env[max(0, i - win): i + win + 1].mean() for i in idx])


def _median3(x: F64) -> F64:
    """3-frame running median, NaN where the input is NaN; a NaN neighbour leaves the frame as it is."""
    out = np.asarray(x, dtype=np.float64).copy()
    if len(out) < 3:
        return out
    window = np.stack([x[:-2], x[1:-1], x[2:]])
    whole = ~np.isnan(window).any(axis=0)
    out[1:-1][whole] = np.median(window[:, whole], axis=0)
    return out


def av_sync(mouth: F64, audio: F32, times: F64, sample_rate: int = 16000, max_lag: int = 2) -> float:
    """Best Pearson correlation of mouth opening and voice energy within ±``max_lag`` frames.

    A dubbed photo has a mouth that does not move (correlation ~0); a recording dubbed with
    another take moves the mouth at the wrong moments. The mouth ratio is first median-filtered
    over 3 frames: on some faces the mesh's lip landmarks jitter by ±0.03 from frame to frame at
    rest (ocv_actress_a, whose photo shows parted lips), which drowned the openings. Measured on
    tuning renders (timed readings, zh and en): ocv_actress_a's genuine correlation 0.30–0.80
    raw, 0.49–0.84 filtered; grace_hopper's unchanged (0.95–0.97); her own steady-pace talking
    video dubbed with an on-schedule reading's audio −0.28–0.22 either way.
    """
    voice = voice_envelope(audio, times, sample_rate)
    mouth = _median3(mouth)
    ok = ~np.isnan(mouth)
    if ok.sum() < 8 or np.std(voice[ok]) < 1e-6:
        return 0.0
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        m = np.roll(mouth, lag)
        sel = ok & np.roll(ok, lag)
        if lag > 0:
            sel[:lag] = False
        elif lag < 0:
            sel[lag:] = False
        if sel.sum() < 8 or np.std(m[sel]) < 1e-9 or np.std(voice[sel]) < 1e-9:
            continue
        best = max(best, float(np.corrcoef(m[sel], voice[sel])[0, 1]))
    return best if best > -1.0 else 0.0


_default: dict[str, DigitRecognizer] = {}


def default_recognizers() -> dict[str, DigitRecognizer]:
    """Recognizers available offline in this install: English digits, and the Mandarin digit
    verifier for timed readings (see docs/liveness.md). Models load on first use."""
    if not _default:
        _default["en"] = PocketsphinxDigits()
        _default["zh"] = PocketsphinxMandarinDigits()
    return dict(_default)


def voice_segments(audio: F32, sample_rate: int = 16000, *, bridge_s: float = 0.15,
                   min_s: float = 0.06) -> list[tuple[float, float]]:
    """Stretches of voice (onset, offset) in seconds: energy onset segmentation of the speech band.

    A 10 ms frame is voice when it is 15 dB over the recording's noise floor (``speech_mask``);
    pauses shorter than ``bridge_s`` are bridged (the stop in "six", the dip in "seven" are
    inside one word), bursts shorter than ``min_s`` are clicks. Each digit read alone after its
    prompt is one segment, in Mandarin and in English alike.
    """
    if len(audio) < HOP * 4:
        return []
    mask = speech_mask(audio, sample_rate).astype(bool)
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    bridge = int(round(bridge_s * sample_rate / HOP))
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= bridge:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    shortest = int(round(min_s * sample_rate / HOP))
    step = HOP / sample_rate
    return [(a * step, b * step) for a, b in merged if b - a >= shortest]
