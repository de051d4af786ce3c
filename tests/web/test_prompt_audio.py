"""The bundled spoken prompts: one recording per prompt and language, made from today's texts."""

from __future__ import annotations

import json

import pytest

from pensioncert.web import audio
from pensioncert.web.pages import bundled_audio


def test_every_spoken_prompt_is_bundled_in_both_languages() -> None:
    assert sorted(audio.SPOKEN) == bundled_audio()
    for code in audio.SPOKEN:
        for lang in ("zh", "en"):
            data = (audio.AUDIO_DIR / lang / f"{code}.mp3").read_bytes()
            assert data[:3] == b"ID3" or data[0] == 0xFF, (code, lang)  # an MP3 stream
            assert 1_000 < len(data) < 25_000, (code, lang, len(data))


def test_recordings_say_the_current_catalogue_text() -> None:
    """A reworded prompt needs new recordings (python -m pensioncert.web.audio)."""
    manifest = json.loads(audio.MANIFEST.read_text(encoding="utf-8"))
    assert manifest == {code: audio.texts(code) for code in audio.SPOKEN}


def test_pinyin_reads_each_chinese_prompt() -> None:
    for code in audio.SPOKEN:
        audio.check_pinyin(code, audio.PINYIN[code], audio.texts(code)["zh"])


def test_wrong_pinyin_is_refused() -> None:
    with pytest.raises(ValueError, match="syllables"):
        audio.check_pinyin("x", "qing3 zha3 yan3", "请眨眨眼")
    with pytest.raises(ValueError, match="pinyin"):
        audio.check_pinyin("x", "qing3 zhx3 zha3 yan3", "请眨眨眼")
