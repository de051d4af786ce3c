"""Mandarin digit content (timed readings): each voiced digit verified against the one asked for.

The verifier is pocketsphinx's English acoustic model with a Mandarin digit lexicon; these
tests use espeak-ng's ``cmn`` voice with fixed seeds (deterministic), the voice the margin was
chosen on, so they show that the mechanism works, not how well it does on people.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pensioncert.liveness import analyse_recording, parse_challenge
from pensioncert.liveness.speech import (
    DigitRecognizerUnavailable,
    PocketsphinxMandarinDigits,
    SegmentDigitVerifier,
    default_recognizers,
    voice_segments,
)
from pensioncert.settings import LivenessSettings, Settings
from tests.liveness.conftest import TIMED_DIGITS_ZH, as_media

ONSETS = (1.0, 2.2, 3.3, 4.6)


@pytest.fixture(scope="module")
def verifier() -> PocketsphinxMandarinDigits:
    return PocketsphinxMandarinDigits()


def _reading(digits: str, seed: int) -> np.ndarray:
    """A timed reading: one digit after each prompt, espeak cmn at a speed and pitch drawn from ``seed``."""
    from pensioncert.synth.audio import speak_digits

    return speak_digits(digits, 6 * 15, 15.0, "zh", np.random.default_rng(seed), onsets=ONSETS).audio


def _digits(seed: int) -> str:
    return "".join(str(d) for d in np.random.default_rng(100 + seed).integers(0, 10, 4))


def _shifted(digits: str, by: int) -> str:
    """Another four digits, each position different from ``digits``."""
    return "".join(str((int(d) + by) % 10) for d in digits)


def test_the_default_mandarin_recognizer_is_a_segment_verifier() -> None:
    zh = default_recognizers()["zh"]
    assert zh.language == "zh" and isinstance(zh, SegmentDigitVerifier)
    assert not isinstance(default_recognizers()["en"], SegmentDigitVerifier)


def test_readings_verify_their_digits_and_refuse_others(verifier: PocketsphinxMandarinDigits) -> None:
    for seed in range(6):
        said = _digits(seed)
        audio = _reading(said, seed)
        segments = voice_segments(audio, 16000)
        assert len(segments) == 4
        own = verifier.verify_segments(audio, 16000, segments, said)
        assert sum(c.verified for c in own) >= 3, (said, own)
        for by in (3, 7):
            other = verifier.verify_segments(audio, 16000, segments, _shifted(said, by))
            assert sum(c.verified for c in other) < 3, (said, by, other)


def test_each_digit_of_the_tuning_voice(verifier: PocketsphinxMandarinDigits) -> None:
    from pensioncert.evaluation.mandarin import render_digit

    accepted = np.zeros((10, 10), bool)
    for d in range(10):
        audio = render_digit(str(d), "cmn", 150, 55, seed=d)
        segments = voice_segments(audio, 16000)
        assert len(segments) == 1
        for asked in range(10):
            accepted[d, asked] = verifier.verify_segments(audio, 16000, segments, str(asked))[0].verified
    assert np.diag(accepted).sum() >= 9
    assert accepted[~np.eye(10, dtype=bool)].sum() <= 9  # tuning split: 4 % of other digits accepted


def test_verification_is_deterministic(verifier: PocketsphinxMandarinDigits) -> None:
    audio = _reading("2468", 9)
    segments = voice_segments(audio, 16000)
    runs = {tuple(verifier.verify_segments(audio, 16000, segments, "2468")) for _ in range(3)}
    assert len(runs) == 1
    assert PocketsphinxMandarinDigits().recognise(audio, 16000).heard == verifier.recognise(audio, 16000).heard


def test_a_model_that_cannot_load_is_an_error() -> None:
    broken = PocketsphinxMandarinDigits(lexicon={**PocketsphinxMandarinDigits.LEXICON, "qi": ("XX IY",)})
    audio = _reading("1079", 1)
    with pytest.raises(DigitRecognizerUnavailable) as raised:
        broken.verify_segments(audio, 16000, voice_segments(audio, 16000), "1079")
    assert raised.value.code == "liveness.digit_recognizer_unavailable"


def _analyse(clip: Any, spec: str, *, settings: Settings | None = None, recognizers: Any = None) -> Any:
    return analyse_recording(as_media(clip), parse_challenge(spec, language="zh", allow_untimed=True), None,
                             settings=settings, recognizers=recognizers, face_engine=False,
                             require_identity=False)


def test_a_genuine_timed_mandarin_reading_passes_with_its_digits_verified(timed_digits_zh: dict[str, Any]) -> None:
    verdict = _analyse(timed_digits_zh["timed"], TIMED_DIGITS_ZH)
    assert verdict.passed, verdict.reasons
    challenge = verdict.checks["challenge"]
    assert challenge["verifier"] == "PocketsphinxMandarinDigits"
    assert challenge["digits_verified"] >= 3 and len(challenge["digit_checks"]) == 4


def test_a_timed_reading_of_other_digits_fails(timed_digits_zh: dict[str, Any]) -> None:
    """The replay the timing alone let through: a reading of other digits whose timing fits."""
    schedule = TIMED_DIGITS_ZH.split("@")[1]
    for other in ("5213", "8356"):  # every position different from 1079
        verdict = _analyse(timed_digits_zh["timed"], f"digits:{other}@{schedule}")
        assert not verdict.passed and verdict.reasons == ["liveness.digits_not_heard"], (other, verdict.checks)
        assert verdict.checks["challenge"]["digits_verified"] < 3


def test_the_setting_turns_the_content_check_off(timed_digits_zh: dict[str, Any]) -> None:
    schedule = TIMED_DIGITS_ZH.split("@")[1]
    off = Settings(liveness=LivenessSettings(mandarin_digit_min_verified=0))
    broken = PocketsphinxMandarinDigits(lexicon={**PocketsphinxMandarinDigits.LEXICON, "qi": ("XX IY",)})
    verdict = _analyse(timed_digits_zh["timed"], f"digits:5213@{schedule}", settings=off,
                       recognizers={"zh": broken})  # off: the verifier is not even loaded
    assert verdict.passed, verdict.reasons
    assert "verifier" not in verdict.checks["challenge"]


def test_a_verifier_that_cannot_load_fails_the_analysis(timed_digits_zh: dict[str, Any]) -> None:
    broken = PocketsphinxMandarinDigits(lexicon={**PocketsphinxMandarinDigits.LEXICON, "qi": ("XX IY",)})
    with pytest.raises(DigitRecognizerUnavailable):
        _analyse(timed_digits_zh["timed"], TIMED_DIGITS_ZH, recognizers={"zh": broken})


def test_untimed_mandarin_digits_still_fail_with_the_verifier(timed_digits_zh: dict[str, Any]) -> None:
    verdict = _analyse(timed_digits_zh["timed"], "digits:1079")
    assert not verdict.passed and verdict.reasons == ["liveness.digits_not_heard"]
